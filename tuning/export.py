"""What a search leaves in its folder: the trials table and the best preset file.

- `trials.csv`: one row per trial (id, status, objective and other metrics,
  every active hyper-parameter), best objective first;
- `best_config.json`: the resolved `Experiment` of the best trial, which
  `python -m dfcnn_tf.lifelong --config FILE` runs.
"""

from pathlib import Path

import pandas as pd

from dfcnn_tf.config_file import write_experiment
from tuning.objective import OBJECTIVE

TABLE_FILE = "trials.csv"
BEST_FILE = "best_config.json"


def trials_table(oracle):
    """The oracle's trials as a DataFrame sorted by objective (best first).

    Trials without an objective (failed, running) come last.
    """
    rows = []
    for trial in oracle.trials.values():
        row = {"trial_id": trial.trial_id, "status": trial.status}
        for name in trial.metrics.metrics:
            row[name] = trial.metrics.get_last_value(name)
        row.update(trial.hyperparameters.values)
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    if OBJECTIVE not in table:
        table[OBJECTIVE] = float("nan")
    columns = ["trial_id", "status", OBJECTIVE]
    table = table[columns + [c for c in table.columns if c not in columns]]
    order = table.sort_values(
        [OBJECTIVE, "trial_id"], ascending=[False, True], na_position="last"
    )
    return order.reset_index(drop=True)


def best_experiment(tuner):
    """The `Experiment` of the best finished trial, or None if there is none."""
    best = tuner.oracle.get_best_trials(1)
    if not best:
        return None
    return tuner.hypermodel.experiment(best[0].hyperparameters)


def export(tuner, out_dir):
    """Writes `trials.csv` and `best_config.json` into `out_dir`.

    Returns:
        `(table, best_config_path or None)`.
    """
    out_dir = Path(out_dir)
    table = trials_table(tuner.oracle)
    table.to_csv(out_dir / TABLE_FILE, index=False)
    experiment = best_experiment(tuner)
    if experiment is None:
        return table, None
    path = out_dir / BEST_FILE
    write_experiment(experiment, path)
    return table, path
