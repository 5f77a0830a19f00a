"""The DF-CNN convolution layer of one task (paper Eq. 1-2).

See docs/method.md, section 'The DF-CNN layer'.

A task's conv kernel is generated from the layer's shared knowledge base `L`:

    D = conv2d_transpose(L, V, stride s, SAME) + b_D     # (d, k, k, c), as matmuls
    D = activation(D)                                   # optional, none by default
    W = contract(D, task transforms)                    # (k, k, c_in, c_out)
    y = relu(conv2d(x, W, stride 1, SAME) + b)

The contraction is the only part that differs between the DF-CNN and its two
ablations of appendix A, so the three are one layer with a `variant` argument:

- `dfcnn`: `W[h, w, i, o] = sum_k D[0, h, w, k] U[k, i, o]`
- `direct`: `D` has `c_in * c_out` channels and is reshaped to `W`
- `tc2`: `W[h, w, i, o] = sum_{d, c} D[d, h, w, c] U1[d, i] U2[c, o]`

Layers holding one knowledge base serialize it with a shared id, so a saved
model restores one base and one variable (`dfcnn_tf.layers.sharing`).
"""

import typing

import keras
import tensorflow as tf

from dfcnn_tf.layers.deconv import scatter_matrix, transposed_conv
from dfcnn_tf.layers.knowledge_base import KnowledgeBase
from dfcnn_tf.layers.sharing import (
    deserialize_shared,
    register_holder,
    serialize_shared,
)
from dfcnn_tf.precision import compute_cast


def released_bias_initializer():
    """Glorot-uniform of a bias `(n,)` drawn as the released code draws it.

    The released code stores the DF-CNN conv bias and deconvolution bias as
    `(1, 1, 1, n)` variables with TF1's default Glorot-uniform initializer,
    whose fans for that shape are fan_in = 1 and fan_out = n: the limit is
    `sqrt(6 / (1 + n))` (0.43 for n = 32, 0.30 for n = 64). Over `(n,)` itself
    TF1 and Keras both count fan_in = fan_out = n (limit `sqrt(3 / n)`), so the
    fans are given explicitly. docs/method.md, section "Initialisation".
    """
    return keras.initializers.GlorotUniform(input_axes=[], output_axes=[0])


def _build_tensor(layer, input_channels):
    layer.contraction = layer.add_weight(
        name="contraction",
        shape=(layer.transform_channels, input_channels, layer.filters),
        initializer=fresh(layer.transform_initializer),
    )


def _contract_tensor(layer, deconv):
    # W = einsum("hwk,kio->hwio", D, U), written as the one matrix product it is:
    # D: (1, k, k, c) -> (k*k, c); U: (c, c_in, c_out) -> (c, c_in*c_out)
    k, channels = layer.kernel_size, layer.transform_channels
    kernel = tf.matmul(
        tf.reshape(deconv, (k * k, channels)),
        tf.reshape(layer.contraction, (channels, -1)),
    )
    return tf.reshape(kernel, (k, k, layer.input_channels, layer.filters))


def _build_direct(layer, input_channels):
    del layer, input_channels  # the deconvolution output is the kernel itself


def _contract_direct(layer, deconv):
    # deconv: (1, k, k, c_in * c_out) -> (k, k, c_in, c_out)
    k = layer.kernel_size
    return tf.reshape(deconv[0], (k, k, layer.input_channels, layer.filters))


def _build_tc2(layer, input_channels):
    layer.depth_contraction = layer.add_weight(
        name="depth_contraction",
        shape=(layer.knowledge_base.depth, input_channels),
        initializer=fresh(layer.transform_initializer),
    )
    layer.channel_contraction = layer.add_weight(
        name="channel_contraction",
        shape=(layer.transform_channels, layer.filters),
        initializer=fresh(layer.transform_initializer),
    )


def _contract_tc2(layer, deconv):
    # deconv: (d, k, k, c); U1: (d, c_in); U2: (c, c_out) -> (k, k, c_in, c_out)
    return tf.einsum(
        "dhwc,di,co->hwio", deconv, layer.depth_contraction, layer.channel_contraction
    )


class Variant(typing.NamedTuple):
    """How one variant creates its contraction weights and contracts D into W."""

    build: typing.Callable
    contract: typing.Callable
    deconv_is_kernel: bool  # D has c_in * c_out channels (no transform_channels)
    depth_slices: bool  # the knowledge base may have depth > 1


