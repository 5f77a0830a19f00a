"""Validation grid search of model sizes and learning rate with KerasTuner.

The paper chose every method's sizes by a grid search on validation accuracy
(section 4); this package makes that a reproducible, resumable workflow:

- `tuning.spaces`: the search space of every preset and model;
- `tuning.hypermodel`: `LifelongHyperModel`, a `keras_tuner.HyperModel` whose
  `build(hp)` builds the model through the registry and whose `fit` runs the
  lifelong (or multi-task) protocol and returns mean validation accuracy;
- `tuning.grid`: `GridOracle`, an exhaustive grid that keeps every
  distributed worker busy;
- `tuning.tuner`: `LifelongTuner` and the oracles (grid, random, Bayesian);
- `tuning.objective`: the objective, read from validation rows only;
- `tuning.export`: the trials table and the best configuration file;
- `tuning.search`: the command line, `python -m tuning.search`.

Nothing is imported here, so `python -m tuning.search --help` stays quick.
"""
