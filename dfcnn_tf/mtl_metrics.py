"""Multi-task metrics: error rate per task and averaged (appendix C, tables 1-2).

All tasks are evaluated together at every evaluation point of a multi-task
run (every `train.eval_all_every` epochs; rows of scope "current" would not
be read). Two readings of the error are reported: the error at the end of
the run, and the error at the evaluation point with the best mean validation
accuracy over tasks (model selection on validation data, never on test data).
"""

import pandas as pd

from dfcnn_tf import metrics
from dfcnn_tf.eval_scope import full_evaluations


def _accuracy_table(history, split):
    """Accuracy per evaluation epoch (rows) and task (columns) of one split."""
    metrics.training_time(history)  # validates columns, rows and single run
    rows = full_evaluations(history[history["split"] == split])
    if rows.empty:
        raise ValueError(f"history has no rows for split {split!r}")
    return rows.pivot_table(index="epoch", columns="task", values="accuracy")


def selected_epoch(history):
    """The first evaluation epoch with the best mean validation accuracy."""
    return int(_accuracy_table(history, "valid").mean(axis=1).idxmax())


def error_rates(history):
    """Per task: final test error, and test error at the selected epoch.

    Returns:
        DataFrame indexed by task with columns `final_error` and
        `selected_error` (in [0, 1]).
    """
    test = _accuracy_table(history, "test")
    return pd.DataFrame(
        {
            "final_error": 1.0 - test.iloc[-1],
            "selected_error": 1.0 - test.loc[selected_epoch(history)],
        }
    ).rename_axis("task")


def summarize(history):
    """One multi-task run's summary: mean errors, selected epoch, time."""
    errors = error_rates(history)
    return pd.Series(
        {
            "mean_final_error": errors["final_error"].mean(),
            "mean_selected_error": errors["selected_error"].mean(),
            "max_selected_error": errors["selected_error"].max(),
            "selected_epoch": selected_epoch(history),
            "training_time_s": metrics.training_time(history),
            "num_tasks": len(errors),
        },
        name=str(history["run"].iloc[0]),
    ).rename_axis("metric")
