"""Averaged gradient episodic memory (Chaudhry et al., ICLR 2019), "A-GEM".

See docs/method.md, section 'Continual-learning baselines'.

HPS architecture with the class-balanced episodic memory of
`episodic_memory`. Each step of task t >= 1 computes the reference gradient
`g_ref` of the loss of `agem.batch` memories of earlier tasks (each through
its own head) and applies, instead of the batch's gradient g,

    g' = g - (g . g_ref) / (g_ref . g_ref) * g_ref   if g . g_ref < 0, else g,

the dot products taken over every variable the step updates.
"""

import tensorflow as tf

from dfcnn_tf.models.base import StepHook
from dfcnn_tf.models.episodic_memory import EpisodicMemoryHPS
from dfcnn_tf.registry import register_model


@register_model("agem")
class AveragedGEM(EpisodicMemoryHPS):
    """HPS whose updates never increase the memory's loss, to first order."""

    option_record = "agem"

    def step_hook(self, task_id):
        return AGEMHook(self, task_id) if task_id else None


def project(gradients, reference):
    """A-GEM's projection of `gradients` given `reference` (lists of tensors;
    a None reference is zero)."""
    reference = [
        tf.zeros_like(g) if r is None else r
        for g, r in zip(gradients, reference, strict=True)
    ]
    dot = tf.add_n(
        [tf.reduce_sum(g * r) for g, r in zip(gradients, reference, strict=True)]
    )
    norm = tf.add_n([tf.reduce_sum(r * r) for r in reference])
    scale = tf.where(dot < 0, dot / tf.maximum(norm, 1e-30), 0.0)
    return [g - scale * r for g, r in zip(gradients, reference, strict=True)]


class AGEMHook(StepHook):
    def __init__(self, model, task_id):
        self.model, self.task_id = model, task_id

    def gradients(self, gradients, variables):
        with tf.GradientTape() as tape:
            loss = self.model.memory_loss(self.task_id, tf.reduce_mean)
        return project(gradients, tape.gradient(loss, variables))
