"""Single-task learning ("STL"): an independent CNN per task.

See docs/method.md, section 'Baselines'.

Nothing is shared, so nothing a later task does can change an earlier task.
`stl_large` is this method with larger layers (a preset variant).
"""

from dfcnn_tf.models.base import LifelongModel
from dfcnn_tf.models.blocks import build_sequential, conv_stack
from dfcnn_tf.models.heads import task_head
from dfcnn_tf.registry import register_model


@register_model("stl")
class SingleTaskCNN(LifelongModel):
    """One complete conv net + head per task; no shared parameters."""

    def __init__(self, config, input_shape):
        super().__init__(config, input_shape)
        self.towers = []

    def _build_task(self, task_id, num_classes):
        layers = conv_stack(self.config.conv, prefix=f"task{task_id}_conv")
        layers += task_head(
            self.config.fc_hidden, num_classes, self.config.dropout, f"task{task_id}"
        )
        self.towers.append(build_sequential(layers, self.input_shape, f"task{task_id}"))

    def call(self, inputs, task_id, training=False):
        return self.towers[task_id](inputs, training=training)

    @property
    def shared_variables(self):
        return []

    def task_variables(self, task_id):
        self._check_task(task_id)
        return list(self.towers[task_id].trainable_variables)
