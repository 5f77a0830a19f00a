"""Multi-task error rates on a hand-built history with known answers."""

import pandas as pd
import pytest

from dfcnn_tf import mtl_metrics

# epoch -> task -> (valid, test); mean valid is best at epoch 4 (0.85)
POINTS = {
    2: {0: (0.70, 0.72), 1: (0.80, 0.78)},
    4: {0: (0.90, 0.88), 1: (0.80, 0.82)},
    6: {0: (0.85, 0.90), 1: (0.80, 0.84)},
}


def history():
    rows = []
    for epoch, tasks in POINTS.items():
        for task, (valid, test) in tasks.items():
            for split, accuracy in (("valid", valid), ("test", test), ("train", 1.0)):
                rows.append(
                    dict(
                        run="r",
                        seed=0,
                        model="m",
                        task=task,
                        training_task=0,
                        epoch=epoch,
                        task_epoch=epoch,
                        split=split,
                        accuracy=accuracy,
                        time=float(epoch),
                    )
                )
    return pd.DataFrame(rows)


def test_selected_epoch_uses_validation_only():
    assert mtl_metrics.selected_epoch(history()) == 4


def test_error_rates():
    errors = mtl_metrics.error_rates(history())
    assert errors.loc[0, "final_error"] == pytest.approx(0.10)
    assert errors.loc[1, "final_error"] == pytest.approx(0.16)
    assert errors.loc[0, "selected_error"] == pytest.approx(0.12)
    assert errors.loc[1, "selected_error"] == pytest.approx(0.18)


def test_summary():
    summary = mtl_metrics.summarize(history())
    assert summary["mean_final_error"] == pytest.approx(0.13)
    assert summary["mean_selected_error"] == pytest.approx(0.15)
    assert summary["max_selected_error"] == pytest.approx(0.18)
    assert summary["selected_epoch"] == 4
    assert summary["training_time_s"] == 6.0
    assert summary["num_tasks"] == 2


def test_missing_split_is_an_error():
    frame = history()
    with pytest.raises(ValueError, match="no rows for split 'valid'"):
        mtl_metrics.error_rates(frame[frame.split != "valid"])
