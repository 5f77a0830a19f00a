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
from dfcnn_tf.layers.lateral_conv import LateralConv2D
from dfcnn_tf.models.base import LifelongModel
from dfcnn_tf.models.blocks import build_sequential
from dfcnn_tf.models.heads import task_head
from dfcnn_tf.registry import register_model


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

    option_record = "prognn"

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
