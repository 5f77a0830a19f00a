"""The lifelong training loop (paper Algorithm 1, appendix B.1; SPEC section 4).

Tasks arrive one at a time. For task t only the shared parameters and task
t's own parameters are updated, for a fixed number of epochs; every other
task's parameters are untouched. Every `eval_every` epochs (and at the end of
each task) the accuracy of every task seen so far is recorded.
"""

import dataclasses
import math
import time

import numpy as np
import tensorflow as tf

from dfcnn_tf.errors import TrainingError
from dfcnn_tf.training.evaluation import SPLITS, Evaluator
from dfcnn_tf.training.optimizer import learning_rate, make_optimizer
from dfcnn_tf.training.progress import Progress
from dfcnn_tf.training.step import TaskLearner


def train_lifelong(model, tasks, train, seed=0, progress=None, on_task_end=None):
    """Learns `tasks` in order with `model`; returns the recorded history rows.

    Args:
        model: a `LifelongModel` with no tasks yet.
        tasks: the `Task`s in training order.
        train: the `TrainConfig`.
        seed: seeds the mini-batch order.
        progress: a `Progress` (a quiet one if None).
        on_task_end: called as `on_task_end(task_id, rows)` after each task,
            e.g. to save what is finished.

    Returns:
        A list of dicts with keys task, training_task, epoch, task_epoch,
        split, accuracy, time (see `dfcnn_tf.results`).

    Raises:
        TrainingError: if the loss becomes NaN or infinite (names task and
            epoch); the rows recorded so far are in the exception's `rows`.
    """
    progress = progress or Progress(len(tasks), train.epochs_per_task, quiet=True)
    rng = np.random.default_rng(seed)
    evaluator = Evaluator(model, train.eval_batch_size)
    rows, start = [], time.perf_counter()
    for task in tasks:
        task_id = model.add_task(task.num_classes)
        evaluator.add_task(task)
        progress.start_task(task_id, task.classes)
        context = _TaskContext(task, train, rng, evaluator, rows, start, progress)
        done = 0
        for stage in model.training_stages(task_id, train.epochs_per_task):
            learner = TaskLearner(
                model,
                task_id,
                make_optimizer(train),
                train.batch_size,
                train.loss_reduction,
                stage,
            )
            loss = _train_stage(learner, context, done, stage.epochs)
            done += stage.epochs
            if stage.finish is not None:
                stage.finish(loss)
        if on_task_end is not None:
            on_task_end(task_id, rows)
    return rows


@dataclasses.dataclass
class _TaskContext:
    task: object
    train: object
    rng: np.random.Generator
    evaluator: Evaluator
    rows: list
    start: float
    progress: Progress


def _train_stage(learner, ctx, done, epochs):
    """Trains epochs `done + 1 .. done + epochs` of a task; returns the last loss."""
    task_id, train = learner.task_id, ctx.train
    x, y = (tf.constant(a) for a in ctx.task.split("train"))
    for task_epoch in range(done + 1, done + epochs + 1):
        epoch = task_id * train.epochs_per_task + task_epoch
        order = tf.constant(ctx.rng.permutation(len(ctx.task.y_train)), tf.int32)
        loss = learner.train_epoch(x, y, order, learning_rate(train, epoch - 1))
        check_loss(loss, task_id, task_epoch, epoch, ctx.rows)
        accuracy = None
        if task_epoch % train.eval_every == 0 or task_epoch == train.epochs_per_task:
            point = (task_id, task_epoch, epoch)
            accuracy = record_evaluation(
                ctx.evaluator, range(task_id + 1), point, ctx.start, ctx.rows
            )
        elapsed = time.perf_counter() - ctx.start
        ctx.progress.epoch(task_id, task_epoch, loss, accuracy, elapsed)
    return loss


def check_loss(loss, task_id, task_epoch, epoch, rows):
    """Raises `TrainingError` (naming task and epoch) if `loss` is NaN or inf."""
    if not math.isfinite(loss):
        raise TrainingError(
            f"Loss became {loss} in task {task_id + 1} (id {task_id}) at epoch "
            f"{task_epoch} of the task (global epoch {epoch}); "
            f"{len(rows)} recorded rows kept",
            rows,
        )


def record_evaluation(evaluator, task_ids, point, start, rows):
    """Records the accuracy of `task_ids` on every split at one evaluation point.

    Args:
        evaluator: the run's `Evaluator`.
        task_ids: the tasks to evaluate.
        point: `(training_task, task_epoch, epoch)` of this evaluation.
        start: `time.perf_counter()` at the start of the run.
        rows: the history rows, extended in place.

    Returns:
        The accuracy `{split: value}` of the training task.
    """
    training_task, task_epoch, epoch = point
    result = None
    for task_id in task_ids:
        accuracy = evaluator.evaluate(task_id)
        now = time.perf_counter() - start
        rows.extend(
            {
                "task": task_id,
                "training_task": training_task,
                "epoch": epoch,
                "task_epoch": task_epoch,
                "split": split,
                "accuracy": accuracy[split],
                "time": now,
            }
            for split in SPLITS
        )
        if task_id == training_task:
            result = accuracy
    return result
