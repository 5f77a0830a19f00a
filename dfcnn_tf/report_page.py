"""`python -m dfcnn_tf.report RESULTS_DIR`: tables and figures of a results folder.

Writes into `RESULTS_DIR/report/` (or `--out`):
- `summary.md`: the Figure 3(a) table (mean ± 95% CI over trials per model),
  the forgetting ratio by number of tasks learned since (Figure 3(b)) and the
  runs it covers;
- `fig3b_forgetting.png`, `fig3c_convergence.png`;
- `fig4_<model>.png`: every task's test accuracy over the first trial's run,
  with STL's peak accuracies dotted where STL runs are present;
- `accuracy_matrix_<model>.png` of the first trial.
"""

import argparse
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from dfcnn_tf import metrics, plots
from dfcnn_tf.aggregate import (
    format_table,
    load_results,
    paired_differences,
    run_summaries,
    summary_table,
)

REFERENCE_MODEL = "stl"  # its peak accuracies are Figure 4's dotted lines
COMPARED_MODEL = "dfcnn"  # the paired differences are taken from it


def _first_runs(results):
    """The lowest-seed run of every model: {model: history}."""
    first = {}
    for model, runs in results.groupby("model", sort=True):
        seed = runs["seed"].min()
        first[model] = runs[runs["seed"] == seed].drop(columns=["preset", "protocol"])
    return first


def _save(ax, path):
    ax.figure.tight_layout()
    ax.figure.savefig(path, dpi=90)
    plt.close(ax.figure)
    return path


def write_figures(results, out_dir):
    """Saves every figure as PNG under `out_dir`; returns the paths."""
    first = _first_runs(results)
    reference = None
    if REFERENCE_MODEL in first:
        reference = metrics.peak_accuracy(first[REFERENCE_MODEL])
    paths = [
        _save(plots.forgetting_curves(results), out_dir / "fig3b_forgetting.png"),
        _save(plots.convergence(results), out_dir / "fig3c_convergence.png"),
    ]
    for model, history in first.items():
        ax = plots.task_accuracy(history, reference, title=f"{model}: test accuracy")
        paths.append(_save(ax, out_dir / f"fig4_{model}.png"))
        ax = plots.accuracy_matrix(history, title=f"{model}: A[s, t]")
        paths.append(_save(ax, out_dir / f"accuracy_matrix_{model}.png"))
    return paths


def forgetting_table(results):
    """Mean forgetting ratio per model (rows) and tasks learned since (columns)."""
    curves = {}
    for model, runs in results.groupby("model", sort=True):
        per_run = [metrics.forgetting_curve(h) for _, h in runs.groupby("run")]
        curves[model] = pd.concat(per_run, axis=1).mean(axis=1)
    return pd.DataFrame(curves).T.rename_axis("model")


def paired_table(results):
    """`COMPARED_MODEL`'s peak accuracy minus each model's, as text cells."""
    paired = paired_differences(results, COMPARED_MODEL)
    cells = [
        f"{d:+.2f}" if pd.isna(c) else f"{d:+.2f} ± {c:.2f}"
        for d, c in zip(
            paired.difference * 100, paired.difference_ci95 * 100, strict=True
        )
    ]
    return pd.DataFrame(
        {"pairs": paired.pairs.astype(int), "difference": cells}, index=paired.index
    ).rename_axis("model")


def summary_markdown(results):
    """The Markdown text of `summary.md`."""
    table = format_table(summary_table(results))
    forgetting = forgetting_table(results).round(3)
    paired = paired_table(results)
    runs = run_summaries(results)[["model", "seed"]]
    return (
        "\n\n".join(
            [
                "# Lifelong results (mean ± 95% CI over trials)",
                "Accuracies in %; forgetting ratio = final accuracy / peak accuracy; "
                "convergence = epochs to 98% of peak; time in seconds.",
                table.to_markdown(),
                "## Forgetting ratio by number of tasks learned since (Figure 3(b))",
                forgetting.to_markdown(),
                f"## Peak per-task accuracy of {COMPARED_MODEL} minus each model, "
                "paired by seed (points, mean ± 95% CI)",
                paired.to_markdown(disable_numparse=True),  # keep the + sign
                "## Runs",
                runs.to_markdown(),
            ]
        )
        + "\n"
    )


def main(argv=None):
    """Entry point; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m dfcnn_tf.report", description=__doc__.splitlines()[0]
    )
    parser.add_argument("results_dir", help="folder given as --out to the runs")
    parser.add_argument("--out", help="where to write (default: RESULTS_DIR/report)")
    args = parser.parse_args(argv)
    try:
        results = load_results(args.results_dir)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    results = results[results["protocol"] == "lifelong"]
    out_dir = Path(args.out or Path(args.results_dir) / "report")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.md").write_text(summary_markdown(results))
    paths = write_figures(results, out_dir)
    print((out_dir / "summary.md").read_text())
    print("\n".join(f"wrote {p}" for p in [out_dir / "summary.md", *paths]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
