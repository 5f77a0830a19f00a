"""Lifelong-learning metrics from a recorded history (paper section 4.2).

Peak per-task accuracy, catastrophic forgetting ratio (Figure 3(b)), epochs to
98% of the peak and training time, plus the accuracy matrix ``A[s, t]``, average
final accuracy, backward transfer (Lopez-Paz & Ranzato 2017) and forward transfer
against single-task learning. A history is a long ``pandas.DataFrame``, one row
per (evaluation point, evaluated task, split), with ``HISTORY_COLUMNS``; tasks
are 0-based in training order, s is the training task and t the evaluated one.
Rows of scope "current" (``dfcnn_tf.eval_scope``) count for their task only.

A task's "peak" has two definitions (docs/method.md, section "Metrics"):
``"max"`` is ``peak_accuracy``, the paper's wording (the best test accuracy during
the task's own phase: a selection on the test set, biased upward); ``"best_valid"``
is ``test_at_best_valid``, the released code's (the test accuracy at the first
evaluation of best validation accuracy during that phase: unbiased, the test
set plays no part in the choice). Forgetting and convergence take either.
A run's summary and per-task tables are in ``dfcnn_tf.run_metrics``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dfcnn_tf.eval_scope import full_evaluations

#: Columns every recorded history must have (one row per evaluation/task/split).
HISTORY_COLUMNS = ("run", "seed", "model", "task", "training_task", "epoch")
HISTORY_COLUMNS += ("task_epoch", "split", "accuracy", "time")
SPLITS = ("train", "valid", "test")
# Absolute slack when comparing an accuracy with ``fraction * peak``, so that an
# accuracy equal to the threshold up to float rounding counts as reached.
_THRESHOLD_TOLERANCE = 1e-12
#: The two definitions of a task's peak accuracy (argument ``peak``).
PEAKS = ("max", "best_valid")


def _check_history(history: pd.DataFrame, single_run: bool = True) -> pd.DataFrame:
    """Returns ``history`` after checking its columns, rows and (optionally) runs.

    Raises:
        ValueError: if it is not a DataFrame, lacks columns (named), is empty,
            or holds several runs while ``single_run`` is set.
    """
    if not isinstance(history, pd.DataFrame):
        raise ValueError(
            f"history must be a pandas DataFrame. Received: {type(history).__name__}"
        )
    missing = [name for name in HISTORY_COLUMNS if name not in history.columns]
    if missing:
        raise ValueError(
            f"history is missing required columns: {', '.join(missing)}. "
            f"Expected columns: {', '.join(HISTORY_COLUMNS)}"
        )
    if history.empty:
        raise ValueError("history is empty: no evaluation has been recorded")
    runs = pd.unique(history["run"])
    if single_run and len(runs) > 1:
        raise ValueError(
            f"history holds {len(runs)} runs ({', '.join(map(str, runs))}); this "
            "function takes one run: select it first or use summarize_runs"
        )
    return history


def _split_rows(history: pd.DataFrame, split: str) -> pd.DataFrame:
    """Returns the rows of one split ("train", "valid", "test") of a single run.

    Raises:
        ValueError: if the history is invalid or holds several runs, the split
            is unknown or has no rows, or an evaluation is recorded twice.
    """
    _check_history(history)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}. Received: split={split!r}")
    rows = history[history["split"] == split]
    if rows.empty:
        raise ValueError(f"history has no rows with split={split!r}")
    if rows.duplicated(["epoch", "task"]).any():
        raise ValueError(
            f"history records some (epoch, task) evaluation twice for split={split!r}"
        )
    return rows


def peak_accuracy(history: pd.DataFrame, split: str = "test") -> pd.Series:
    """Best accuracy of each task during its own training phase (paper, 4.2).

    Evaluations of task ``t`` while later tasks are trained do not count, even
    if they are higher. On the test split this is a maximum over test
    evaluations, biased upward; ``test_at_best_valid`` is the unbiased peak.

    Args:
        history: the recorded history of one run.
        split: the split whose accuracy is used.

    Returns:
        Series indexed by ``task``, named ``peak_accuracy``.

    Raises:
        ValueError: on an invalid or multi-run history or an unknown split.
    """
    rows = _split_rows(history, split)
    own = rows[rows["task"] == rows["training_task"]]
    peak = own.groupby("task")["accuracy"].max()
    return peak.rename("peak_accuracy")


def test_at_best_valid(history: pd.DataFrame) -> pd.Series:
    """Test accuracy of each task at its first evaluation of best validation accuracy.

    The released code's peak: within task t's own training phase, the first
    evaluation (smallest ``epoch``) whose validation accuracy is the phase's
    maximum selects the epoch, and t's test accuracy at that epoch is reported.
    The test set does not take part in the selection, so unlike
    ``peak_accuracy`` it is not biased upward.

    Args:
        history: the recorded history of one run, with "valid" and "test" rows.

    Returns:
        Series indexed by ``task``, named ``test_at_best_valid``; NaN for a task
        without a test evaluation at the selected epoch.

    Raises:
        ValueError: on an invalid or multi-run history or no valid/test rows.
    """
    valid = _split_rows(history, "valid")
    test = _split_rows(history, "test")
    own = valid[valid["task"] == valid["training_task"]].sort_values("epoch")
    best = own.loc[own.groupby("task")["accuracy"].idxmax(), ["task", "epoch"]]
    test = test.set_index(["task", "epoch"])["accuracy"]
    keys = pd.MultiIndex.from_frame(best)
    values = test.reindex(keys).to_numpy(dtype=float)
    return pd.Series(
        values, index=pd.Index(best["task"], name="task"), name="test_at_best_valid"
    ).sort_index()


def task_peaks(history: pd.DataFrame, peak: str = "max", split: str = "test"):
    """Each task's peak accuracy under one of the two definitions in ``PEAKS``.

    Args:
        history: the recorded history of one run.
        peak: "max" (``peak_accuracy`` of ``split``) or "best_valid"
            (``test_at_best_valid``; ``split`` must then be "test").
        split: the split whose accuracy is used.

    Returns:
        Series indexed by ``task``.

    Raises:
        ValueError: on an unknown ``peak``, "best_valid" with another split, or
            an invalid history.
    """
    if peak not in PEAKS:
        raise ValueError(f"peak must be one of {PEAKS}. Received: peak={peak!r}")
    if peak == "max":
        return peak_accuracy(history, split)
    if split != "test":
        raise ValueError(
            f'peak="best_valid" is a test accuracy. Received: split={split!r}'
        )
    return test_at_best_valid(history)


def accuracy_matrix(history: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Accuracy matrix ``A[s, t]``: accuracy on task t at the end of phase s,
    from phase s's last evaluation of every seen task (a task's end is one).

    Args:
        history: the recorded history of one run.
        split: the split whose accuracy is used.

    Returns:
        DataFrame, rows ``training_task`` s, columns ``task`` t; NaN if t > s.

    Raises:
        ValueError: on an invalid or multi-run history or an unknown split.
    """
    rows = full_evaluations(_split_rows(history, split))
    last_epoch = rows.groupby("training_task")["epoch"].transform("max")
    last = rows[rows["epoch"] == last_epoch]
    matrix = last.pivot(index="training_task", columns="task", values="accuracy")
    tasks = sorted(set(rows["task"]) | set(rows["training_task"]))
    matrix = matrix.reindex(index=tasks, columns=tasks).astype(float)
    return matrix.rename_axis(index="training_task", columns="task")


