"""Units of the printed tables: accuracies in %, their differences in points,
ratios as they are, each header naming its unit (dfcnn_tf.units)."""

import io
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dfcnn_tf import run_metrics, units
from dfcnn_tf.lifelong import print_summary
from tests.test_metrics import make_history


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("mean_peak_accuracy", "mean_peak_accuracy (%)"),
        ("mean_test_at_best_valid", "mean_test_at_best_valid (%)"),
        ("selected_error", "selected_error (%)"),
        ("backward_transfer", "backward_transfer (pp)"),
        ("difference", "difference (pp)"),
        ("final_forgetting_ratio_best_valid", "final_forgetting_ratio_best_valid"),
        ("mean_convergence_epochs", "mean_convergence_epochs"),
        ("training_time_s", "training_time_s"),
    ],
)
def test_header_names_the_unit(name, shown):
    assert units.header(name) == shown
    assert units.scale(name) == (1.0 if shown == name else 100.0)


def test_in_units_scales_only_accuracies_and_their_differences():
    table = pd.DataFrame(
        {"peak_accuracy": [0.375], "final_forgetting_ratio": [0.5], "trials": [3]}
    )
    shown = units.in_units(table)
    assert list(shown.columns) == [
        "peak_accuracy (%)",
        "final_forgetting_ratio",
        "trials",
    ]
    assert shown.iloc[0].to_list() == [37.5, 0.5, 3]
    series = pd.Series({"backward_transfer": -0.0159, "num_tasks": 10.0})
    assert units.in_units(series).to_dict() == {
        "backward_transfer (pp)": pytest.approx(-1.59),
        "num_tasks": 10.0,
    }


def test_table_text_prints_points_with_two_decimals():
    series = pd.Series(
        {"mean_peak_accuracy": 0.3788, "mean_forgetting_ratio": 0.952, "x": np.nan},
        name="run",
    ).rename_axis("metric")
    assert units.table_text(series).splitlines() == [
        "metric",
        "mean_peak_accuracy (%)     37.88",
        "mean_forgetting_ratio     0.9520",
        "x                            nan",
    ]


def test_printed_run_tables_are_in_points():
    history = make_history()  # peaks 0.80, 0.60, 0.50; finals 0.64, 0.54, 0.50
    result = types.SimpleNamespace(
        run_dir=Path("out/run0"),
        protocol="lifelong",
        history=history,
        summary=run_metrics.summarize(history),
        reused=False,
    )
    stream = io.StringIO()
    print_summary(result, stream)
    lines = stream.getvalue().splitlines()
    assert lines[1] == "per-task metrics (run0, test split):"
    header = lines[2].split()
    assert header[:6] == ["peak_accuracy", "(%)", "final_accuracy", "(%)"] + [
        "final_forgetting_ratio",
        "convergence_epoch",
    ]
    assert lines[4].split()[:4] == ["0", "80.00", "64.00", "0.8000"]
    assert lines[8:10] == ["summary:", "metric"]
    summary = dict(line.rsplit(maxsplit=1) for line in lines[10:])
    assert summary["mean_peak_accuracy (%)"] == "63.33"
    assert summary["mean_final_accuracy (%)"] == "56.00"
    assert summary["backward_transfer (pp)"] == "-10.00"  # (-14 - 6) / 2
    assert summary["mean_forgetting_ratio"] == "0.8500"  # (0.8 + 0.9) / 2
