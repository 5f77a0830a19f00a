"""The tuning objective: mean validation accuracy over tasks, never test accuracy.

Lifelong runs score the mean over tasks of each task's peak validation
accuracy during its own training phase (the paper's peak per-task accuracy,
section 4.2, read on the validation split). Multi-task runs score the best
mean-over-tasks validation accuracy over the evaluation points (appendix C's
model selection, over evaluations of every task). Both read only the rows
with `split == "valid"`, and the tuner hands the training loop tasks whose
test split is empty, so the test images are never even evaluated during a
search.
"""

import dataclasses

import numpy as np

from dfcnn_tf import metrics
from dfcnn_tf.eval_scope import full_evaluations

OBJECTIVE = "valid_accuracy"  # the metric name the oracles maximise


def without_test(tasks):
    """The tasks with their test images and labels removed (kept shape/dtype)."""
    return [
        dataclasses.replace(task, x_test=task.x_test[:0], y_test=task.y_test[:0])
        for task in tasks
    ]


def valid_accuracy(history, protocol):
    """The objective of one run's history (validation rows only).

    Args:
        history: the long history table of one run (`dfcnn_tf.results`).
        protocol: "lifelong" or "mtl".

    Returns:
        A float in [0, 1].

    Raises:
        ValueError: if the history has no validation rows.
    """
    valid = history[history["split"] == "valid"]
    if valid.empty:
        raise ValueError("history has no validation rows: nothing to tune on")
    if protocol == "lifelong":
        return float(metrics.peak_accuracy(valid, "valid").mean())
    table = full_evaluations(valid).pivot_table(
        index="epoch", columns="task", values="accuracy"
    )
    return float(table.mean(axis=1).max())


def trial_metrics(history, protocol, parameters):
    """The metrics a trial reports to the oracle: objective, time, size.

    Args:
        history: the run's history table.
        protocol: "lifelong" or "mtl".
        parameters: the trained model's parameter count.

    Returns:
        `{"valid_accuracy": ..., "training_time_s": ..., "parameters": ...}`.
    """
    return {
        OBJECTIVE: valid_accuracy(history, protocol),
        "training_time_s": float(np.nanmax(history["time"])),
        "parameters": float(parameters),
    }