def _ratio(accuracy: pd.Series, peak: pd.Series) -> pd.Series:
    """Returns ``accuracy / peak`` (aligned Series), NaN where the peak is 0."""
    return (accuracy / peak.where(peak > 0)).astype(float)


def forgetting_ratios(
    history: pd.DataFrame, split: str = "test", peak: str = "max"
) -> pd.DataFrame:
    """Catastrophic forgetting ratio ``A[s, t] / peak_t`` for every s >= t.

    ``tasks_since = s - t`` counts the tasks learned after t; 0 is the ratio of
    the end-of-own-phase accuracy to the peak. A zero peak gives a NaN ratio.

    Args:
        history: the recorded history of one run.
        split: the split whose accuracy is used.
        peak: the peak definition, "max" or "best_valid" (see ``task_peaks``).

    Returns:
        Columns ``task``, ``training_task``, ``tasks_since``, ``ratio``.

    Raises:
        ValueError: on an invalid or multi-run history or an unknown split.
    """
    matrix = accuracy_matrix(history, split)
    peaks = task_peaks(history, peak, split)
    long = matrix.stack().dropna().rename("accuracy").reset_index()
    long = long.sort_values(["task", "training_task"], ignore_index=True)
    long = long.astype({"task": int, "training_task": int})
    long["tasks_since"] = long["training_task"] - long["task"]
    long["ratio"] = _ratio(long.pop("accuracy"), long["task"].map(peaks))
    return long[["task", "training_task", "tasks_since", "ratio"]]


def forgetting_curve(
    history: pd.DataFrame, split: str = "test", peak: str = "max"
) -> pd.Series:
    """Mean forgetting ratio as a function of tasks learned since (Figure 3(b)).

    Args:
        history: the recorded history of one run.
        split: the split whose accuracy is used.
        peak: the peak definition, "max" or "best_valid" (see ``task_peaks``).

    Returns:
        Series indexed by ``tasks_since`` (0, 1, ...), named
        ``forgetting_ratio``: mean ratio over tasks with that many tasks since.

    Raises:
        ValueError: on an invalid or multi-run history or an unknown split.
    """
    ratios = forgetting_ratios(history, split, peak)
    curve = ratios.groupby("tasks_since")["ratio"].mean()
    return curve.rename("forgetting_ratio")


