"""The tables of one run: its headline metrics and its per-task metrics.

`summarize` is a run's `summary.csv` (and the line a model gets in the
Figure 3(a) table), `per_task_table` its `per_task.csv`, from the metrics of
`dfcnn_tf.metrics` (paper section 4.2; both peak definitions).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dfcnn_tf.metrics import (
    _check_history,
    accuracy_matrix,
    average_final_accuracy,
    backward_transfer,
    convergence_epochs,
    final_forgetting_ratio,
    peak_accuracy,
    task_peaks,
    test_at_best_valid,
    training_time,
)


def summarize(history: pd.DataFrame) -> pd.Series:
    """Headline metrics of one run, on the test split unless named otherwise.

    ``mean_forgetting_ratio`` averages the final ratio over tasks t < T (NaN for
    one task); ``mean_peak_valid_accuracy`` is NaN without validation rows. The
    ``*_best_valid`` metrics use ``test_at_best_valid`` as the peak (NaN
    without validation rows); the others use ``peak_accuracy``.

    Args:
        history: the recorded history of one run.

    Returns:
        Series indexed by metric name, named after the run.

    Raises:
        ValueError: on an invalid or multi-run history or no test rows.
    """
    matrix = accuracy_matrix(history)
    has_valid = (history["split"] == "valid").any()
    metrics = {
        **_peak_metrics(history, "max", ""),
        "mean_final_accuracy": average_final_accuracy(matrix),
        "backward_transfer": backward_transfer(matrix),
        "training_time_s": training_time(history),
        "num_tasks": len(matrix),
        "mean_peak_valid_accuracy": (
            peak_accuracy(history, "valid").mean() if has_valid else np.nan
        ),
    }
    names = ("mean_test_at_best_valid", "mean_forgetting_ratio_best_valid")
    names += ("mean_convergence_epochs_best_valid",)
    if has_valid:
        metrics.update(_peak_metrics(history, "best_valid", "_best_valid"))
    else:
        metrics.update(dict.fromkeys(names, np.nan))
    summary = pd.Series(metrics, dtype=float, name=history["run"].iloc[0])
    summary.index.name = "metric"
    return summary


def _peak_metrics(history: pd.DataFrame, peak: str, suffix: str) -> dict:
    """Mean peak, final forgetting ratio (tasks t < T) and convergence for one peak."""
    ratios = final_forgetting_ratio(history, peak=peak).iloc[:-1]
    name = "mean_peak_accuracy" if peak == "max" else "mean_test_at_best_valid"
    return {
        name: task_peaks(history, peak).mean(),
        f"mean_forgetting_ratio{suffix}": ratios.mean() if len(ratios) else np.nan,
        f"mean_convergence_epochs{suffix}": convergence_epochs(
            history, peak=peak
        ).mean(),
    }


def _unique_value(rows: pd.DataFrame, column: str, run: object) -> object:
    """Returns the single value of ``column`` (e.g. "model") within run ``run``.

    Raises:
        ValueError: if the run holds several values of ``column``.
    """
    values = pd.unique(rows[column])
    if len(values) != 1:
        raise ValueError(
            f"run {run!r} holds several values of {column}: {list(values)}"
        )
    return values[0]


def summarize_runs(history: pd.DataFrame) -> pd.DataFrame:
    """Applies ``summarize`` to every run of a history.

    Args:
        history: the recorded history of one or more runs.

    Returns:
        DataFrame indexed by ``run``: ``model``, ``seed`` and ``summarize``.

    Raises:
        ValueError: on an invalid history or a run with several models/seeds.
    """
    _check_history(history, single_run=False)
    records = {}
    for run, rows in history.groupby("run", sort=True):
        ids = {name: _unique_value(rows, name, run) for name in ("model", "seed")}
        records[run] = {**ids, **summarize(rows)}
    return pd.DataFrame.from_dict(records, orient="index").rename_axis("run")


def per_task_table(history: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Per-task metrics of one run, for printing at the end of a run.

    Args:
        history: the recorded history of one run.
        split: the split whose accuracy is used.

    Returns:
        DataFrame indexed by ``task``: peak and final accuracy, final
        forgetting ratio and convergence epoch, then (on the test split, with
        validation rows) the same against ``test_at_best_valid``.

    Raises:
        ValueError: on an invalid or multi-run history or an unknown split.
    """
    columns = [
        peak_accuracy(history, split),
        accuracy_matrix(history, split).iloc[-1].rename("final_accuracy"),
        final_forgetting_ratio(history, split),
        convergence_epochs(history, split=split),
    ]
    if split == "test" and (history["split"] == "valid").any():
        columns += [
            test_at_best_valid(history),
            final_forgetting_ratio(history, peak="best_valid").rename(
                "final_forgetting_ratio_best_valid"
            ),
            convergence_epochs(history, peak="best_valid").rename(
                "convergence_epoch_best_valid"
            ),
        ]
    return pd.concat(columns, axis=1).rename_axis("task")
