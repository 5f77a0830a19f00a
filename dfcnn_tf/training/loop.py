"""The lifelong training loop (paper Algorithm 1, appendix B.1).

See docs/method.md, section 'Training'.

Tasks arrive one at a time. For task t only the shared parameters and task
t's own parameters are updated, for a fixed number of epochs; every other
task's parameters are untouched. Every `eval_all_every` epochs of a task (and
at its end) the accuracy of every task seen so far is recorded (rows of scope
"all"); at the other epochs that `eval_current_every` divides, only the task
being trained is evaluated (scope "current").
"""

import math
import time

import numpy as np
import tensorflow as tf

from dfcnn_tf.errors import ConfigError, TrainingError
from dfcnn_tf.eval_scope import ALL, CURRENT
from dfcnn_tf.training.checkpoint import Position, Resume
from dfcnn_tf.training.evaluation import SPLITS, Evaluator
from dfcnn_tf.training.optimizer import learning_rate, make_optimizer
from dfcnn_tf.training.progress import Progress
from dfcnn_tf.training.step import TaskLearner


def train_lifelong(
    model, tasks, train, seed=0, progress=None, on_task_end=None, checkpoint=None
):
    """Learns `tasks` in order with `model`; returns the recorded history rows.

    Args:
        model: a `LifelongModel` with no tasks yet.
        tasks: the `Task`s in training order.
        train: the `TrainConfig`.
        seed: seeds the mini-batch order.
        progress: a `Progress` (a quiet one if None).
        on_task_end: called as `on_task_end(task_id, rows)` after each task,
            e.g. to save what is finished.
        checkpoint: an opened `RunCheckpoint`, or None: continue from its
            latest checkpoint (if any), write one at the end of every task
            and every `checkpoint.every` epochs. Mid-task checkpoints are
            written only for tasks trained in one stage without a `finish`
            step (for DEN's later tasks, only at the task's end), as only
            there the loop's position, variables and optimizer are the
            whole state.

    Returns:
        A list of dicts with keys task, training_task, epoch, task_epoch,
        split, accuracy, time, scope (see `dfcnn_tf.results`).

    Raises:
        ConfigError: if `model` has tasks already (continue a trained model
            with `LifelongRun.learn` or `dfcnn_tf.LifelongLearner`).
        TrainingError: if the loss becomes NaN or infinite (names task and
            epoch); the rows recorded so far are in the exception's `rows`.
        CheckpointError: if the checkpoint does not match the model.
    """
    if model.num_tasks:
        raise ConfigError(
            f"train_lifelong needs a model without tasks; this one has "
            f"{model.num_tasks}. Continue a trained model with "
            "dfcnn_tf.LifelongLearner.learn (it keeps the tasks learned so far)"
        )
    run = LifelongRun(model, train, seed, progress, checkpoint)
    position = run.resume(tasks).position
    skip = position.task_epoch  # epochs of the first task done before a resume
    for task_id in range(position.task, len(tasks)):
        run.learn(task_id, tasks[task_id], skip)
        skip = 0
        if on_task_end is not None:
            on_task_end(task_id, run.rows)
    return run.rows


class LifelongRun:
    """What the loop carries from task to task: model, evaluator, mini-batch
    random generator, history rows, clock and checkpoint.

    Args:
        model: the `LifelongModel`.
        train: the `TrainConfig`.
        seed: seeds the mini-batch order.
        progress: a `Progress` (a quiet one if None).
        checkpoint: an opened `RunCheckpoint`, or None.
        evaluator: the `Evaluator` holding the tasks' data (a new one if None).
        stop: a `StopSignals` looked at after every epoch, or None.
    """

    def __init__(
        self,
        model,
        train,
        seed=0,
        progress=None,
        checkpoint=None,
        evaluator=None,
        stop=None,
    ):
        self.model, self.train = model, train
        self.rng = np.random.default_rng(seed)
        self.progress = progress or Progress(1, train.epochs_per_task, quiet=True)
        self.checkpoint = checkpoint
        self.evaluator = evaluator or Evaluator.for_train(model, train)
        self.rows, self.start = [], time.perf_counter()
        self.optimizer = None  # saved with a mid-task checkpoint
        self.stop = stop

    @property
    def elapsed(self):
        """Seconds of training so far (across resumes and reloads)."""
        return time.perf_counter() - self.start

    def state(self):
        """`Resume` of the run at the end of its last task (for saving)."""
        position = Position(self.model.num_tasks, 0, self._epochs_done())
        return Resume(position, list(self.rows), self.elapsed, self.rng_state())

    def rng_state(self):
        """The mini-batch generator's state (JSON-ready)."""
        return self.rng.bit_generator.state

    def restore(self, resume):
        """Continues from `resume`'s rows, clock and mini-batch generator."""
        self.rng.bit_generator.state = resume.rng
        self.rows = list(resume.rows)
        self.start = time.perf_counter() - resume.elapsed

    def add_task(self, task):
        """Adds `task` to the model and the evaluator; returns its id."""
        task_id = self.model.add_task(task.num_classes)
        self.evaluator.add_task(task, task_id)
        return task_id

    def resume(self, tasks):
        """Restores the latest checkpoint (if any); returns its `Resume`."""
        resume = self.checkpoint.resume if self.checkpoint else None
        if resume is None:
            return Resume()
        self.checkpoint.restore_model(self.model, lambda t: self.add_task(tasks[t]))
        self.restore(resume)
        return resume

    def save(self, position, optimizer=None):
        """Writes a checkpoint at `position` (with `optimizer`'s state if given)."""
        if self.checkpoint is None:
            return
        resume = Resume(position, self.rows, self.elapsed, self.rng_state())
        self.checkpoint.save(self.model, [optimizer] if optimizer else [], resume)

    def learn(self, task_id, task, skip=0):
        """Trains task `task_id` (added now unless a resume added it) from
        its epoch `skip + 1`, then checkpoints the task's end."""
        _learn_task(self, task_id, task, skip)
        done = task_id + 1
        self.save(Position(done, 0, self._epochs_done()))

    def _epochs_done(self):
        return self.model.num_tasks * self.train.epochs_per_task


