"""Experience replay with a tiny episodic memory (Chaudhry et al., 'On tiny
episodic memories in continual learning', 2019), "ER".

See docs/method.md, section 'Continual-learning baselines'.

HPS architecture with the class-balanced episodic memory of
`episodic_memory`. Each step of task t >= 1 adds to the batch's loss the
loss of `replay.batch` memories of earlier tasks, each through its own head,
reduced as the batch (a sum: the joint batch's summed loss).
"""

from dfcnn_tf.models.base import StepHook
from dfcnn_tf.models.episodic_memory import EpisodicMemoryHPS
from dfcnn_tf.registry import register_model


@register_model("er")
class ExperienceReplay(EpisodicMemoryHPS):
    """HPS training every batch together with a batch from the memory."""

    option_record = "replay"

    def step_hook(self, task_id):
        return ReplayHook(self, task_id) if task_id else None


class ReplayHook(StepHook):
    def __init__(self, model, task_id):
        self.model, self.task_id = model, task_id

    def loss(self, x, y, reduce):
        return self.model.memory_loss(self.task_id, reduce)
