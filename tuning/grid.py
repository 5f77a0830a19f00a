"""An exhaustive grid oracle that keeps every worker busy.

KerasTuner's `GridSearchOracle` derives each new grid point from a trial that
has *ended*, so with N distributed workers at most two trials run at a time
and the others wait. `GridOracle` walks the same grid in the same order
(each hyper-parameter's default first, the last-declared one varying
fastest, conditional hyper-parameters only where active) but hands every
worker the next point not tried yet, so N workers run N trials at once.
Which points were tried is part of the oracle's saved state, so a resumed
search continues and never repeats a finished trial.
"""

import keras_tuner
from keras_tuner.engine import trial as trial_module


def first_values(space):
    """The first grid point: every active hyper-parameter at its default."""
    hps = space.copy()
    hps.values = {}
    for hp in hps.space:
        if hps.is_active(hp):
            hps.values[hp.name] = hp.default
    return dict(hps.values)


def next_values(space, values):
    """The grid point after `values` (active values only), or None at the end.

    Like an odometer: the last active hyper-parameter that is not at its last
    value moves on, every one after it goes back to its default.
    """
    hps = space.copy()
    hps.values = dict(values)
    for hp in reversed(hps.space):
        if hps.is_active(hp):
            options = _ordered(hp)
            index = options.index(hps.values[hp.name]) + 1
            if index < len(options):
                hps.values[hp.name] = options[index]
                hps.ensure_active_values()
                return dict(hps.values)
        hps.values[hp.name] = hp.default
    return None


def grid_points(space):
    """Every grid point of `space` (a `HyperParameters`), in search order."""
    values = first_values(space)
    while values is not None:
        yield values
        values = next_values(space, values)


def _ordered(hp):
    options = [hp.default]
    return options + [v for v in hp.values if v != hp.default]


class GridOracle(keras_tuner.Oracle):
    """Exhaustive grid search in which every idle worker gets the next point.

    Args:
        objective: the `keras_tuner.Objective` (or its name) to maximise.
        max_trials: stop after this many trials (None: the whole grid).
        **kwargs: further `keras_tuner.Oracle` arguments.
    """

    def __init__(self, objective=None, max_trials=None, **kwargs):
        super().__init__(objective=objective, max_trials=max_trials, **kwargs)
        self._cursor = None  # the last point handed out (not saved: a hint)
        self._exhausted = False

    def populate_space(self, trial_id):
        """The next untried grid point; IDLE while the last trials still run."""
        space = self.get_space()
        values = self._cursor or first_values(space)
        while not self._exhausted and values is not None:
            if not self._duplicate(values):
                self._cursor = values
                return {"status": trial_module.TrialStatus.RUNNING, "values": values}
            values = next_values(space, values)
        self._exhausted = True
        if self.ongoing_trials:  # a failed one may come back for a retry
            return {"status": trial_module.TrialStatus.IDLE, "values": None}
        return {"status": trial_module.TrialStatus.STOPPED, "values": None}
