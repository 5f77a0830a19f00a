"""Results across runs: loading a results folder and the paper's Figure 3(a) table.

Every run folder under a results directory holds `history.csv` (or parquet)
and `run.json`; `load_results` stacks them into one long table. `summary_table`
gives, per model, the mean and 95% confidence interval over trials (seeds)
of each run's headline metrics.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from dfcnn_tf import units
from dfcnn_tf.protocols import get_protocol
from dfcnn_tf.results import read_history
from dfcnn_tf.variants import variant_labels

# Figure 3(a) columns: peak per-task accuracy, forgetting, convergence, time;
# each peak-based one twice: against the paper's peak (maximum test accuracy)
# and against the released code's (test accuracy at best validation accuracy).
LIFELONG_COLUMNS = (
    "mean_peak_accuracy",
    "mean_test_at_best_valid",
    "mean_final_accuracy",
    "mean_forgetting_ratio",
    "mean_forgetting_ratio_best_valid",
    "backward_transfer",
    "mean_convergence_epochs",
    "mean_convergence_epochs_best_valid",
    "training_time_s",
)
# The multi-task table (appendix C): error rates at the selected epoch (the
# paper's) and at the end, the selected epoch, time.
MULTITASK_COLUMNS = (
    "mean_selected_error",
    "mean_final_error",
    "max_selected_error",
    "selected_epoch",
    "training_time_s",
)
# Epochs and seconds get one decimal (accuracies and points too: `units`).
_ONE_DECIMAL_COLUMNS = ("convergence_epochs", "training_time_s", "selected_epoch")


def run_dirs(results_dir):
    """Run folders (those with a run.json) under `results_dir`, sorted."""
    return sorted(p.parent for p in Path(results_dir).glob("*/run.json"))


def load_results(results_dir, finished_only=True, skipped=None):
    """Every run's history under `results_dir`, stacked, plus its protocol.

    Args:
        results_dir: the folder given as `--out` to the runs.
        finished_only: leave out runs whose status is not "finished".
        skipped: a dict that receives `{run folder: reason}` for every run
            that could not be read (damaged or missing files); such runs
            are left out rather than stopping the whole report.

    Returns:
        A long DataFrame (history columns + `preset`, `protocol`); its
        `model` column labels runs of one model under different settings
        apart (`dfcnn_tf.variants`), e.g. `dfcnn [train.precision=...]`.

    Raises:
        FileNotFoundError: if no readable run is found.
    """
    frames, configs = [], {}
    for run_dir in run_dirs(results_dir):
        try:
            read = _read_run(run_dir, finished_only)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            if skipped is not None:
                skipped[run_dir] = f"{type(error).__name__}: {error}"
            continue
        if read is not None:
            frames.append(read[0])
            configs[len(frames) - 1] = read[1]
    if not frames:
        raise FileNotFoundError(
            f"No readable finished run (run.json) under {results_dir}"
        )
    for index, label in variant_labels(configs).items():
        frames[index]["model"] = label
    return pd.concat(frames, ignore_index=True)


def _read_run(run_dir, finished_only):
    """One run's history with `preset` and `protocol`, and its configuration;
    None if unfinished."""
    info = json.loads((run_dir / "run.json").read_text())
    if finished_only and info.get("status") != "finished":
        return None
    config = json.loads((run_dir / "config.json").read_text())
    frame = read_history(run_dir)
    frame["preset"] = config["preset"]
    frame["protocol"] = config["train"].get("protocol", "lifelong")
    return frame, config


def run_summaries(results):
    """One row per run: model, seed and the protocol's summary metrics."""
    rows = []
    for run, history in results.groupby("run", sort=True):
        protocol = get_protocol(history["protocol"].iloc[0])
        history = history.drop(columns=["preset", "protocol"], errors="ignore")
        summary = protocol.summarize(history)
        rows.append(
            {
                "run": run,
                "model": history["model"].iloc[0],
                "seed": int(history["seed"].iloc[0]),
                **summary.to_dict(),
            }
        )
    return pd.DataFrame(rows).set_index("run")


def ci95(values):
    """Half-width of the 95% t confidence interval of the mean (NaN if n < 2)."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) < 2:
        return float("nan")
    sem = values.std(ddof=1) / np.sqrt(len(values))
    return float(stats.t.ppf(0.975, len(values) - 1) * sem)


def summary_table(results, columns=LIFELONG_COLUMNS):
    """Per model: trials, and mean and 95% CI half-width of each metric.

    Returns:
        DataFrame indexed by model with columns `trials`, `<metric>` and
        `<metric>_ci95`.
    """
    per_run = run_summaries(results)
    columns = [c for c in columns if c in per_run.columns]
    table = {}
    for model, runs in per_run.groupby("model", sort=True):
        row = {"trials": len(runs)}
        for column in columns:
            row[column] = runs[column].mean()
            row[f"{column}_ci95"] = ci95(runs[column])
        table[model] = row
    return pd.DataFrame.from_dict(table, orient="index").rename_axis("model")


def format_table(table, columns=LIFELONG_COLUMNS, percent_digits=1):
    """The summary table as text cells `mean ± ci` (Markdown-ready DataFrame),
    accuracies in % and backward transfer in points with `percent_digits`
    decimals, each header with its unit (`dfcnn_tf.units`)."""
    out = pd.DataFrame(index=table.index)
    out["trials"] = table["trials"].astype(int)
    for column in (c for c in columns if c in table.columns):
        digits = 3 if units.unit(column) is None else percent_digits
        if any(name in column for name in _ONE_DECIMAL_COLUMNS):
            digits = 1
        scale = units.scale(column)
        mean, ci = table[column] * scale, table[f"{column}_ci95"] * scale
        out[units.header(column)] = [
            mean_ci_text(m, c, digits) for m, c in zip(mean, ci, strict=True)
        ]
    return out


def mean_ci_text(mean, half, digits, signed=False):
    """One table cell: `mean ± half` with `digits` decimals, the mean alone
    when the interval is NaN (one trial); `signed` writes the mean's sign."""
    text = f"{mean:+.{digits}f}" if signed else f"{mean:.{digits}f}"
    return text if np.isnan(half) else f"{text} ± {half:.{digits}f}"


def paired_differences(results, reference, column="mean_peak_accuracy"):
    """`reference` minus every other model, trial by trial, on one metric.

    Runs of one seed share their data subsets and task order, so pairing them
    by seed removes that source of variance from the comparison.

    Returns:
        DataFrame indexed by the other models with columns `pairs` (seeds
        both models ran), `difference` (mean) and `difference_ci95`; empty if
        `reference` has no run.
    """
    per_run = run_summaries(results)
    by_seed = per_run.pivot_table(index="seed", columns="model", values=column)
    rows = {}
    if reference in by_seed.columns:
        for model in (m for m in by_seed.columns if m != reference):
            diff = (by_seed[reference] - by_seed[model]).dropna()
            rows[model] = {
                "pairs": len(diff),
                "difference": diff.mean(),
                "difference_ci95": ci95(diff),
            }
    columns = ["pairs", "difference", "difference_ci95"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns)
