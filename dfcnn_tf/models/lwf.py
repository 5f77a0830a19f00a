"""Learning without forgetting (Li and Hoiem, ECCV 2016 / TPAMI 2018), "LwF".

See docs/method.md, section 'Continual-learning baselines'.

HPS architecture. When task t >= 1 is added, the model as it stands (shared
trunk and every earlier head) is copied into a frozen teacher. Training task
t adds, for every earlier task s, the distillation loss
`strength * reduce_i(-sum_k y'_sik log yhat'_sik)` where `y'` are the
teacher's and `yhat'` the model's softmax outputs of head s at temperature
`temperature`, both on the new task's images (dropout off in the teacher).
The heads of earlier tasks stay fixed (this harness keeps every finished
task's own parameters; the paper also fine-tunes them, after a warm-up of the
new head alone, which is left out).
"""

import tensorflow as tf

from dfcnn_tf.models.base import StepHook
from dfcnn_tf.models.blocks import build_sequential, conv_stack
from dfcnn_tf.models.continual import ContinualHPS
from dfcnn_tf.models.heads import task_head
from dfcnn_tf.registry import register_model


@register_model("lwf")
class LearningWithoutForgetting(ContinualHPS):
    """HPS distilling the frozen pre-task model's outputs on earlier heads."""

    option_record = "lwf"

    def __init__(self, config, input_shape):
        super().__init__(config, input_shape)
        self.strength = float(config.lwf.strength)
        self.temperature = float(config.lwf.temperature)
        self.teacher_trunk = build_sequential(
            conv_stack(config.conv, prefix="teacher_conv"), input_shape, "teacher"
        )
        self.teacher_trunk.trainable = False
        self.teacher_heads = []
        self.classes = []

    def _build_task(self, task_id, num_classes):
        super()._build_task(task_id, num_classes)
        self.classes.append(num_classes)
        if task_id == 0:
            return
        previous = task_id - 1
        layers = task_head(
            self.config.fc_hidden,
            self.classes[previous],
            self.config.dropout,
            f"teacher{previous}",
        )
        features = self.trunk.output_shape[1:]
        head = build_sequential(layers, features, f"teacher{previous}_head")
        head.trainable = False
        self.teacher_heads.append(head)
        _copy(self.trunk, self.teacher_trunk)
        for s in range(task_id):
            _copy(self.heads[s], self.teacher_heads[s])

    def distillation_targets(self, x):
        """The frozen teacher's softened outputs of every earlier head on `x`."""
        features = self.teacher_trunk(x, training=False)
        return [
            tf.nn.softmax(head(features, training=False) / self.temperature)
            for head in self.teacher_heads
        ]

    def distillation_loss(self, x, reduce, training=True):
        """`strength * reduce(sum_s cross-entropy(targets_s, softened head s))`."""
        targets = self.distillation_targets(x)
        features = self.trunk(x, training=training)
        per_example = 0.0
        for s, target in enumerate(targets):
            logits = self.heads[s](features, training=training) / self.temperature
            per_example += -tf.reduce_sum(target * tf.nn.log_softmax(logits), axis=-1)
        return self.strength * reduce(per_example)

    def step_hook(self, task_id):
        return LwFHook(self) if task_id else None


class LwFHook(StepHook):
    def __init__(self, model):
        self.model = model

    def loss(self, x, y, reduce):
        return self.model.distillation_loss(x, reduce)


def _copy(source, target):
    for s, t in zip(source.weights, target.weights, strict=True):
        t.assign(s)