def _learn_task(run, task_id, task, skip):
    """Trains task `task_id`, stage by stage, from its epoch `skip + 1`."""
    model, train = run.model, run.train
    if model.num_tasks == task_id:  # else added already, by a resume
        run.add_task(task)
    run.progress.start_task(task_id, task.classes)
    stages = model.training_stages(task_id, train.epochs_per_task)
    resumable = len(stages) == 1 and stages[0].finish is None
    resumable = resumable and run.checkpoint is not None
    done = 0
    for stage in stages:
        learner = TaskLearner.for_task(
            model, task_id, make_optimizer(train), train, stage
        )
        if skip:  # only single-stage tasks are checkpointed mid-task
            run.checkpoint.restore_optimizers([learner.optimizer])
        run.optimizer = learner.optimizer if resumable else None
        loss = _train_stage(learner, run, task, done + skip, stage.epochs - skip)
        done, skip = done + stage.epochs, 0
        if stage.finish is not None:
            stage.finish(loss)
    model.finish_task(task_id, *task.split("train"))


def _train_stage(learner, run, task, done, epochs):
    """Trains epochs `done + 1 .. done + epochs` of a task; returns the last loss."""
    task_id, train = learner.task_id, run.train
    x, y = (tf.constant(a) for a in task.split("train"))
    for task_epoch in range(done + 1, done + epochs + 1):
        epoch = task_id * train.epochs_per_task + task_epoch
        order = tf.constant(run.rng.permutation(len(task.y_train)), tf.int32)
        loss = learner.train_epoch(x, y, order, learning_rate(train, epoch - 1))
        check_loss(loss, task_id, task_epoch, epoch, run.rows)
        accuracy, scope = None, evaluation_scope(train, task_epoch)
        if scope is not None:
            point = (task_id, task_epoch, epoch, scope)
            seen = run.evaluator.task_ids(task_id + 1) if scope == ALL else [task_id]
            accuracy = record_evaluation(
                run.evaluator, seen, point, run.start, run.rows
            )
        elapsed = time.perf_counter() - run.start
        run.progress.epoch(task_id, task_epoch, loss, accuracy, elapsed)
        if task_epoch < train.epochs_per_task:
            _mid_task_checkpoint(run, Position(task_id, task_epoch, epoch))
    return loss


def evaluation_scope(train, task_epoch):
    """What is evaluated after epoch `task_epoch` of a task (1-based): every
    seen task (`ALL`: every `train.eval_all_every` epochs and at the task's
    end), only the task being trained (`CURRENT`: the other epochs that
    `train.eval_current_every` divides), or nothing (None)."""
    if task_epoch % train.eval_all_every == 0 or task_epoch == train.epochs_per_task:
        return ALL
    if task_epoch % train.eval_current_every == 0:
        return CURRENT
    return None


def _mid_task_checkpoint(run, position):
    """Checkpoints inside a task when one is due, or a stop was asked for
    (then raises `Interrupted` after writing it)."""
    stopping = run.stop is not None and run.stop.requested is not None
    if run.optimizer is not None and (stopping or run.checkpoint.due(position.epoch)):
        run.save(position, run.optimizer)
    if stopping:
        where = (
            f"in task {position.task + 1}, epoch {position.task_epoch} (global "
            f"epoch {position.epoch})"
        )
        run.stop.check(run.rows, where)


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
        point: `(training_task, task_epoch, epoch, scope)` of this
            evaluation; `scope` (`ALL` or `CURRENT`) goes into every row.
        start: `time.perf_counter()` at the start of the run.
        rows: the history rows, extended in place.

    Returns:
        The accuracy `{split: value}` of the training task.
    """
    training_task, task_epoch, epoch, scope = point
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
                "scope": scope,
            }
            for split in SPLITS
        )
        if task_id == training_task:
            result = accuracy
    return result
