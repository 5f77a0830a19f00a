"""ProgNN's conv layer with lateral adapters from earlier columns.

See docs/method.md, section 'Baselines', and `dfcnn_tf.models.prognn`.
"""

import keras
import tensorflow as tf

from dfcnn_tf.layers.defaults import DEFAULT_BIAS, DENSE_STDDEV


def _fresh(initializer):
    """A new instance of `initializer`: an unseeded Keras 3 initializer
    instance returns the same values on every call, so each weight gets its own.
    """
    return initializer.__class__.from_config(initializer.get_config())


def _validate_sizes(filters, kernel_size, num_laterals, lateral_channels):
    """Raises ValueError, naming the argument, for sizes `LateralConv2D` rejects."""
    for field, value in (("filters", filters), ("kernel_size", kernel_size)):
        if not isinstance(value, int) or value <= 0:
            raise ValueError(
                f"LateralConv2D {field} must be a positive int. "
                f"Received: {field}={value!r}"
            )
    if not isinstance(num_laterals, int) or num_laterals < 0:
        raise ValueError(
            "LateralConv2D num_laterals must be an int >= 0. "
            f"Received: num_laterals={num_laterals!r}"
        )
    if num_laterals > 0 and not (
        isinstance(lateral_channels, int) and lateral_channels > 0
    ):
        raise ValueError(
            "LateralConv2D lateral_channels must be a positive int when "
            f"num_laterals > 0: an adapter needs channels. Received: "
            f"lateral_channels={lateral_channels!r}, num_laterals={num_laterals}"
        )


@keras.saving.register_keras_serializable(package="dfcnn_tf")
class LateralConv2D(keras.layers.Layer):
    """A progressive column's conv layer with lateral adapters from earlier columns.

    Computes `relu(conv(h, W) + b + sum_j U_j * relu(V_j * (alpha_j * h_j) + c_j))`
    with stride 1 and SAME padding everywhere.

    Args:
        filters: output channels `c_out`.
        kernel_size: spatial size `k` of `W` and of every `U_j`.
        num_laterals: number of earlier columns feeding this layer (0 = none).
        lateral_channels: channels `nic` of each adapter's 1x1 conv `V_j`;
            required (positive) when `num_laterals > 0`.
        kernel_initializer: initializer of `W`, `alpha_j`, `V_j` and `U_j`.
        bias_initializer: initializer of `b` and `c_j`.

    Input shape:
        A list `[h, h_0, ..., h_{num_laterals-1}]` of tensors
        `(batch, height, width, channels)` with the same height and width.

    Output shape:
        `(batch, height, width, filters)`.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        num_laterals=0,
        lateral_channels=None,
        kernel_initializer=None,
        bias_initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        _validate_sizes(filters, kernel_size, num_laterals, lateral_channels)
        self.filters = filters
        self.kernel_size = kernel_size
        self.num_laterals = num_laterals
        self.lateral_channels = lateral_channels
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer
            or keras.initializers.TruncatedNormal(stddev=DENSE_STDDEV)
        )
        self.bias_initializer = keras.initializers.get(
            bias_initializer or keras.initializers.Constant(DEFAULT_BIAS)
        )

    def build(self, input_shape):
        shapes = list(input_shape)
        if len(shapes) != 1 + self.num_laterals:
            raise ValueError(
                f"LateralConv2D expects a list of 1 + num_laterals = "
                f"{1 + self.num_laterals} inputs. Received: {len(shapes)} input shapes"
            )
        k = self.kernel_size
        self.kernel = self._weight("kernel", (k, k, int(shapes[0][-1]), self.filters))
        self.bias = self._weight("bias", (self.filters,), bias=True)
        self.alphas, self.adapter_kernels = [], []
        self.adapter_biases, self.lateral_kernels = [], []
        nic = self.lateral_channels
        for j, shape in enumerate(shapes[1:]):
            self.alphas.append(self._weight(f"lateral{j}_alpha", (1,)))
            self.adapter_kernels.append(
                self._weight(f"lateral{j}_adapter_kernel", (1, 1, int(shape[-1]), nic))
            )
            self.adapter_biases.append(
                self._weight(f"lateral{j}_adapter_bias", (nic,), bias=True)
            )
            self.lateral_kernels.append(
                self._weight(f"lateral{j}_kernel", (k, k, nic, self.filters))
            )

    def _weight(self, name, shape, bias=False):
        initializer = self.bias_initializer if bias else self.kernel_initializer
        return self.add_weight(name=name, shape=shape, initializer=_fresh(initializer))

    def lateral(self, j, features):
        """Adapter j: `U_j * relu(V_j * (alpha_j * h_j) + c_j)`, `(b, h, w, c_out)`."""
        scaled = self.alphas[j] * features
        reduced = tf.nn.conv2d(scaled, self.adapter_kernels[j], 1, padding="SAME")
        reduced = tf.nn.relu(reduced + self.adapter_biases[j])
        return tf.nn.conv2d(reduced, self.lateral_kernels[j], 1, padding="SAME")

    def call(self, inputs):
        own, *laterals = inputs
        outputs = tf.nn.conv2d(own, self.kernel, 1, padding="SAME") + self.bias
        for j, features in enumerate(laterals):
            outputs += self.lateral(j, features)
        return tf.nn.relu(outputs)

    def compute_output_shape(self, input_shape):
        return (*list(input_shape)[0][:-1], self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            num_laterals=self.num_laterals,
            lateral_channels=self.lateral_channels,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
        )
        return config
