"""What the continual-learning baselines share: the HPS architecture (one conv
trunk for all tasks, one FC head per task) and their extra state, kept in
non-trainable variables the model tracks, so checkpoints and saved learners
hold it exactly (docs/method.md, section 'Continual-learning baselines')."""

import keras
import numpy as np
import tensorflow as tf

from dfcnn_tf.models.base import StepHook
from dfcnn_tf.models.hps import HardParameterSharing


class ContinualHPS(HardParameterSharing):
    """HPS plus helpers for the baselines' state (EWC, SI, LwF, A-GEM, ER)."""

    protocols = ("lifelong",)  # methods for tasks that arrive one by one

    def state_copies(self, prefix, zeros=False):
        """Non-trainable variables shaped as the shared ones: their values, or
        zeros; named `<prefix>_<i>`."""
        return tuple(
            keras.Variable(
                np.zeros(v.shape, "float32") if zeros else v.numpy(),
                trainable=False,
                name=f"{prefix}_{i}",
            )
            for i, v in enumerate(self.shared_variables)
        )

    def head_losses(self, features, y, tasks, training):
        """Per-example cross-entropy of examples of several tasks, each through
        its own head (`tasks[i]` names example i's task)."""
        losses = tf.zeros(tf.shape(y), tf.float32)
        for task_id in range(self.num_tasks):
            mine = tf.equal(tasks, task_id)
            logits = self.heads[task_id](features, training=training)
            labels = tf.where(mine, y, tf.zeros_like(y))
            ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
            losses += tf.where(mine, ce, tf.zeros_like(ce))
        return losses


class PenaltyHook(StepHook):
    """A step hook adding `penalty()` to the objective."""

    def __init__(self, penalty):
        self.penalty = penalty

    def loss(self, x, y, reduce):
        return self.penalty()
