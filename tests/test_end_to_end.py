"""End to end on real CIFAR-100 (../shared/data): the CLI, the results, the floor."""

import json

import pandas as pd
import pytest

from dfcnn_tf import metrics
from dfcnn_tf.lifelong import main

pytestmark = pytest.mark.slow

CHANCE = 0.10  # 10 classes per task


@pytest.fixture(scope="module")
def run_dir(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    argv = ["--preset", "cifar100_10_smoke", "--data-dir", str(data_dir)]
    assert main([*argv, "--out", str(out), "--quiet", "--seed", "0"]) == 0
    return out / "cifar100_10_smoke-dfcnn-seed0"


def test_first_task_learns_clearly_above_chance(run_dir):
    history = pd.read_csv(run_dir / "history.csv")
    first = history[(history.task == 0) & (history.training_task == 0)]
    best = first.groupby("split").accuracy.max()
    assert best["valid"] >= 2 * CHANCE
    assert best["test"] >= 2 * CHANCE  # 1,000 test images: a steadier floor


def test_results_files_exist_and_parse(run_dir):
    history = pd.read_csv(run_dir / "history.csv")
    assert list(history.columns) == [*metrics.HISTORY_COLUMNS, "scope"]
    assert set(history.task) == {0, 1, 2} and set(history.split) == {
        "train",
        "valid",
        "test",
    }
    # 3 tasks x 8 epochs, every seen task evaluated every epoch on 3 splits
    assert len(history) == 8 * (1 + 2 + 3) * 3
    config = json.loads((run_dir / "config.json").read_text())
    assert config["preset"] == "cifar100_10_smoke" and config["seed"] == 0
    assert config["model"]["name"] == "dfcnn"
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "finished" and info["tasks_finished"] == 3
    assert {"tensorflow", "keras", "numpy"} <= set(info["versions"])
    summary = pd.read_csv(run_dir / "summary.csv")
    assert summary.loc[0, "mean_peak_accuracy"] == pytest.approx(
        metrics.peak_accuracy(history).mean()
    )
    matrix = pd.read_csv(run_dir / "accuracy_matrix.csv", index_col=0)
    assert matrix.shape == (3, 3)
    per_task = pd.read_csv(run_dir / "per_task.csv", index_col=0)
    assert len(per_task) == 3


def test_printed_summary(data_dir, tmp_path, capsys):
    argv = ["--preset", "cifar100_10_smoke", "--data-dir", str(data_dir)]
    argv += ["--out", str(tmp_path), "--quiet", "--epochs-per-task", "1"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "mean_peak_accuracy" in printed and "peak_accuracy" in printed
