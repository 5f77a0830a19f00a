"""The report page: `summary.md`, the paper's results section (section 4.3).

Tables of Figure 3(a)-(c) and the per-model Figure 4 and accuracy matrices,
each figure saved as PNG (200 dpi), SVG and PDF and embedded beside its table.
Accuracies are in % and their differences (BWT, paired differences) in
percentage points everywhere, each column header naming its unit
(`dfcnn_tf.units`).
"""

from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from dfcnn_tf import metrics, plots, units
from dfcnn_tf.aggregate import (
    MULTITASK_COLUMNS,
    format_table,
    load_results,
    mean_ci_text,
    paired_differences,
    run_summaries,
    summary_table,
)

REFERENCE_MODEL = "stl"  # its peak accuracies are Figure 4's dotted lines
COMPARED_MODEL = "dfcnn"  # the paired differences are taken from it
FIGURE_FORMATS = ("png", "svg", "pdf")
PNG_DPI = 200


def _paired_title(what, note=""):
    return (
        f"{what} of {COMPARED_MODEL} minus each model, paired by seed "
        f"(points, mean ± 95% CI{note})"
    )


_ERRS_LESS = f"; negative: {COMPARED_MODEL} errs less"
LIFELONG_PAIRED = (
    (_paired_title("Peak per-task accuracy"), "mean_peak_accuracy"),
    (
        _paired_title("Test accuracy at best validation accuracy"),
        "mean_test_at_best_valid",
    ),
    (_paired_title("Final accuracy"), "mean_final_accuracy"),
)
MULTITASK_PAIRED = (
    (_paired_title("Selected error", _ERRS_LESS), "mean_selected_error"),
    (_paired_title("Final error", _ERRS_LESS), "mean_final_error"),
)
RUN_ACCURACIES = [
    "mean_peak_accuracy",
    "mean_test_at_best_valid",
    "mean_final_accuracy",
]
RUN_ERRORS = ["mean_selected_error", "mean_final_error"]


def _first_runs(results):
    """The lowest-seed run of every model: {model: history}."""
    first = {}
    for model, runs in results.groupby("model", sort=True):
        seed = runs["seed"].min()
        first[model] = runs[runs["seed"] == seed].drop(columns=["preset", "protocol"])
    return first


def save_figure(ax, path_stem):
    """Saves the Axes' figure in every `FIGURE_FORMATS`; returns the PNG path."""
    figure = ax.figure
    for suffix in FIGURE_FORMATS:
        figure.savefig(Path(f"{path_stem}.{suffix}"), dpi=PNG_DPI, bbox_inches="tight")
    plt.close(figure)
    return Path(f"{path_stem}.png")


def write_figures(results, out_dir):
    """Saves every figure under `out_dir`.

    Returns:
        `{name: PNG path}` with names `fig3b_forgetting`, `fig3c_convergence`,
        `fig4_<model>` and `accuracy_matrix_<model>`.
    """
    out_dir = Path(out_dir)
    first = _first_runs(results)
    reference = None
    if REFERENCE_MODEL in first:
        reference = metrics.peak_accuracy(first[REFERENCE_MODEL])
    makers = {
        "fig3b_forgetting": partial(plots.forgetting_curves, results),
        "fig3c_convergence": partial(plots.convergence, results),
    }
    for model, history in first.items():
        makers[f"fig4_{model}"] = partial(
            plots.task_accuracy,
            history,
            reference,
            title=f"{model}: test accuracy (seed {history['seed'].iloc[0]})",
            reference_label=f"{REFERENCE_MODEL} peak",
        )
        makers[f"accuracy_matrix_{model}"] = partial(
            plots.accuracy_matrix, history, title=f"{model}: test accuracy A[s, t] (%)"
        )
    # drawn, saved and closed one at a time: a folder of many models never
    # holds all its figures in memory at once
    return {name: save_figure(draw(), out_dir / name) for name, draw in makers.items()}


def forgetting_table(results):
    """Mean forgetting ratio per model (rows) and tasks learned since (columns)."""
    curves = {}
    for model, runs in results.groupby("model", sort=True):
        per_run = [metrics.forgetting_curve(h) for _, h in runs.groupby("run")]
        curves[model] = pd.concat(per_run, axis=1).mean(axis=1)
    return pd.DataFrame(curves).T.rename_axis("model")


def paired_table(results, column="mean_peak_accuracy"):
    """`COMPARED_MODEL`'s `column` minus each model's, as text cells (points)."""
    paired = paired_differences(results, COMPARED_MODEL, column)
    cells = [
        mean_ci_text(d, c, units.POINT_DIGITS, signed=True)
        for d, c in zip(
            paired.difference * 100, paired.difference_ci95 * 100, strict=True
        )
    ]
    return pd.DataFrame(
        {"pairs": paired.pairs.astype(int), units.header("difference"): cells},
        index=paired.index,
    ).rename_axis("model")


