"""Progressive Neural Networks (Rusu et al. 2016, section 2, "ProgNN").

See docs/method.md, section 'Baselines'.

Every task adds a new column: a full conv stack plus its own FC head. Conv
layer l >= 2 of column t also reads, through one lateral adapter per earlier
column j < t, the tensor that column j's layer l - 1 passed on (after its
pooling). As in the authors' released code, an adapter is

    a_j = U_j * relu(V_j * (alpha_j * h_j) + c_j)

with a scalar `alpha_j`, a 1x1 conv `V_j` (c_in -> nic) with bias `c_j`, and
a k x k conv `U_j` (nic -> c_out, no bias), all SAME, where
`nic = int(c_in / (lateral_reduction * (t + 1)))` for the 0-based column t.
The first conv layer and the FC head have no laterals. Earlier columns are
frozen: task t trains column t only, and their activations enter column t
through `tf.stop_gradient`. Task t's logits use columns 0..t alone, so an
earlier task's output never changes when later columns are added or trained.

Initialisation follows the other baselines: conv kernels, `alpha`, `V` and
`U` truncated normal (stddev 0.05); the conv bias and `c` constant 0.2.
"""

import keras
import tensorflow as tf

from dfcnn_tf.errors import ConfigError
from dfcnn_tf.models.base import LifelongModel
from dfcnn_tf.models.blocks import build_sequential
from dfcnn_tf.models.heads import DEFAULT_BIAS, DENSE_STDDEV, task_head
from dfcnn_tf.registry import register_model


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


def lateral_channels(input_channels, reduction, column, layer):
    """Adapter width `nic = int(c_in / (reduction * (column + 1)))`.

    Args:
        input_channels: input channels `c_in` of the conv layer.
        reduction: `ProgNNOptions.lateral_reduction`.
        column: 0-based index of the new column.
        layer: 0-based index of the conv layer (for the error message).

    Returns:
        The positive number of adapter channels.

    Raises:
        ConfigError: if the adapter would have no channels.
    """
    nic = int(input_channels / (reduction * (column + 1)))
    if nic <= 0:
        raise ConfigError(
            f"ProgNN column {column}, conv layer {layer + 1}: its lateral adapters "
            f"would have no channels, int(c_in / (lateral_reduction * (column + 1))) "
            f"= int({input_channels} / ({reduction} * {column + 1})) = {nic}. Use a "
            "smaller model.prognn.lateral_reduction, wider conv layers or fewer tasks."
        )
    return nic


@register_model("prognn")
class ProgressiveNetwork(LifelongModel):
    """One column (conv stack + head) per task, with laterals from earlier columns."""

    protocols = ("lifelong",)  # a method for tasks that arrive one by one

    def __init__(self, config, input_shape):
        super().__init__(config, input_shape)
        self.columns = []  # per task: its `LateralConv2D` layers, in order
        self.heads = []
        self.pools = [
            keras.layers.MaxPooling2D(spec.pool, padding="same", name=f"pool_{i}")
            if spec.pool > 1
            else None
            for i, spec in enumerate(config.conv)
        ]

    def _build_task(self, task_id, num_classes):
        shape, column = (None, *self.input_shape), []
        for i, spec in enumerate(self.config.conv):
            column.append(self._conv_layer(task_id, i, spec, shape[-1]))
            column[-1].build([shape] * (1 + column[-1].num_laterals))
            shape = column[-1].compute_output_shape([shape])
            if self.pools[i] is not None:
                shape = self.pools[i].compute_output_shape(shape)
        layers = task_head(
            self.config.fc_hidden, num_classes, self.config.dropout, f"task{task_id}"
        )
        head = build_sequential(layers, shape[1:], f"task{task_id}_head")
        self.columns.append(column)
        self.heads.append(head)

    def _conv_layer(self, task_id, i, spec, input_channels):
        """Conv layer `i` of column `task_id`: laterals from all earlier columns."""
        num_laterals = task_id if i > 0 else 0
        nic = None
        if num_laterals:
            reduction = self.config.prognn.lateral_reduction
            nic = lateral_channels(input_channels, reduction, task_id, i)
        return LateralConv2D(
            spec.filters,
            spec.kernel,
            num_laterals=num_laterals,
            lateral_channels=nic,
            name=f"task{task_id}_conv_{i}",
        )

    def call(self, inputs, task_id, training=False):
        features = []  # per column: the tensor each conv layer passes on
        for column in range(task_id + 1):
            outputs = self._column_features(column, inputs, features)
            if column < task_id:  # frozen: no backward pass through it
                outputs = [tf.stop_gradient(h) for h in outputs]
            features.append(outputs)
        return self.heads[task_id](features[task_id][-1], training=training)

    def _column_features(self, column, inputs, earlier):
        """Outputs (after pooling) of each conv layer of `column`.

        Args:
            column: the column to run.
            inputs: images `(batch, height, width, channels)`.
            earlier: `earlier[j][i]` is column j's output of conv layer i, j < column.

        Returns:
            A list with one tensor per conv layer.
        """
        h, outputs = inputs, []
        for i, layer in enumerate(self.columns[column]):
            laterals = [earlier[j][i - 1] for j in range(layer.num_laterals)]
            h = layer([h, *laterals])
            if self.pools[i] is not None:
                h = self.pools[i](h)
            outputs.append(h)
        return outputs

    @property
    def shared_variables(self):
        return []

    def task_variables(self, task_id):
        self._check_task(task_id)
        convs = [v for layer in self.columns[task_id] for v in layer.trainable_weights]
        return convs + list(self.heads[task_id].trainable_variables)
