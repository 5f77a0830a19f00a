"""The lifelong learner people keep: learn, evaluate, predict, save, load, export.

One object carries a lifelong model and its state between calls (paper
Algorithm 1: tasks arrive one at a time and the model keeps what it
learned): the model, every learned task's `TaskInfo` (name, classes, class
names, input normalisation), the history, the clock and the random states.
The command line, the tuner and the notebooks all train through it; the
README's "Keep a learner" shows it in use.

Continuing is exact: saved after tasks 1-3, loaded in a fresh process and
taught task 4, a learner ends as one that never stopped
(`dfcnn_tf.saved_learner`). After `load` it holds no images: `attach` hands
earlier tasks back (checked to be the learned ones) to evaluate them again.
"""

import keras
import numpy as np
import tensorflow as tf

from dfcnn_tf import images as raw_images
from dfcnn_tf.config_checks import validate
from dfcnn_tf.data.tasks import Task
from dfcnn_tf.errors import LearnerError
from dfcnn_tf.fit_checks import check_protocol, check_task_fits
from dfcnn_tf.overrides import apply_overrides
from dfcnn_tf.prediction import Prediction
from dfcnn_tf.presets import get_preset
from dfcnn_tf.process import apply_process_settings
from dfcnn_tf.registry import build_model
from dfcnn_tf.results import history_frame
from dfcnn_tf.saved_learner import read_saved_learner, save_learner
from dfcnn_tf.task_info import TaskInfo
from dfcnn_tf.training.checkpoint import Resume
from dfcnn_tf.training.evaluation import Evaluator
from dfcnn_tf.training.loop import LifelongRun
from dfcnn_tf.training.multitask import train_multitask


