"""One results folder against another, paired by model and seed.

`python -m dfcnn_tf.report FOLDER --against BASE` writes `comparison.md`:
for every configuration in FOLDER (`dfcnn_tf.variants` labels) and each
headline metric of its protocol, its mean over trials and, in brackets, its
difference from the same model's runs in BASE with the same seeds (mean ±
95% CI over the seed pairs). Runs of one seed share their data, so pairing
takes that source of variance out. This is how `docs/reproduction.md`
measures a precision mode, the shared image draw or an initialisation
against the float32 default runs.
"""

from pathlib import Path

import pandas as pd

from dfcnn_tf import units
from dfcnn_tf.aggregate import ci95, load_results, mean_ci_text, run_summaries

COLUMNS = {  # the compared metrics of each protocol
    "lifelong": (
        "mean_peak_accuracy",
        "mean_test_at_best_valid",
        "mean_final_accuracy",
        "mean_forgetting_ratio",
    ),
    "mtl": ("mean_selected_error", "mean_final_error"),
}


def base_model(label):
    """The model name of a variant label: `dfcnn [x=1]` -> `dfcnn`."""
    return label.split(" [", 1)[0]


def compare(results, base):
    """The comparison table (text cells) of `results` against `base`
    (both `aggregate.load_results` tables); rows with no base run of their
    model say so instead of a difference."""
    protocols = set(results["protocol"]) | set(base["protocol"])
    if len(protocols) > 1:
        raise ValueError(
            f"the folders hold runs of several protocols ({sorted(protocols)}); "
            "compare runs of one protocol"
        )
    presets = [sorted(set(frame["preset"])) for frame in (results, base)]
    if presets[0] != presets[1]:
        raise ValueError(
            f"the folders hold runs of other presets ({presets[0]} and "
            f"{presets[1]}); pairing by seed compares runs on the same data"
        )
    ours, theirs = run_summaries(results), run_summaries(base)
    protocol = protocols.pop()
    columns = [c for c in COLUMNS[protocol] if c in ours.columns]
    rows = {}
    for label, runs in ours.groupby("model", sort=True):
        reference = theirs[theirs["model"] == base_model(label)].set_index("seed")
        row = {"seeds": len(runs), "base seeds": len(reference)}
        for column in columns:
            row[units.header(column)] = _cell(runs, reference, column)
        rows[label] = row
    for model, runs in theirs.groupby("model", sort=True):
        if model in ours["model"].map(base_model).values:
            row = {"seeds": len(runs), "base seeds": len(runs)}
            for column in columns:
                row[units.header(column)] = _mean(runs[column], column, ci=True)
            rows[f"{model} (base)"] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def _cell(runs, reference, column):
    """`mean (difference ± ci)`, the difference paired by seed."""
    mean = _mean(runs[column], column)
    if reference.empty:
        return f"{mean} (no base run)"
    paired = runs.set_index("seed")[column] - reference[column]
    paired = paired.dropna()
    if paired.empty:
        return f"{mean} (no common seed)"
    scale, digits = units.scale(column), _digits(column)
    diff, half = paired.mean() * scale, ci95(paired) * scale
    return f"{mean} ({mean_ci_text(diff, half, digits, signed=True)})"


def _mean(values, column, ci=False):
    scale, digits = units.scale(column), _digits(column)
    half = ci95(values) * scale if ci else float("nan")
    return mean_ci_text(values.mean() * scale, half, digits)


def _digits(column):
    return units.POINT_DIGITS if units.unit(column) else 3


def write_comparison(folder, base_folder, out_dir=None, skipped=None):
    """Writes `comparison.md` of `folder` against `base_folder` into `out_dir`
    (default `<folder>/report`); returns its path.

    Raises:
        FileNotFoundError: if a folder holds no readable finished run.
        ValueError: if the runs are of more than one protocol, or the two
            folders' of other presets.
    """
    results = load_results(folder, skipped=skipped)
    base = load_results(base_folder, skipped=skipped)
    out_dir = Path(out_dir or Path(folder) / "report")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "comparison.md"
    path.write_text(comparison_markdown(results, base, folder, base_folder))
    return path


def comparison_markdown(results, base, folder, base_folder):
    """The page `comparison.md`."""
    table = compare(results, base)
    return (
        f"# {folder} against {base_folder}\n\n"
        "Each cell: the mean over trials in the first folder, and in brackets "
        "its difference from the same model's runs of the same seeds in the "
        "second (mean ± 95% CI over seed pairs); accuracies and errors in %, "
        "differences in points. Rows marked (base) are the second folder's "
        "runs.\n\n"
        f"{table.to_markdown(disable_numparse=True)}\n"
    )