def _paired_sections(results, sections):
    """A heading and `paired_table` for each (title, column) of `sections`,
    where the results hold `COMPARED_MODEL` and another model (else none)."""
    models = set(results["model"])
    if COMPARED_MODEL not in models or len(models) < 2:
        return []
    pages = []
    for title, column in sections:
        table = paired_table(results, column)
        pages += [f"## {title}", table.to_markdown(disable_numparse=True)]  # keep +
    return pages


def _image(figures, name, caption):
    """A Markdown image of figure `name` (linked by file name), or nothing."""
    if name not in figures:
        return []
    return [f"![{caption}]({Path(figures[name]).name})"]


def _model_sections(results, figures):
    sections = []
    for model in sorted(results["model"].unique()):
        sections += [f"### {model} (first trial)"]
        sections += _image(figures, f"fig4_{model}", f"Figure 4: {model}")
        sections += _image(figures, f"accuracy_matrix_{model}", f"{model}: A[s, t]")
    return sections


def summary_markdown(results, figures=None):
    """The Markdown text of `summary.md`; `figures` (`write_figures`) are embedded."""
    figures = figures or {}
    return (
        "\n\n".join(
            [
                "# Lifelong results (mean ± 95% CI over trials)",
                "Accuracies in %, backward transfer and differences in "
                "percentage points (pp), as each column header says; forgetting "
                "ratio = final accuracy / peak accuracy; convergence = epochs to "
                "98% of peak; time in seconds. Two peaks "
                "(docs/method.md, section 'Metrics'): `peak_accuracy` is the "
                "maximum test accuracy during the task's phase (the paper's "
                "wording, biased upward); `test_at_best_valid` is the test "
                "accuracy at the first evaluation of best validation accuracy "
                "(the released code's, unbiased); `*_best_valid` columns are "
                "taken against the latter.",
                "## Figure 3(a): accuracy, forgetting, convergence and time",
                format_table(summary_table(results)).to_markdown(),
                "## Figure 3(b): forgetting ratio by number of tasks learned since",
                *_image(figures, "fig3b_forgetting", "Figure 3(b)"),
                forgetting_table(results).round(3).to_markdown(),
                "## Figure 3(c): epochs to 98% of the peak accuracy",
                *_image(figures, "fig3c_convergence", "Figure 3(c)"),
                *_paired_sections(results, LIFELONG_PAIRED),
                "## Figure 4: test accuracy of every task over the run",
                *_model_sections(results, figures),
                "## Runs (accuracy in %)",
                run_table(results, RUN_ACCURACIES).to_markdown(),
            ]
        )
        + "\n"
    )


def run_table(results, columns):
    """Model, seed and `columns` (fractions, shown in %) of every run."""
    runs = run_summaries(results)[["model", "seed", *columns]]
    return runs.assign(**{c: (runs[c] * 100).round(2) for c in columns})


def multitask_markdown(results):
    """The page of multi-task runs (appendix C): per model the mean ± 95% CI
    over trials of the error rates, DF-CNN's error minus each model's, paired
    by seed (selected and final), and every run's errors."""
    table = summary_table(results, MULTITASK_COLUMNS)
    shown = format_table(table, MULTITASK_COLUMNS, percent_digits=2)
    return (
        "\n\n".join(
            [
                "# Multi-task runs (appendix C)",
                "Error rates in % over all tasks, mean ± 95% CI over trials. "
                "`mean_selected_error` is read at the evaluation with the best "
                "mean validation accuracy (the paper's tables), "
                "`mean_final_error` after the last epoch.",
                shown.to_markdown(disable_numparse=True),
                *_paired_sections(results, MULTITASK_PAIRED),
                "## Runs (error in %)",
                run_table(results, RUN_ERRORS).to_markdown(),
            ]
        )
        + "\n"
    )


def write_report(results_dir, out_dir=None, skipped=None):
    """Writes `summary.md` and every figure of the lifelong runs in `results_dir`
    (a folder of multi-task runs only gets their table).

    Args:
        results_dir: the runs' folder.
        out_dir: where to write (default `<results_dir>/report`).
        skipped: a dict receiving `{run folder: reason}` of unreadable runs.

    Returns:
        `[summary.md path, PNG paths...]`.

    Raises:
        FileNotFoundError: if `results_dir` holds no readable finished run.
    """
    results = load_results(results_dir, skipped=skipped)
    lifelong = results[results["protocol"] == "lifelong"]
    out_dir = Path(out_dir or Path(results_dir) / "report")
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = out_dir / "summary.md"
    if lifelong.empty:
        summary.write_text(multitask_markdown(results))
        return [summary]
    figures = write_figures(lifelong, out_dir)
    summary.write_text(summary_markdown(lifelong, figures))
    return [summary, *figures.values()]
