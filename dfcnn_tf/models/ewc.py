"""Elastic weight consolidation (Kirkpatrick et al., PNAS 2017), "EWC".

See docs/method.md, section 'Continual-learning baselines'.

HPS architecture. When task s is trained, its empirical Fisher information
`F_s = mean_i (d log p(y_i | x_i) / d theta)^2` over its training images
(true labels, dropout off) and the shared weights `theta*_s` are stored;
every later task adds, per finished task, the paper's penalty
`strength / 2 * sum F_s (theta - theta*_s)^2` over the shared weights (the
heads of finished tasks are never trained again).
"""

import tensorflow as tf

from dfcnn_tf.models.continual import ContinualHPS, PenaltyHook
from dfcnn_tf.registry import register_model

FISHER_CHUNK = 32  # examples per per-example-gradient batch


@register_model("ewc")
class ElasticWeightConsolidation(ContinualHPS):
    """HPS with a quadratic penalty per finished task, weighted by its Fisher."""

    option_record = "ewc"

    def __init__(self, config, input_shape):
        super().__init__(config, input_shape)
        self.strength = float(config.ewc.strength)
        self.fishers = []  # per task: one variable per shared variable
        self.anchors = []

    def _build_task(self, task_id, num_classes):
        super()._build_task(task_id, num_classes)
        self.fishers.append(self.state_copies(f"ewc_fisher{task_id}", zeros=True))
        self.anchors.append(self.state_copies(f"ewc_anchor{task_id}", zeros=True))

    def penalty(self, task_id):
        """`strength / 2 * sum_{s < task_id} sum F_s (theta - theta*_s)^2`."""
        total = tf.constant(0.0)
        for s in range(task_id):
            for w, f, a in zip(
                self.shared_variables, self.fishers[s], self.anchors[s], strict=True
            ):
                total += tf.reduce_sum(f * tf.square(w - a))
        return 0.5 * self.strength * total

    def step_hook(self, task_id):
        return PenaltyHook(lambda: self.penalty(task_id)) if task_id else None

    def finish_task(self, task_id, x, y):
        fisher = [tf.zeros_like(v) for v in self.shared_variables]
        compute = tf.function(self._squared_gradients)
        for start in range(0, len(x), FISHER_CHUNK):
            chunk = slice(start, start + FISHER_CHUNK)
            squares = compute(tf.constant(x[chunk]), tf.constant(y[chunk]), task_id)
            fisher = [f + s for f, s in zip(fisher, squares, strict=True)]
        for variable, value in zip(self.fishers[task_id], fisher, strict=True):
            variable.assign(value / len(x))
        for anchor, w in zip(self.anchors[task_id], self.shared_variables, strict=True):
            anchor.assign(w)

    def _squared_gradients(self, x, y, task_id):
        """Sum over the batch of each example's squared log-likelihood gradient."""
        shared = self.shared_variables
        with tf.GradientTape() as tape:
            logits = self.call(x, task_id, training=False)
            log_likelihood = -tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits)
        jacobians = tape.jacobian(log_likelihood, shared)
        return [tf.reduce_sum(tf.square(j), axis=0) for j in jacobians]
