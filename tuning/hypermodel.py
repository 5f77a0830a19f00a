"""The lifelong-learning `keras_tuner.HyperModel` (STYLE item 9).

`build(hp)` resolves the hyper-parameter values into an `Experiment` and
builds its model through the registry; `fit(hp, model)` runs the experiment's
protocol (lifelong or multi-task) on tasks without their test split and
returns the trial's metrics, the objective being mean validation accuracy.

Hyper-parameters: `model` (a choice between the searched models), each
model's knobs under `hp.conditional_scope("model", [name])`, named
`<model>/<knob>`, and a global `learning_rate`.
"""

import json
from pathlib import Path

import keras
import keras_tuner
import numpy as np

from dfcnn_tf.config_checks import validate
from dfcnn_tf.experiment import build_tasks
from dfcnn_tf.learner import LifelongLearner
from dfcnn_tf.protocols import get_protocol
from dfcnn_tf.registry import build_model
from dfcnn_tf.results import history_frame
from dfcnn_tf.training import Progress
from tuning.objective import trial_metrics, without_test
from tuning.spaces import set_learning_rate


class LifelongHyperModel(keras_tuner.HyperModel):
    """Searches the sizes and learning rate of one or more lifelong models.

    Args:
        experiments: `{model name: Experiment}`, the resolved preset (and any
            `--set`) of every searched model, in search order.
        space: the `SearchSpace` (learning rates and per-model knobs).
        input_shape: image shape `(h, w, c)`; None reads it from the data.
        task_builder: `task_builder(data_config, seed)` returns the tasks
            (default: `dfcnn_tf.experiment.build_tasks`).
        quiet: no per-epoch progress display if true.
    """

    def __init__(
        self, experiments, space, input_shape=None, task_builder=None, quiet=True
    ):
        super().__init__(name="lifelong", tunable=True)
        self.experiments = dict(experiments)
        self.space = space
        self.input_shape = input_shape
        self.task_builder = task_builder or build_tasks
        self.quiet = quiet
        self._tasks = {}

    def declare_hyperparameters(self, hp):
        """Registers every hyper-parameter (every model's, in its scope)."""
        self.experiment(hp)

    def experiment(self, hp):
        """The `Experiment` that the values of `hp` describe.

        Declares the hyper-parameters on first use: `model`, each model's
        knobs in that model's conditional scope, then `learning_rate`.
        """
        name = hp.Choice("model", list(self.experiments))
        experiment = self.experiments[name]
        for model, knobs in self.space.models.items():
            with hp.conditional_scope("model", [model]):
                for knob in knobs:
                    value = hp.Choice(f"{model}/{knob.name}", list(knob.values))
                    if model == name:
                        experiment = knob.edit(experiment, value)
        if self.space.learning_rates:
            rate = hp.Choice("learning_rate", list(self.space.learning_rates))
            experiment = set_learning_rate(experiment, rate)
        return experiment

    def build(self, hp):
        """The trial's untrained `LifelongModel`, built through the registry.

        Raises:
            ConfigError: if the resolved experiment is invalid.
        """
        experiment = self.experiment(hp)
        validate(experiment)
        shape = self.input_shape or self.tasks(experiment)[0].x_train.shape[1:]
        keras.utils.set_random_seed(experiment.seed)
        return build_model(experiment.model, shape)

    def fit(self, hp, model, *args, trial_dir=None, **kwargs):
        """Runs the experiment's protocol on `model`; returns the trial metrics.

        Args:
            hp: the trial's `HyperParameters`.
            model: the model `build(hp)` returned.
            trial_dir: folder for `config.json`, `history.csv` and
                `metrics.json` of the trial, or None.

        Returns:
            `{"valid_accuracy": ..., "training_time_s": ..., "parameters": ...}`.

        Raises:
            ConfigError: if the model does not support the protocol or a
                batch is larger than a task's training set.
            TrainingError: if the loss diverges.
        """
        experiment = self.experiment(hp)
        train = experiment.train
        tasks = self.tasks(experiment)
        epochs = get_protocol(train.protocol).epochs(train, len(tasks))
        per_task = train.protocol == "lifelong"
        progress = Progress(len(tasks), epochs, quiet=self.quiet, per_task=per_task)
        learner = LifelongLearner(experiment, model, progress)
        with np.errstate(invalid="ignore", divide="ignore"):  # empty test split
            rows = learner.fit(tasks)
        history = history_frame(rows, experiment)
        result = trial_metrics(history, train.protocol, model.count_params())
        if trial_dir is not None:
            _write_trial(Path(trial_dir), experiment, history, result)
        return result

    def tasks(self, experiment):
        """The experiment's tasks without their test split (loaded once)."""
        key = (experiment.data, experiment.seed)
        if key not in self._tasks:
            tasks = self.task_builder(experiment.data, experiment.seed)
            self._tasks = {key: without_test(tasks)}  # keep one data set
        return self._tasks[key]


def _write_trial(folder, experiment, history, result):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(experiment.to_dict(), indent=2))
    history[history["split"] != "test"].to_csv(folder / "history.csv", index=False)
    (folder / "metrics.json").write_text(json.dumps(result, indent=2))
