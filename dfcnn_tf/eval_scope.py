"""Which tasks an evaluation point covered: the history's `scope` column.

See docs/method.md, section 'Training'. The lifelong loop evaluates every
task seen so far every `train.eval_all_every` epochs of a task and at its end
(scope "all"), and only the task being trained at the other epochs that
`train.eval_current_every` divides (scope "current"). A task's own-phase
metrics (peak, test accuracy at best validation, convergence) read both;
whatever compares several tasks at one point (the accuracy matrix, hence
forgetting and transfer; the multi-task selection) reads "all" rows only.
Histories, checkpoints and learners written before the column existed hold
only evaluations of every seen task: they read as "all".
"""

import pandas as pd

SCOPE = "scope"
ALL, CURRENT = "all", "current"


def full_evaluations(history: pd.DataFrame) -> pd.DataFrame:
    """The rows of evaluation points at which every seen task was evaluated."""
    if SCOPE not in history.columns:
        return history
    return history[history[SCOPE] != CURRENT]


def with_scope(history: pd.DataFrame) -> pd.DataFrame:
    """`history` with a `scope` column of strings, "all" where it has none
    (in place)."""
    scope = (
        history[SCOPE] if SCOPE in history.columns else pd.Series(index=history.index)
    )
    history[SCOPE] = scope.fillna(ALL).astype(str)
    return history
