"""The TF baseline's layers: shared Tucker factors and a task's conv layer.

See docs/method.md, section 'Baselines', and `dfcnn_tf.models.tucker` for the
factorisation `W_t = G x_1 U1 x_2 U2 x_3 U3 x_4 U4 x_5 u5_t`.
"""

import keras
import numpy as np
import tensorflow as tf

from dfcnn_tf.layers import sharing
from dfcnn_tf.layers.defaults import DEFAULT_BIAS
from dfcnn_tf.precision import compute_cast

SHARED_MODES = 4  # modes (k, k, c_in, c_out) whose factors all tasks share


def _check_positive(owner, field, value):
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ValueError(
            f"{owner} {field} must be a positive integer. Received: {field}={value!r}"
        )


@keras.saving.register_keras_serializable(package="dfcnn_tf")
class TuckerFactors(keras.layers.Layer):
    """Owner of one conv layer's shared Tucker core and factors U1..U4.

    Args:
        kernel_size: spatial size `k` of the task kernels.
        input_channels: input channels `c_in` of the conv layer.
        filters: output channels `c_out` of the conv layer.
        ranks: the five Tucker ranks `(r1, r2, r3, r4, r5)`; `r5` is the
            length of every task's factor row.
        initializer: initializer of the core and factors (the model
            overwrites them with a decomposition).

    Raises:
        ValueError: if a size or rank is not a positive integer, or one of
            `r1..r4` exceeds its mode's size.
    """

    def __init__(
        self,
        kernel_size,
        input_channels,
        filters,
        ranks,
        initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.kernel_size = kernel_size
        self.input_channels = input_channels
        self.filters = filters
        self.ranks = tuple(ranks)
        self._validate()
        self.initializer = keras.initializers.get(initializer)

    def _validate(self):
        for field in ("kernel_size", "input_channels", "filters"):
            _check_positive("TuckerFactors", field, getattr(self, field))
        for rank in self.ranks:
            _check_positive("TuckerFactors", "rank", rank)
        sizes = self.mode_sizes
        if len(self.ranks) != SHARED_MODES + 1 or any(
            rank > size for rank, size in zip(self.ranks, sizes, strict=False)
        ):
            raise ValueError(
                "TuckerFactors needs 5 ranks, r1..r4 at most the mode sizes "
                f"{sizes}. Received: ranks={self.ranks}"
            )

    @property
    def mode_sizes(self):
        """Sizes `(k, k, c_in, c_out)` of the four shared modes."""
        k = self.kernel_size
        return (k, k, self.input_channels, self.filters)

    def build(self, input_shape=None):
        self.core = self.add_weight(
            name="core", shape=self.ranks, initializer=self.initializer
        )
        self.factors = []  # U_n (I_n, r_n) for the modes (k, k, c_in, c_out)
        for mode, size in enumerate(self.mode_sizes):
            shape, name = (size, self.ranks[mode]), f"factor_{mode + 1}"
            self.factors.append(
                self.add_weight(name=name, shape=shape, initializer=self.initializer)
            )

    def assign_decomposition(self, core, factors):
        """Sets the core `(r1..r5)` and `U1..U4` (each `(I_n, r_n)`) from arrays."""
        self.core.assign(np.asarray(core, dtype="float32"))
        for variable, value in zip(self.factors, factors, strict=True):
            variable.assign(np.asarray(value, dtype="float32"))

    def call(self, inputs=None):
        """Returns `(core, [U1, U2, U3, U4])`; `inputs` is ignored."""
        return self.core, list(self.factors)

    def get_config(self):
        config = super().get_config()
        config.update(
            kernel_size=self.kernel_size,
            input_channels=self.input_channels,
            filters=self.filters,
            ranks=list(self.ranks),
            initializer=keras.initializers.serialize(self.initializer),
        )
        return config


@keras.saving.register_keras_serializable(package="dfcnn_tf")
class TuckerConv2D(keras.layers.Layer):
    """One task's conv layer, generating its kernel from shared Tucker factors.

    Args:
        factors: the layer's shared `TuckerFactors`, passed by reference.
        activation: activation of the conv output.
        task_factor_initializer: initializer of the task row `u5 (r5,)` (the
            model overwrites it with a row of the decomposition).
        bias_initializer: initializer of the conv bias (default 0.2).

    Input shape:
        `(batch, height, width, factors.input_channels)`.

    Output shape:
        `(batch, height, width, factors.filters)`.
    """

    def __init__(
        self,
        factors,
        activation="relu",
        task_factor_initializer="glorot_uniform",
        bias_initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(factors, TuckerFactors):
            raise ValueError(
                "TuckerConv2D factors must be a TuckerFactors layer. "
                f"Received: factors={factors!r}"
            )
        self.factors = factors
        sharing.register_holder(factors, self)
        self.activation = keras.activations.get(activation)
        self.task_factor_initializer = keras.initializers.get(task_factor_initializer)
        self.bias_initializer = keras.initializers.get(
            bias_initializer or keras.initializers.Constant(DEFAULT_BIAS)
        )

    def build(self, input_shape):
        if int(input_shape[-1]) != self.factors.input_channels:
            raise ValueError(
                f"TuckerConv2D expects {self.factors.input_channels} input channels "
                f"(its factors'). Received: input_shape={tuple(input_shape)}"
            )
        if not self.factors.built:
            self.factors.build()
        self.task_factor = self.add_weight(
            name="task_factor",
            shape=(self.factors.ranks[-1],),
            initializer=self.task_factor_initializer,
        )
        self.bias = self.add_weight(
            name="bias",
            shape=(self.factors.filters,),
            initializer=self.bias_initializer,
        )

    @property
    def task_weights(self):
        """This task's own weights: its factor row and conv bias."""
        return [self.task_factor, self.bias]

    def generate_kernel(self):
        """The task's kernel `(k, k, c_in, c_out)` from the shared factors."""
        core, (u1, u2, u3, u4) = self.factors.core, self.factors.factors
        # G (r1..r5), U1 (k, r1), U2 (k, r2), U3 (c_in, r3), U4 (c_out, r4),
        # u5 (r5,) -> W_t (k, k, c_in, c_out)
        return tf.einsum(
            "abcde,ia,jb,kc,ld,e->ijkl", core, u1, u2, u3, u4, self.task_factor
        )

    def convolve(self, inputs, kernel):
        """`act(conv2d(inputs, kernel, stride 1, SAME) + bias)` (compute dtype)."""
        inputs, kernel, bias = compute_cast(self, inputs, kernel, self.bias)
        outputs = tf.nn.conv2d(inputs, kernel, strides=1, padding="SAME")
        return self.activation(tf.nn.bias_add(outputs, bias))

    def call(self, inputs):
        return self.convolve(inputs, self.generate_kernel())

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.factors.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            factors=sharing.serialize_shared(self.factors),
            activation=keras.activations.serialize(self.activation),
            task_factor_initializer=keras.initializers.serialize(
                self.task_factor_initializer
            ),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        name = f"TuckerConv2D '{config.get('name')}'"
        config["factors"] = sharing.deserialize_shared(
            config["factors"], TuckerFactors, name, "factors"
        )
        return cls(**config)