class LifelongLearner:
    """A lifelong model with the tasks it learned, kept across calls.

    Args:
        experiment: the resolved `Experiment` (model, training, seed).
        model: an untrained model built from `experiment.model` (e.g. by the
            tuner), or None to build one when the first task arrives.
        progress: a `Progress` display, or None for none.
        checkpoint: an opened `RunCheckpoint` (what `fit` resumes from and
            writes to), or None.

    Raises:
        ConfigError: if the experiment is invalid.
    """

    def __init__(self, experiment, model=None, progress=None, checkpoint=None):
        validate(experiment)
        self.experiment = experiment
        self.model = model
        self.tasks = []  # a TaskInfo per learned task, in order
        self.progress = progress
        self.checkpoint = checkpoint
        self.stop = None  # a `StopSignals` that `fit` and `learn` look at
        self.evaluator = None if model is None else self._evaluator()
        self._run = None
        self._state = None  # a loaded or finished multi-task run's `Resume`
        self._failed = None  # why learning stopped half-way, if it did

    @classmethod
    def from_preset(
        cls, preset="cifar100_10_quick", model="dfcnn", seed=0, overrides=()
    ):
        """A learner of the preset's experiment for `model` and `seed`.

        Args:
            preset: a preset name (`dfcnn_tf.presets.PRESETS`).
            model: a registered model name.
            seed: initialisation, dropout and mini-batch order.
            overrides: `"key=value"` strings, as `--set` takes them.
        """
        experiment = get_preset(preset).experiment(model, seed)
        return cls(apply_overrides(experiment, list(overrides)))

    @property
    def num_tasks(self):
        """Number of tasks learned."""
        return len(self.tasks)

    @property
    def task_names(self):
        """The learned tasks' names, in order."""
        return [info.name for info in self.tasks]

    @property
    def rows(self):
        """The history rows recorded so far (see `dfcnn_tf.results`)."""
        if self._run is not None:
            return self._run.rows
        return self._state.rows if self._state is not None else []

    @property
    def history(self):
        """The history as the long-format DataFrame of a results folder."""
        return history_frame(self.rows, self.experiment)

    def task_id(self, task):
        """The id of a learned task given by name, id or `Task`.

        Raises:
            LearnerError: naming the learned tasks, if there is no such task.
        """
        if isinstance(task, Task):
            task = task.label
        if isinstance(task, int | np.integer) and not isinstance(task, bool):
            if 0 <= task < self.num_tasks:
                return int(task)
        elif task in self.task_names:
            return self.task_names.index(task)
        raise LearnerError(
            f"unknown task {task!r}; this learner learned {self.num_tasks} "
            f"task(s): {', '.join(self.task_names) or 'none yet'} (ids 0-"
            f"{max(self.num_tasks - 1, 0)})"
        )

    def learn(self, task):
        """Adds `task` and trains it, as one step of the lifelong protocol.

        Only the shared variables and the new task's own are trained; every
        earlier task's variables stay bit-identical. Every task whose data
        the learner holds is evaluated on the schedule of
        `experiment.train`.

        Returns:
            The history rows recorded while learning it, as a DataFrame.

        Raises:
            LearnerError: if a task of that name was learned already, or
                the learner cannot continue (multi-task protocol, or an
                earlier `learn` failed half-way).
            ConfigError: if the images do not fit the model or a batch is
                larger than the task's training set.
            TrainingError: if the loss diverges.
        """
        self._check_can_learn()
        if task.label in self.task_names:
            raise LearnerError(
                f"a task named {task.label!r} was learned already (id "
                f"{self.task_names.index(task.label)}); give the new task another "
                "name (dataclasses.replace(task, name=...))"
            )
        run = self._lifelong_run(task)
        before = len(run.rows)
        self._learn(run, self.num_tasks, task)
        return history_frame(run.rows[before:], self.experiment)

    def fit(self, tasks, on_task_end=None):
        """Runs the experiment's protocol over `tasks`; returns the history rows.

        Lifelong: learns the tasks not learned yet, in order, resuming from
        the checkpoint if one was given and holds any; a learner that
        learned (or loaded) the first tasks already checks that `tasks`
        starts with them and continues with the rest. Multi-task: trains all
        tasks together (a fresh learner only).

        Args:
            tasks: the `Task`s, in training order.
            on_task_end: called as `on_task_end(rows)` whenever results
                should be written (after every lifelong task).
        """
        if self.experiment.train.protocol == "mtl":
            return self._fit_multitask(tasks, on_task_end)
        first, skip = self._start(tasks)
        run = self._run
        for task_id in range(first, len(tasks)):
            self._learn(run, task_id, tasks[task_id], skip)
            skip = 0
            if on_task_end is not None:
                on_task_end(run.rows)
            if self.stop is not None and task_id + 1 < len(tasks):
                self.stop.check(run.rows, f"after task {task_id + 1}")
        return run.rows

    def attach(self, task):
        """Hands back the data of a learned task, to evaluate it again.

        Raises:
            LearnerError: if the learner learned no such task, or `task`
                differs from it (other classes or normalisation statistics:
                other data).
        """
        task_id = self.task_id(task)
        differences = self.tasks[task_id].differences(task)
        if differences:
            raise LearnerError(
                f"task {task.label!r} is not the task this learner learned under "
                f"that name ({'; '.join(differences)}): other data or settings?"
            )
        if self.evaluator is None:
            self.evaluator = self._evaluator()
        if task_id not in self.evaluator.task_ids(self.num_tasks):
            self.evaluator.add_task(task, task_id)
        return task_id

    def evaluate(self, task):
        """Accuracy `{split: value}` of a learned task.

        Args:
            task: the `Task` (its data; checked to be the learned task), or
                the name or id of a task whose data the learner holds.

        Raises:
            LearnerError: for an unknown task, or one without data.
        """
        if isinstance(task, Task):
            task_id = self.attach(task)
        else:
            task_id = self.task_id(task)
            if self.evaluator is None or task_id not in self.evaluator.task_ids(
                self.num_tasks
            ):
                raise LearnerError(
                    f"no data for task {self.tasks[task_id].name!r} in this learner; "
                    "pass the Task itself to evaluate it"
                )
        return self.evaluator.evaluate(task_id)

    def predict(self, images, task, input_range=None, batch_size=None):
        """Class probabilities of raw images for one learned task.

        Args:
            images: raw images as the user has them: uint8 `(n, h, w, c)` or
                one image `(h, w, c)`, grey images without the channel axis,
                or floats in [0, 1] or [0, 255] (see `dfcnn_tf.images`); the
                task's stored normalisation is applied.
            task: the task's name, id or `Task`.
            input_range: `(low, high)` of float images, if not the usual.
            batch_size: images per forward pass (default: the evaluation's).

        Returns:
            A `Prediction` (probabilities, class names, `top(k)`).

        Raises:
            LearnerError: for an unknown task.
            DataError: for images of the wrong shape, channels or range.
        """
        task_id = self.task_id(task)
        info = self.tasks[task_id]
        x = raw_images.prepare(
            images, self.model.input_shape, info.normalization, input_range
        )
        batch = batch_size or self.experiment.train.eval_batch_size
        forward = self.model.inference(task_id)
        logits = [
            forward(tf.constant(x[i : i + batch])) for i in range(0, len(x), batch)
        ]
        probabilities = tf.nn.softmax(tf.concat(logits, axis=0)).numpy()
        return Prediction(probabilities, info.class_names, info.name)

    def export_task(self, task, path=None):
        """Task `task` as a plain Keras model (no dfcnn_tf needed to use it).

        Its generated kernels are baked into ordinary layers and its input
        normalisation is a preprocessing layer in front; it maps raw images
        (the task's raw range) to class probabilities.

        Args:
            task: the task's name, id or `Task`.
            path: where to write it: a `.keras` file, or else a SavedModel
                folder for serving; None writes nothing.

        Returns:
            The `keras.Model`.

        Raises:
            LearnerError: for an unknown task, or a path that cannot be written.
        """
        from dfcnn_tf.export import export_task_model, save_task_model

        task_id = self.task_id(task)
        normalization = self.tasks[task_id].normalization
        if path is None:
            return export_task_model(self.model, task_id, normalization)
        try:
            return save_task_model(self.model, task_id, path, normalization)
        except OSError as error:
            raise LearnerError(f"{path}: cannot write ({error.strerror})") from None

    def save(self, path):
        """Writes the whole learner to one file, atomically.

        Raises:
            LearnerError: if nothing was learned yet, a `learn` failed
                half-way, or the file cannot be written.
        """
        if self.model is None or not self.tasks:
            raise LearnerError(f"{path}: nothing to save: the learner learned no task")
        if self._failed:
            raise LearnerError(f"{path}: not saved: {self._failed}")
        state = self._run.state() if self._run is not None else self._state
        save_learner(self, state or Resume(), path)

    @classmethod
    def load(cls, path, progress=None, checkpoint=None):
        """The learner saved in `path`, ready to predict and to learn on.

        Raises:
            LearnerError: if the file is missing, not a learner file, of
                another format version, damaged, or unlike its model.
        """
        saved = read_saved_learner(path)
        learner = cls(saved.experiment, progress=progress, checkpoint=checkpoint)
        with saved.model_options() as options:
            learner._build_model(saved.input_shape, **options)
        saved.restore_into(learner.model)
        learner.tasks, learner._state = saved.tasks, saved.state
        return learner

    def _build_model(self, input_shape, **options):
        """Seeds every generator; builds the model (no tasks) with `options`."""
        apply_process_settings(self.experiment.train)
        keras.utils.set_random_seed(self.experiment.seed)
        self.model = build_model(self.experiment.model, input_shape, **options)
        check_protocol(self.model, self.experiment.train.protocol)
        self.evaluator = self._evaluator()

    def _observers(self):
        """What the loops report to, write to and look at."""
        return dict(progress=self.progress, checkpoint=self.checkpoint, stop=self.stop)

    def _evaluator(self):
        return Evaluator.for_train(self.model, self.experiment.train)

    def _new_run(self):
        train, seed = self.experiment.train, self.experiment.seed
        self._run = LifelongRun(
            self.model, train, seed, evaluator=self.evaluator, **self._observers()
        )
        if self._state is not None:
            self._run.restore(self._state)
        return self._run

    def _lifelong_run(self, task):
        """The run the tasks are learned in (the model built for `task`)."""
        if self.model is None:
            self._build_model(task.x_train.shape[1:])
        return self._run or self._new_run()

    def _learn(self, run, task_id, task, skip=0):
        """Trains task `task_id` from its epoch `skip + 1` and records it."""
        check_task_fits(self.model, self.experiment.train, task, task_id)
        try:
            run.learn(task_id, task, skip)
        except BaseException as error:
            self._failed = f"learning task {task.label!r} stopped half-way ({error!r})"
            raise
        self.tasks.append(TaskInfo.of(task))

    def _start(self, tasks):
        """Where `fit` continues: `(first task to learn, its epochs done)`."""
        if self.tasks:
            if len(tasks) < self.num_tasks:
                raise LearnerError(
                    f"the learner learned {self.num_tasks} tasks; fit was given "
                    f"{len(tasks)}, which must start with them"
                )
            for task in tasks[: self.num_tasks]:
                self.attach(task)
            self._lifelong_run(tasks[0])
            return self.num_tasks, 0
        run = self._lifelong_run(tasks[0])
        resume = run.resume(tasks)
        self.tasks = [TaskInfo.of(t) for t in tasks[: resume.position.task]]
        return resume.position.task, resume.position.task_epoch

    def _check_can_learn(self):
        if self._failed:
            raise LearnerError(
                f"{self._failed}; this learner cannot go on: load the last saved one"
            )
        if self.experiment.train.protocol != "lifelong":
            raise LearnerError(
                "this learner was trained with the multi-task protocol (all "
                "tasks together); it predicts and evaluates, but cannot learn "
                "further tasks"
            )

    def _fit_multitask(self, tasks, on_task_end):
        if self.tasks:
            raise LearnerError("multi-task training needs a learner without tasks")
        if self.model is None:
            self._build_model(tasks[0].x_train.shape[1:])
        for task_id, task in enumerate(tasks):
            check_task_fits(self.model, self.experiment.train, task, task_id)
        train, seed = self.experiment.train, self.experiment.seed
        rows = train_multitask(
            self.model, tasks, train, seed, on_save=on_task_end, **self._observers()
        )
        self.tasks = [TaskInfo.of(task) for task in tasks]
        for task_id, task in enumerate(tasks):
            self.evaluator.add_task(task, task_id)
        self._state = Resume(rows=list(rows))
        return rows
