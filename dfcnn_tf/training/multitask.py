"""The multi-task protocol (appendix C of the paper).

See docs/method.md, section 'Training'.

Every task is present from the start. Each epoch draws one task uniformly at
random and trains on all its data in mini-batches without repetition; every
task keeps its own optimizer (and accumulators) for the whole run. Training
task t updates the shared parameters and task t's own, as in lifelong mode.
"""

import time

import numpy as np
import tensorflow as tf

from dfcnn_tf.eval_scope import ALL
from dfcnn_tf.training.checkpoint import Position, Resume
from dfcnn_tf.training.evaluation import Evaluator
from dfcnn_tf.training.loop import check_loss, record_evaluation
from dfcnn_tf.training.optimizer import learning_rate, make_optimizer
from dfcnn_tf.training.progress import Progress
from dfcnn_tf.training.step import TaskLearner

SAVES_PER_RUN = 10  # how often `on_save` is called over a run


def train_multitask(
    model, tasks, train, seed=0, progress=None, on_save=None, checkpoint=None, stop=None
):
    """Trains all `tasks` together; returns the recorded history rows.

    Runs `train.epochs_per_task * len(tasks)` epochs. Every task is evaluated
    every `train.eval_all_every` epochs and after the last (`eval_current_every`
    plays no part: a selection on the mean over tasks needs them all). Rows
    have the lifelong loop's keys; `training_task` is the task drawn for that
    epoch, `task_epoch` equals the global `epoch` and `scope` is "all".

    Args:
        model: a `LifelongModel` with no tasks yet.
        tasks: the `Task`s.
        train: the `TrainConfig`.
        seed: seeds the task draws and mini-batch order.
        progress: a `Progress` (a quiet one if None).
        on_save: called as `on_save(rows)` ten times over the run.
        checkpoint: an opened `RunCheckpoint`, or None: continue from its
            latest checkpoint (if any), write one (with every task's
            optimizer) before each `on_save` and every `checkpoint.every`
            epochs.
        stop: a `StopSignals`: after the epoch in which a stop is asked
            for, a checkpoint is written and `Interrupted` raised.

    Raises:
        TrainingError: if the loss becomes NaN or infinite.
        Interrupted: if `stop` asked for a stop.
        CheckpointError: if the checkpoint does not match the model.
    """
    total = train.epochs_per_task * len(tasks)
    progress = progress or Progress(len(tasks), total, quiet=True, per_task=False)
    run = _MultitaskRun(model, tasks, train, seed, checkpoint)
    save_every = max(1, total // SAVES_PER_RUN)
    for epoch in range(run.first_epoch, total + 1):
        task_id = int(run.rng.integers(len(tasks)))
        loss = run.train_epoch(task_id, epoch)
        check_loss(loss, task_id, epoch, epoch, run.rows)
        accuracy = None
        if epoch % train.eval_all_every == 0 or epoch == total:
            point = (task_id, epoch, epoch, ALL)
            accuracy = record_evaluation(
                run.evaluator, range(len(tasks)), point, run.start, run.rows
            )
        progress.epoch(task_id, epoch, loss, accuracy, time.perf_counter() - run.start)
        stopping = stop is not None and stop.requested is not None
        if (
            epoch % save_every == 0
            or stopping
            or (checkpoint and checkpoint.due(epoch))
        ):
            run.save(epoch)
        if on_save is not None and epoch % save_every == 0:
            on_save(run.rows)
        if stopping and epoch < total:
            stop.check(run.rows, f"after epoch {epoch}")
    return run.rows


class _MultitaskRun:
    """Every task added, one learner (and optimizer) per task, the random
    generator, rows and clock; restored from `checkpoint`'s latest if any."""

    def __init__(self, model, tasks, train, seed, checkpoint):
        self.model, self.train, self.checkpoint = model, train, checkpoint
        self.rng = np.random.default_rng(seed)
        self.evaluator = Evaluator.for_train(model, train)
        self.data = []
        resume = checkpoint.resume if checkpoint is not None else None
        if resume is not None:
            checkpoint.restore_model(model, lambda t: self._add(tasks[t]))
        for task in tasks[model.num_tasks :]:
            self._add(task)
        self.learners = [_learner(model, t, train) for t in range(len(tasks))]
        resume = resume or Resume()
        if resume.rng is not None:
            checkpoint.restore_optimizers(self.optimizers)
            self.rng.bit_generator.state = resume.rng
        self.rows = list(resume.rows)
        self.start = time.perf_counter() - resume.elapsed
        self.first_epoch = resume.position.epoch + 1

    @property
    def optimizers(self):
        """Every task's optimizer, in task order."""
        return [learner.optimizer for learner in self.learners]

    def _add(self, task):
        task_id = self.model.add_task(task.num_classes)
        self.evaluator.add_task(task)
        self.data.append(tuple(tf.constant(a) for a in task.split("train")))
        return task_id

    def train_epoch(self, task_id, epoch):
        """Trains task `task_id` for global epoch `epoch`; returns the loss."""
        x, y = self.data[task_id]
        order = tf.constant(self.rng.permutation(int(y.shape[0])), tf.int32)
        rate = learning_rate(self.train, epoch - 1)
        return self.learners[task_id].train_epoch(x, y, order, rate)

    def save(self, epoch):
        """Writes a checkpoint after global epoch `epoch` (if checkpointing)."""
        if self.checkpoint is None:
            return
        elapsed = time.perf_counter() - self.start
        position = Position(self.model.num_tasks, 0, epoch)
        resume = Resume(position, self.rows, elapsed, self.rng.bit_generator.state)
        self.checkpoint.save(self.model, self.optimizers, resume)


def _learner(model, task_id, train):
    return TaskLearner.for_task(model, task_id, make_optimizer(train), train)
