"""The multi-task protocol (SPEC section 4, appendix C of the paper).

Every task is present from the start. Each epoch draws one task uniformly at
random and trains on all its data in mini-batches without repetition; every
task keeps its own optimizer (and accumulators) for the whole run. Training
task t updates the shared parameters and task t's own, as in lifelong mode.
"""

import time

import numpy as np
import tensorflow as tf

from dfcnn_tf.models.base import TrainingStage
from dfcnn_tf.training.evaluation import Evaluator
from dfcnn_tf.training.loop import check_loss, record_evaluation
from dfcnn_tf.training.optimizer import learning_rate, make_optimizer
from dfcnn_tf.training.progress import Progress
from dfcnn_tf.training.step import TaskLearner

SAVES_PER_RUN = 10  # how often `on_save` is called over a run


def train_multitask(model, tasks, train, seed=0, progress=None, on_save=None):
    """Trains all `tasks` together; returns the recorded history rows.

    Runs `train.epochs_per_task * len(tasks)` epochs. Rows have the lifelong
    loop's keys; `training_task` is the task drawn for that epoch and
    `task_epoch` equals the global `epoch`.

    Args:
        model: a `LifelongModel` with no tasks yet.
        tasks: the `Task`s.
        train: the `TrainConfig`.
        seed: seeds the task draws and mini-batch order.
        progress: a `Progress` (a quiet one if None).
        on_save: called as `on_save(rows)` ten times over the run.

    Raises:
        TrainingError: if the loss becomes NaN or infinite.
    """
    total = train.epochs_per_task * len(tasks)
    progress = progress or Progress(len(tasks), total, quiet=True)
    rng = np.random.default_rng(seed)
    evaluator = Evaluator(model, train.eval_batch_size)
    learners, data = [], []
    for task in tasks:
        task_id = model.add_task(task.num_classes)
        evaluator.add_task(task)
        data.append(tuple(tf.constant(a) for a in task.split("train")))
    for task_id in range(len(tasks)):
        learners.append(_learner(model, task_id, train))
    rows, start = [], time.perf_counter()
    for epoch in range(1, total + 1):
        task_id = int(rng.integers(len(tasks)))
        x, y = data[task_id]
        order = tf.constant(rng.permutation(int(y.shape[0])), tf.int32)
        loss = learners[task_id].train_epoch(
            x, y, order, learning_rate(train, epoch - 1)
        )
        check_loss(loss, task_id, epoch, epoch, rows)
        accuracy = None
        if epoch % train.eval_every == 0 or epoch == total:
            point = (task_id, epoch, epoch)
            accuracy = record_evaluation(
                evaluator, range(len(tasks)), point, start, rows
            )
        progress.epoch(task_id, epoch, loss, accuracy, time.perf_counter() - start)
        if on_save is not None and epoch % max(1, total // SAVES_PER_RUN) == 0:
            on_save(rows)
    return rows


def _learner(model, task_id, train):
    stage = TrainingStage(1, lambda: model.trainable_variables(task_id))
    return TaskLearner(
        model,
        task_id,
        make_optimizer(train),
        train.batch_size,
        train.loss_reduction,
        stage,
    )
