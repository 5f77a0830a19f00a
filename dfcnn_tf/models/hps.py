"""Hard parameter sharing ("HPS"): shared convs, per-task FC heads.

See docs/method.md, section 'Baselines'.

Every task updates the shared conv trunk, so earlier tasks can be forgotten;
each task's head is its own.
"""

from dfcnn_tf.models.base import LifelongModel
from dfcnn_tf.models.blocks import build_sequential, conv_stack
from dfcnn_tf.models.heads import task_head
from dfcnn_tf.registry import register_model


@register_model("hps")
class HardParameterSharing(LifelongModel):
    """A conv trunk shared by every task, topped by one FC head per task."""

    def __init__(self, config, input_shape):
        super().__init__(config, input_shape)
        self.trunk = build_sequential(conv_stack(config.conv), input_shape, "trunk")
        self.heads = []

    def _build_task(self, task_id, num_classes):
        layers = task_head(
            self.config.fc_hidden, num_classes, self.config.dropout, f"task{task_id}"
        )
        features = self.trunk.output_shape[1:]
        self.heads.append(build_sequential(layers, features, f"task{task_id}_head"))

    def call(self, inputs, task_id, training=False):
        return self.heads[task_id](
            self.trunk(inputs, training=training), training=training
        )

    @property
    def shared_variables(self):
        return list(self.trunk.trainable_variables)

    def task_variables(self, task_id):
        self._check_task(task_id)
        return list(self.heads[task_id].trainable_variables)