VARIANTS = {
    "dfcnn": Variant(_build_tensor, _contract_tensor, False, False),
    "direct": Variant(_build_direct, _contract_direct, True, False),
    "tc2": Variant(_build_tc2, _contract_tc2, False, True),
}


def fresh(initializer):
    """A new instance of `initializer`: an unseeded Keras initializer repeats its
    values on every call, so each weight gets its own draw."""
    return initializer.__class__.from_config(initializer.get_config())


def _new_initializer(identifier):
    """A new initializer for one weight: `None` is `released_bias_initializer()`.

    A name or config is resolved only here, so that building a layer draws
    the same Keras default seeds as before the bias initializers were options.
    """
    if identifier is None:
        return released_bias_initializer()
    if isinstance(identifier, str | dict):
        return keras.initializers.get(identifier)
    return fresh(keras.initializers.get(identifier))


def _serialize_initializer(identifier):
    if identifier is None or isinstance(identifier, str | dict):
        return identifier
    return keras.initializers.serialize(keras.initializers.get(identifier))


def _check_positive(field, value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(
            f"DFConv2D {field} must be a positive integer. Received: {field}={value!r}"
        )


@keras.saving.register_keras_serializable(package="dfcnn_tf")
class DFConv2D(keras.layers.Layer):
    """One task's DF-CNN conv layer, generating its kernel from a shared KB.

    Args:
        filters: number of output channels `c_out`.
        kernel_size: spatial size `k` of the generated kernel; must equal
            `(knowledge_base.size - 1) * deconv_stride + 1`.
        knowledge_base: the layer's shared `KnowledgeBase`, passed by reference.
        transform_size: spatial size `p` of the deconvolution filter `V`.
        transform_channels: channels `c` of `D` (`None` for `direct`, where
            `D` has `c_in * c_out` channels).
        variant: "dfcnn", "direct" or "tc2".
        deconv_stride: stride `s` of the transposed convolution.
        deconv_activation: activation applied to `D` (none in the paper).
        activation: activation of the conv output.
        transform_initializer: initializer of `V` and the contractions.
        bias_initializer: initializer of the conv bias `b`; `None`:
            `released_bias_initializer()`.
        deconv_bias_initializer: initializer of the deconvolution bias `b_D`;
            `None`: `released_bias_initializer()`.

    Input shape:
        `(batch, height, width, c_in)`.

    Output shape:
        `(batch, height, width, filters)`.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        knowledge_base,
        transform_size=3,
        transform_channels=None,
        variant="dfcnn",
        deconv_stride=2,
        deconv_activation=None,
        activation="relu",
        transform_initializer="glorot_uniform",
        bias_initializer=None,
        deconv_bias_initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(knowledge_base, KnowledgeBase):
            raise ValueError(
                "DFConv2D knowledge_base must be a KnowledgeBase layer. "
                f"Received: knowledge_base={knowledge_base!r}"
            )
        self.knowledge_base = knowledge_base
        register_holder(knowledge_base, self)
        self.filters = filters
        self.kernel_size = kernel_size
        self.transform_size = transform_size
        self.transform_channels = transform_channels
        self.variant = variant
        self.deconv_stride = deconv_stride
        self._validate()
        self.deconv_activation = keras.activations.get(deconv_activation)
        self.activation = keras.activations.get(activation)
        self.transform_initializer = keras.initializers.get(transform_initializer)
        # Resolved in build(), one new instance per weight (see `_new_initializer`).
        self.bias_initializer = bias_initializer
        self.deconv_bias_initializer = deconv_bias_initializer

    def _validate(self):
        if self.variant not in VARIANTS:
            raise ValueError(
                f"DFConv2D variant must be one of {sorted(VARIANTS)}. "
                f"Received: variant={self.variant!r}"
            )
        for field in ("filters", "kernel_size", "transform_size", "deconv_stride"):
            _check_positive(field, getattr(self, field))
        self._validate_sizes()

    def _validate_sizes(self):
        kb = self.knowledge_base
        expected = (kb.size - 1) * self.deconv_stride + 1
        if self.kernel_size != expected:
            raise ValueError(
                "DFConv2D kernel_size must equal (knowledge_base.size - 1) * "
                f"deconv_stride + 1 = ({kb.size} - 1) * {self.deconv_stride} + 1 "
                f"= {expected}. Received: kernel_size={self.kernel_size}, "
                f"knowledge_base.size={kb.size}, deconv_stride={self.deconv_stride}"
            )
        variant = VARIANTS[self.variant]
        if variant.deconv_is_kernel:
            if self.transform_channels is not None:
                raise ValueError(
                    "DFConv2D variant 'direct' derives transform_channels from "
                    "c_in * filters; leave it None. "
                    f"Received: transform_channels={self.transform_channels}"
                )
        else:
            _check_positive("transform_channels", self.transform_channels)
        if not variant.depth_slices and kb.depth != 1:
            raise ValueError(
                f"DFConv2D variant {self.variant!r} needs a knowledge base of depth 1 "
                f"(only 'tc2' has depth slices). Received: knowledge_base.depth="
                f"{kb.depth}"
            )

    def build(self, input_shape):
        self.input_channels = int(input_shape[-1])
        if not self.knowledge_base.built:
            self.knowledge_base.build()
        channels = self.deconv_channels
        self.deconv_filter = self.add_weight(
            name="deconv_filter",
            shape=(
                self.transform_size,
                self.transform_size,
                channels,
                self.knowledge_base.channels,
            ),
            initializer=fresh(self.transform_initializer),
        )
        self.deconv_bias = self.add_weight(
            name="deconv_bias",
            shape=(channels,),
            initializer=_new_initializer(self.deconv_bias_initializer),
        )
        VARIANTS[self.variant].build(self, self.input_channels)
        self.bias = self.add_weight(
            name="bias",
            shape=(self.filters,),
            initializer=_new_initializer(self.bias_initializer),
        )
        self.scatter = scatter_matrix(
            self.knowledge_base.size,
            self.kernel_size,
            self.deconv_stride,
            self.transform_size,
        )

    @property
    def deconv_channels(self):
        """Channels of the deconvolution output `D` (needs the built input size)."""
        if VARIANTS[self.variant].deconv_is_kernel:
            return self.input_channels * self.filters
        return self.transform_channels

    @property
    def task_weights(self):
        """This task's own weights: every weight except the shared knowledge base."""
        shared = {id(w) for w in self.knowledge_base.weights}
        return [w for w in self.weights if id(w) not in shared]

    def deconvolve(self):
        """Eq. 1: `D = act(conv2d_transpose(L, V) + b_D)`, shape `(d, k, k, c)`.

        The transposed convolution is computed as matrix products with the
        constant `self.scatter` (see `dfcnn_tf.layers.deconv`).
        """
        kb, k = self.knowledge_base, self.kernel_size
        deconv = transposed_conv(kb.kernel, self.deconv_filter, self.scatter)
        deconv = tf.reshape(deconv + self.deconv_bias, (kb.depth, k, k, -1))
        return self.deconv_activation(deconv)

    def generate_kernel(self):
        """Eq. 1-2: the task's conv kernel, shape `(k, k, c_in, filters)`."""
        return VARIANTS[self.variant].contract(self, self.deconvolve())

    def convolve(self, inputs, kernel):
        """Eq. 2: `act(conv2d(inputs, kernel, stride 1, SAME) + b)`, in the
        layer's compute dtype (the kernel is generated in float32)."""
        inputs, kernel, bias = compute_cast(self, inputs, kernel, self.bias)
        outputs = tf.nn.conv2d(inputs, kernel, strides=1, padding="SAME")
        return self.activation(outputs + bias)

    def call(self, inputs):
        return self.convolve(inputs, self.generate_kernel())

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            knowledge_base=serialize_shared(self.knowledge_base),
            transform_size=self.transform_size,
            transform_channels=self.transform_channels,
            variant=self.variant,
            deconv_stride=self.deconv_stride,
            deconv_activation=keras.activations.serialize(self.deconv_activation),
            activation=keras.activations.serialize(self.activation),
            transform_initializer=keras.initializers.serialize(
                self.transform_initializer
            ),
            bias_initializer=_serialize_initializer(self.bias_initializer),
            deconv_bias_initializer=_serialize_initializer(
                self.deconv_bias_initializer
            ),
        )
        return config

    @classmethod
    def from_config(cls, config):
        """The layer of `get_config()`; a shared base stays shared (`sharing`).

        Raises:
            ValueError: if the knowledge base is marked as shared and no
                sharing scope is open (`dfcnn_tf.layers.sharing`).
        """
        config = dict(config)
        config["knowledge_base"] = deserialize_shared(
            config["knowledge_base"],
            KnowledgeBase,
            f"DFConv2D '{config.get('name')}'",
            "knowledge_base",
        )
        return cls(**config)
