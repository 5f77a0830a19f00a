"""Figures of the paper's lifelong results (section 4.3, Figures 3 and 4).

Each function draws on a matplotlib Axes (a new figure if none is given) and
returns the Axes, so notebooks can show them and `dfcnn_tf.report` can save
them as PNG, SVG and PDF.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from dfcnn_tf import metrics
from dfcnn_tf.aggregate import ci95

# Readable in a two-column paper at full width and on screen.
STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
}


def _axes(ax, size=(7, 4)):
    if ax is None:
        with plt.rc_context(STYLE):
            _, ax = plt.subplots(figsize=size)
    return ax


def _legend_outside(ax, **kwargs):
    """Puts the legend to the right of the plot area, clear of the data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, **kwargs)


def task_accuracy(history, reference=None, ax=None, title=None, reference_label=None):
    """Figure 4: test accuracy (%) of every task over the whole run.

    One colour per task; the line is thick while the task is being trained
    and thin afterwards. `reference` (e.g. STL peak accuracy per task) is
    drawn as dotted horizontal lines in the task's colour. The legend, outside
    the plot, names the tasks and explains the three line styles.

    Args:
        history: one run's history.
        reference: optional Series of per-task accuracies (index = task).
        ax: Axes to draw on.
        title: plot title.
        reference_label: legend text of the dotted lines.

    Returns:
        The Axes.
    """
    ax = _axes(ax)
    test = history[history["split"] == "test"]
    colours = plt.get_cmap("tab10")
    for task, rows in test.groupby("task"):
        rows = rows.sort_values("epoch")
        colour = colours(task % 10)
        own = rows[rows["training_task"] == task]
        ax.plot(rows["epoch"], rows["accuracy"] * 100, color=colour, lw=1, alpha=0.8)
        ax.plot(
            own["epoch"],
            own["accuracy"] * 100,
            color=colour,
            lw=3,
            label=f"task {task + 1}",
        )
        if reference is not None and task in reference.index:
            ax.axhline(reference[task] * 100, color=colour, ls=":", lw=1)
    ax.plot([], [], color="black", lw=3, label="while trained")
    ax.plot([], [], color="black", lw=1, label="after (other tasks trained)")
    if reference is not None:
        ax.plot(
            [], [], color="black", ls=":", lw=1, label=reference_label or "reference"
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title or str(history["run"].iloc[0]))
    _legend_outside(ax)
    return ax


def forgetting_curves(results, ax=None):
    """Figure 3(b): mean forgetting ratio vs number of tasks learned since.

    One line per model: mean over trials of the per-run curve, with a 95% CI
    band over trials.
    """
    ax = _axes(ax)
    for model, runs in results.groupby("model", sort=True):
        curves = [metrics.forgetting_curve(h) for _, h in runs.groupby("run")]
        table = np.vstack([c.reindex(curves[0].index).to_numpy() for c in curves])
        mean = table.mean(axis=0)
        half = np.array([ci95(col) for col in table.T])
        x = curves[0].index.to_numpy()
        ax.plot(x, mean, marker="o", label=model)
        if len(curves) > 1:
            ax.fill_between(x, mean - half, mean + half, alpha=0.15)
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("tasks learned since")
    ax.set_ylabel("accuracy / peak accuracy")
    ax.set_title("Catastrophic forgetting ratio")
    _legend_outside(ax)
    return ax


def convergence(results, ax=None):
    """Figure 3(c): epochs to reach 98% of the peak accuracy, per model."""
    ax = _axes(ax, size=(6, 4))
    names, means, halves = [], [], []
    for model, runs in results.groupby("model", sort=True):
        per_run = [metrics.convergence_epochs(h).mean() for _, h in runs.groupby("run")]
        names.append(model)
        means.append(np.mean(per_run))
        halves.append(0.0 if len(per_run) < 2 else ci95(per_run))
    ax.bar(names, means, yerr=halves, capsize=4, color="tab:blue", alpha=0.8)
    ax.set_ylabel("epochs to 98% of peak accuracy")
    ax.set_title("Convergence")
    ax.tick_params(axis="x", rotation=30)
    return ax


def accuracy_matrix(history, ax=None, title=None):
    """Heatmap of `A[s, t]`: accuracy on task t after training task s, in %.

    The colour scale spans the matrix's own range and every cell is written
    out, so neighbouring cells can be told apart.
    """
    ax = _axes(ax, size=(6, 5))
    matrix = metrics.accuracy_matrix(history) * 100
    values = matrix.to_numpy()
    low, high = np.nanmin(values), np.nanmax(values)
    image = ax.imshow(values, cmap="viridis", vmin=low, vmax=max(high, low + 1e-9))
    middle = (low + high) / 2
    for (row, col), value in np.ndenumerate(values):
        if not np.isnan(value):
            colour = "black" if value > middle else "white"
            ax.text(
                col,
                row,
                f"{value:.1f}",
                ha="center",
                va="center",
                fontsize=8,
                color=colour,
            )
    labels = [str(t + 1) for t in matrix.columns]
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("evaluated task t")
    ax.set_ylabel("after training task s")
    ax.set_title(title or "accuracy matrix")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, label="test accuracy (%)")
    return ax
