"""Synaptic intelligence (Zenke et al., ICML 2017), "SI".

See docs/method.md, section 'Continual-learning baselines'.

HPS architecture. During a task, every update of a shared weight adds
`-g * delta` to its running path integral `omega` (g: the gradient of the
task's loss alone, without the SI penalty, as the authors' code; delta: the
update). When the task ends the importance grows by the paper's normalised
`omega / (Delta^2 + damping)`, Delta the weight's whole change over the
task; later tasks minimise `strength * sum Omega (theta - theta~)^2`, theta~
the weights at the start of the task being trained.
"""

import tensorflow as tf

from dfcnn_tf.models.base import StepHook
from dfcnn_tf.models.continual import ContinualHPS
from dfcnn_tf.registry import register_model


@register_model("si")
class SynapticIntelligence(ContinualHPS):
    """HPS with SI's path-integral importance and quadratic penalty."""

    option_record = "si"

    def __init__(self, config, input_shape):
        super().__init__(config, input_shape)
        self.strength = float(config.si.strength)
        self.damping = float(config.si.damping)
        self.path_integral = self.state_copies("si_path", zeros=True)  # omega
        self.importance = self.state_copies("si_importance", zeros=True)  # Omega
        self.anchors = self.state_copies("si_anchor")  # theta~

    def _build_task(self, task_id, num_classes):
        super()._build_task(task_id, num_classes)
        for anchor, path, w in zip(
            self.anchors, self.path_integral, self.shared_variables, strict=True
        ):
            anchor.assign(w)  # the weights the task starts from
            path.assign(tf.zeros_like(path))

    def penalty(self):
        """`strength * sum Omega (theta - theta~)^2` over the shared weights."""
        total = tf.constant(0.0)
        for w, big, a in zip(
            self.shared_variables, self.importance, self.anchors, strict=True
        ):
            total += tf.reduce_sum(big * tf.square(w - a))
        return self.strength * total

    def step_hook(self, task_id):
        return SIHook(self)

    def finish_task(self, task_id, x, y):
        for w, big, path, a in zip(
            self.shared_variables,
            self.importance,
            self.path_integral,
            self.anchors,
            strict=True,
        ):
            big.assign_add(path / (tf.square(w - a) + self.damping))


class SIHook(StepHook):
    """Adds SI's penalty and accumulates the path integral around each update."""

    def __init__(self, model):
        self.model = model

    def loss(self, x, y, reduce):
        return self.model.penalty()

    def update(self, apply, gradients, variables):
        model = self.model
        index = {id(v): i for i, v in enumerate(variables)}
        shared = model.shared_variables
        before = [tf.identity(w) for w in shared]
        apply(gradients)
        for w, old, big, path, a in zip(
            shared,
            before,
            model.importance,
            model.path_integral,
            model.anchors,
            strict=True,
        ):
            g = gradients[index[id(w)]]
            task_gradient = g - 2.0 * model.strength * big * (old - a)
            path.assign_add(-task_gradient * (w - old))
