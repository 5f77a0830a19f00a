"""The tuner that runs `LifelongHyperModel` trials, and its oracles.

A `LifelongModel` is not a `keras.Model`, so `LifelongTuner` replaces the
parts of `keras_tuner.Tuner` that assume one: `run_trial` builds and fits
through the hypermodel and returns its metrics dict; `save_model` writes
nothing (each trial leaves its configuration, history and metrics in its
trial folder instead); `load_model` explains how to get a trained model.
Any oracle works: `GridOracle` (the default), random search or Bayesian
optimisation. Distributed mode is KerasTuner's own (docs/tuning.md).
"""

import importlib.util
import time

import keras
import keras_tuner

from dfcnn_tf.errors import ConfigError, TrainingError
from tuning.grid import GridOracle
from tuning.objective import OBJECTIVE

IDLE_WAIT_S = 1.0  # a worker told to wait asks the oracle again after this
DEFAULT_RANDOM_TRIALS = 10  # random / Bayesian search without --max-trials
MAX_CONSECUTIVE_FAILURES = 10  # then KerasTuner stops the search
SAMPLING_ORACLES = {
    "random": keras_tuner.oracles.RandomSearchOracle,
    "bayesian": keras_tuner.oracles.BayesianOptimizationOracle,
}


class LifelongTuner(keras_tuner.Tuner):
    """Runs lifelong trials: `hypermodel.build(hp)`, then `hypermodel.fit`.

    Takes `keras_tuner.Tuner`'s arguments (`oracle`, `hypermodel`,
    `directory`, `project_name`, `overwrite`, ...).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._waiting = False

    def run_trial(self, trial, *args, **kwargs):
        """Builds and trains the trial's model; returns its metrics dict.

        Raises:
            keras_tuner.errors.FailedTrialError: for an invalid configuration
                or a diverging loss (the trial is not retried).
        """
        keras.backend.clear_session()  # frees the last trial's graphs (and gc)
        hp = trial.hyperparameters
        # A trial sent by a distributed chief comes back from its protocol
        # buffer with defaults for inactive conditional values: drop them.
        hp.ensure_active_values()
        kwargs.pop("verbose", None)
        kwargs.setdefault("trial_dir", self.get_trial_dir(trial.trial_id))
        try:
            model = self.hypermodel.build(hp)
            return self.hypermodel.fit(hp, model, *args, **kwargs)
        except (ConfigError, TrainingError) as error:
            raise keras_tuner.errors.FailedTrialError(str(error)) from error

    def save_model(self, trial_id, model, step=0):
        """Writes nothing: `fit` leaves the trial's results in its folder."""

    def load_model(self, trial):
        """Not available: trained lifelong models are not kept.

        Raises:
            NotImplementedError: always, saying how to retrain the best one.
        """
        raise NotImplementedError(
            "Trained lifelong models are not stored by the search. Retrain the "
            "best configuration: python -m dfcnn_tf.lifelong --config "
            "<out>/best_config.json"
        )

    def pre_create_trial(self):
        """Waits a little before asking again after an IDLE answer."""
        if self._waiting:
            time.sleep(IDLE_WAIT_S)
        self._waiting = True

    def on_trial_begin(self, trial):
        """Marks that the oracle handed out a trial."""
        self._waiting = False
        super().on_trial_begin(trial)

    def _populate_initial_space(self):
        """Declares the whole space once, without building any model."""
        hp = self.oracle.get_space()
        self.hypermodel.declare_hyperparameters(hp)
        self.oracle.update_space(hp)


def make_oracle(kind, max_trials=None, seed=None):
    """The oracle of a tuner kind ("grid", "random" or "bayesian").

    Raises:
        ConfigError: for an unknown kind.
    """
    objective = keras_tuner.Objective(OBJECTIVE, direction="max")
    # a diverging learning rate fails several grid points in a row
    failures = {"max_consecutive_failed_trials": MAX_CONSECUTIVE_FAILURES}
    if kind == "grid":
        return GridOracle(objective=objective, max_trials=max_trials, **failures)
    if kind not in SAMPLING_ORACLES:
        valid = ", ".join(["grid", *SAMPLING_ORACLES])
        raise ConfigError(f"Unknown tuner {kind!r}. Valid tuners: {valid}")
    if kind == "bayesian" and not _has_modules("scipy", "sklearn"):
        raise ConfigError(
            "--tuner bayesian needs scipy and scikit-learn: pip install "
            "'keras-tuner[bayesian]' (or use --tuner grid / random)"
        )
    trials = max_trials or DEFAULT_RANDOM_TRIALS
    oracle = SAMPLING_ORACLES[kind]
    return oracle(objective=objective, max_trials=trials, seed=seed, **failures)


def _has_modules(*names):
    return all(importlib.util.find_spec(name) is not None for name in names)


def make_tuner(hypermodel, directory, kind="grid", max_trials=None, **kwargs):
    """A `LifelongTuner` whose project lives in `directory/project`.

    An existing project there is resumed (KerasTuner's `overwrite=False`):
    finished trials are kept, interrupted ones are run again.
    """
    oracle = make_oracle(kind, max_trials, seed=kwargs.pop("seed", None))
    return LifelongTuner(
        oracle=oracle,
        hypermodel=hypermodel,
        directory=str(directory),
        project_name="project",
        **kwargs,
    )
