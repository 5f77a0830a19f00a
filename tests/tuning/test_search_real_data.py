"""A real tiny search on CIFAR-100 (2 trials, smoke schedule), its results,
its resumption, and its best configuration run by `dfcnn_tf.lifelong`."""

import json

import pandas as pd
import pytest

from dfcnn_tf.config_file import read_experiment
from dfcnn_tf.lifelong import main as lifelong_main
from dfcnn_tf.training import evaluation
from tuning.export import BEST_FILE, TABLE_FILE
from tuning.objective import OBJECTIVE
from tuning.search import main as search_main

pytestmark = pytest.mark.slow

SMOKE = ["--preset", "cifar100_10_smoke", "--model", "dfcnn", "--max-trials", "2"]
SHORT = ["--set", "train.epochs_per_task=1", "--set", "data.num_tasks=2"]


@pytest.fixture
def test_split_sizes(monkeypatch):
    """The size of the test split of every task the evaluator is given."""
    sizes = []
    add_task = evaluation.Evaluator.add_task

    def spy(self, task, task_id=None):
        sizes.append(len(task.y_test))
        return add_task(self, task, task_id)

    monkeypatch.setattr(evaluation.Evaluator, "add_task", spy)
    return sizes


def test_tiny_search_writes_table_and_runnable_best_config(
    tmp_path, data_dir, test_split_sizes, capsys
):
    out = tmp_path / "search"
    argv = SMOKE + ["--out", str(out), "--data-dir", str(data_dir)] + SHORT
    assert search_main(argv) == 0
    table = pd.read_csv(out / TABLE_FILE)
    assert len(table) == 2
    assert list(table["status"]) == ["COMPLETED", "COMPLETED"]
    assert table[OBJECTIVE].is_monotonic_decreasing
    assert table[OBJECTIVE].between(0, 1).all()
    assert test_split_sizes == [0, 0, 0, 0]  # 2 trials x 2 tasks, no test image
    for trial_dir in (out / "project").glob("trial_*"):
        history = pd.read_csv(trial_dir / "history.csv")
        assert "test" not in set(history["split"])
        metrics = json.loads((trial_dir / "metrics.json").read_text())
        assert metrics[OBJECTIVE] in list(table[OBJECTIVE])

    best = read_experiment(out / BEST_FILE)
    assert best.train.learning_rate == table["learning_rate"].iloc[0]
    assert (best.data.num_tasks, best.train.epochs_per_task) == (2, 1)

    assert search_main(argv) == 0  # resumed: both trials are finished
    assert len(pd.read_csv(out / TABLE_FILE)) == 2
    assert len(test_split_sizes) == 4  # nothing was trained again

    runs = tmp_path / "runs"
    argv = ["--config", str(out / BEST_FILE), "--out", str(runs), "--quiet"]
    code = lifelong_main(argv)
    assert code == 0, capsys.readouterr().err
    [config] = runs.glob("*/config.json")
    assert json.loads(config.read_text()) == json.loads(json.dumps(best.to_dict()))
    summary = pd.read_csv(config.parent / "summary.csv").iloc[0]
    # the same run as the best trial: same validation score, up to one image
    # per task from CPU float nondeterminism
    valid = summary["mean_peak_valid_accuracy"]
    assert valid == pytest.approx(table[OBJECTIVE].iloc[0], abs=1 / 30)