def final_forgetting_ratio(
    history: pd.DataFrame, split: str = "test", peak: str = "max"
) -> pd.Series:
    """Forgetting ratio ``A[T, t] / peak_t`` after the last phase T.

    Args:
        history: the recorded history of one run.
        split: the split whose accuracy is used.
        peak: the peak definition, "max" or "best_valid" (see ``task_peaks``).

    Returns:
        Series indexed by ``task``, named ``final_forgetting_ratio``.

    Raises:
        ValueError: on an invalid or multi-run history or an unknown split.
    """
    matrix = accuracy_matrix(history, split)
    peaks = task_peaks(history, peak, split)
    final = matrix.iloc[-1]
    ratio = _ratio(final, peaks.reindex(final.index))
    return ratio.rename("final_forgetting_ratio")


def convergence_epochs(
    history: pd.DataFrame,
    fraction: float = 0.98,
    split: str = "test",
    peak: str = "max",
) -> pd.Series:
    """Epochs into each task's phase until it first reaches ``fraction`` of peak.

    Only evaluations are seen, so the answer is the ``task_epoch`` of the first
    evaluation in task t's own phase with accuracy >= ``fraction * peak_t``.

    Args:
        history: the recorded history of one run.
        fraction: share of the peak accuracy to reach, in (0, 1].
        split: the split whose accuracy is used.
        peak: the peak definition, "max" or "best_valid" (see ``task_peaks``).

    Returns:
        Series indexed by ``task``, named ``convergence_epoch``: ints, or
        floats with NaN for a task whose peak is NaN.

    Raises:
        ValueError: on an invalid or multi-run history, split or fraction.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1]. Received: fraction={fraction}")
    rows = _split_rows(history, split)
    own = rows[rows["task"] == rows["training_task"]]
    peaks = task_peaks(history, peak, split)
    threshold = fraction * own["task"].map(peaks)
    reached = own[own["accuracy"] >= threshold - _THRESHOLD_TOLERANCE]
    first = reached.groupby("task")["task_epoch"].min().reindex(peaks.index)
    first = first if first.isna().any() else first.astype(int)
    return first.rename("convergence_epoch")


def training_time(history: pd.DataFrame) -> float:
    """Wall-clock seconds of the whole task sequence.

    Args:
        history: the recorded history of one run.

    Returns:
        The largest recorded ``time``.

    Raises:
        ValueError: on an invalid or multi-run history.
    """
    return float(_check_history(history)["time"].max())


def _check_matrix(matrix: pd.DataFrame) -> None:
    """Checks that ``matrix`` is a non-empty square accuracy matrix.

    Raises:
        ValueError: if it is empty or its rows and columns name other tasks.
    """
    if not isinstance(matrix, pd.DataFrame) or matrix.empty:
        raise ValueError("accuracy matrix must be a non-empty DataFrame")
    if list(matrix.index) != list(matrix.columns):
        raise ValueError(
            "accuracy matrix rows (training tasks) and columns (tasks) must name "
            f"the same tasks. Received: rows={list(matrix.index)}, "
            f"columns={list(matrix.columns)}"
        )


def average_final_accuracy(matrix: pd.DataFrame) -> float:
    """Mean accuracy over all tasks after the last phase: ``mean_t A[T, t]``.

    Args:
        matrix: an accuracy matrix as returned by ``accuracy_matrix``.

    Returns:
        The mean of the last row.

    Raises:
        ValueError: if the matrix is empty or not square.
    """
    _check_matrix(matrix)
    return float(matrix.iloc[-1].mean())


def backward_transfer(matrix: pd.DataFrame) -> float:
    """Backward transfer ``mean_{t<T} (A[T, t] - A[t, t])`` (Lopez-Paz & Ranzato).

    The last task T is left out (its term is 0 by definition); negative means
    forgetting. With a single task there is no term and the result is NaN.

    Args:
        matrix: an accuracy matrix as returned by ``accuracy_matrix``.

    Returns:
        The backward transfer, NaN for a single task.

    Raises:
        ValueError: if the matrix is empty or not square.
    """
    _check_matrix(matrix)
    values = matrix.to_numpy(dtype=float)
    if len(values) < 2:
        return float("nan")
    return float(np.mean(values[-1, :-1] - np.diag(values)[:-1]))


def forward_transfer(matrix: pd.DataFrame, reference: pd.Series) -> float:
    """Forward transfer ``mean_t (A[t, t] - reference[t])`` against a reference.

    Args:
        matrix: an accuracy matrix as returned by ``accuracy_matrix``.
        reference: per-task accuracy of a reference learner indexed by task,
            e.g. single-task learning peak accuracies.

    Returns:
        The mean gain of the just-learned accuracy over the reference.

    Raises:
        ValueError: if the matrix is bad or the reference has other tasks.
    """
    _check_matrix(matrix)
    tasks = list(matrix.columns)
    if sorted(reference.index) != sorted(tasks):
        raise ValueError(
            "reference tasks do not match the accuracy matrix tasks. "
            f"Received: reference={sorted(reference.index)}, matrix={tasks}"
        )
    diagonal = pd.Series(np.diag(matrix.to_numpy(dtype=float)), index=tasks)
    return float((diagonal - reference.reindex(tasks).astype(float)).mean())
