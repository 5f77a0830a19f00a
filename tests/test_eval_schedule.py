"""Two evaluation schedules: configuration, hashes, history scope and metrics.

The hand-built history has 2 tasks of 4 epochs, the task being trained
evaluated every epoch and every seen task every 2nd (scope "current" at
task epochs 1 and 3, "all" at 2 and 4). Accuracies (valid, test):

    phase 0  e1 current  t0 (.30, .20)
             e2 all      t0 (.50, .40)
             e3 current  t0 (.60, .45)   t0's best validation
             e4 all      t0 (.55, .50)   t0's best test
    phase 1  e5 current  t1 (.40, .30)
             e6 all      t0 (.50, .42)   t1 (.45, .35)
             e7 current  t1 (.70, .60)   t1's best validation and test
             e8 all      t0 (.48, .40)   t1 (.65, .55)

By hand: peaks .50 and .60; test at best validation .45 (e3) and .60 (e7);
A = [[.50, nan], [.40, .55]]; backward transfer .40 - .50 = -.10; final
forgetting ratios .8 and .55/.6; 98% of the peak first reached at task
epochs 4 and 3 (max), 3 and 3 (best_valid: thresholds .441 and .588).
"""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dfcnn_tf import metrics, mtl_metrics, run_metrics
from dfcnn_tf.config_file import experiment_from_dict, read_experiment
from dfcnn_tf.eval_scope import full_evaluations
from dfcnn_tf.presets import get_preset
from dfcnn_tf.results import read_history, settings_hash
from dfcnn_tf.training.checkpoint import columns_to_rows

ROOT = Path(__file__).resolve().parents[1]
# Committed runs (written while the schedule was one field, `eval_every`) and
# their settings hash computed by that code.
OLD_RUNS = {
    "docs/reproduction/results/cifar100_10_cpu-stl-seed0": "c8a5bf03",
    "docs/reproduction/results/cifar100_10_cpu-den-seed1": "5c2c6a0d",
    "docs/reproduction/paper_length/cifar100_10-stl-seed0-49125825": "49125825",
}
POINTS = [  # (epoch, scope, {task: (valid, test)})
    (1, "current", {0: (0.30, 0.20)}),
    (2, "all", {0: (0.50, 0.40)}),
    (3, "current", {0: (0.60, 0.45)}),
    (4, "all", {0: (0.55, 0.50)}),
    (5, "current", {1: (0.40, 0.30)}),
    (6, "all", {0: (0.50, 0.42), 1: (0.45, 0.35)}),
    (7, "current", {1: (0.70, 0.60)}),
    (8, "all", {0: (0.48, 0.40), 1: (0.65, 0.55)}),
]


def make_history(points=POINTS, epochs_per_task=4):
    rows = []
    for epoch, scope, tasks in points:
        training_task, task_epoch = divmod(epoch - 1, epochs_per_task)
        for task, (valid, test) in tasks.items():
            for split, accuracy in (("valid", valid), ("test", test)):
                rows.append(
                    dict(
                        run="r",
                        seed=0,
                        model="m",
                        task=task,
                        training_task=training_task,
                        epoch=epoch,
                        task_epoch=task_epoch + 1,
                        split=split,
                        accuracy=accuracy,
                        time=float(epoch),
                        scope=scope,
                    )
                )
    return pd.DataFrame(rows)


# --- configuration and hashes ------------------------------------------------------


@pytest.mark.parametrize("run", sorted(OLD_RUNS))
def test_old_config_json_keeps_its_hash(run):
    path = ROOT / run / "config.json"
    old = json.loads(path.read_text())
    assert old["train"]["eval_every"] > 0 and "eval_all_every" not in old["train"]
    assert settings_hash(old) == OLD_RUNS[run]
    experiment = read_experiment(path)  # the former field sets both
    train, every = experiment.train, old["train"]["eval_every"]
    assert train.eval_current_every == train.eval_all_every == every
    assert settings_hash(experiment.to_dict()) == OLD_RUNS[run]


def test_saved_learner_record_with_eval_every_loads():
    record = get_preset("cifar100_10_smoke").experiment("stl").to_dict()
    for name in ("eval_current_every", "eval_all_every"):
        record["train"].pop(name)
    record["train"]["eval_every"] = 4
    experiment = experiment_from_dict(record, "learner file")
    train = experiment.train
    assert train.eval_current_every == train.eval_all_every == 4


def _schedule(experiment, current, every):
    train = dataclasses.replace(
        experiment.train, eval_current_every=current, eval_all_every=every
    )
    return settings_hash(dataclasses.replace(experiment, train=train).to_dict())


def test_only_equal_intervals_hash_as_one():
    experiment = get_preset("cifar100_10_smoke").experiment("dfcnn")
    hashes = {pair: _schedule(experiment, *pair) for pair in ((1, 20), (20, 1))}
    hashes |= {pair: _schedule(experiment, *pair) for pair in ((1, 1), (20, 20))}
    assert len(set(hashes.values())) == 4
    old = experiment.to_dict()  # as written before the split
    for name in ("eval_current_every", "eval_all_every"):
        old["train"].pop(name)
    old["train"]["eval_every"] = 20
    assert settings_hash(old) == hashes[(20, 20)]


def test_mtl_hash_ignores_the_current_task_schedule():
    experiment = get_preset("mnist_hetero_smoke").experiment("dfcnn")
    assert _schedule(experiment, 1, 5) == _schedule(experiment, 5, 5)
    assert _schedule(experiment, 1, 5) != _schedule(experiment, 1, 1)


def test_paper_presets_and_cheap_presets():
    for name in ("cifar100_10", "officehome"):
        train = get_preset(name).train
        assert (train.eval_current_every, train.eval_all_every) == (1, 20)
    for name, every in (("cifar100_10_cpu", 5), ("cifar100_10_quick", 5)):
        train = get_preset(name).train
        assert (train.eval_current_every, train.eval_all_every) == (every, every)
    for name in ("cifar100_10_smoke", "officehome_smoke", "mnist_hetero"):
        train = get_preset(name).train
        assert (train.eval_current_every, train.eval_all_every) == (1, 1)


# --- history scope: old files, old checkpoint rows ----------------------------------


def test_old_history_file_reads_as_all_evaluations(tmp_path):
    old = make_history().drop(columns="scope")
    old.to_csv(tmp_path / "history.csv", index=False)
    history = read_history(tmp_path)
    assert history["scope"].tolist() == ["all"] * len(old)
    assert full_evaluations(old) is old


def test_old_checkpoint_rows_get_scope_all():
    rows = columns_to_rows({"task": [0, 1], "accuracy": [0.5, 0.25]})
    assert rows == [
        {"task": 0, "accuracy": 0.5, "scope": "all"},
        {"task": 1, "accuracy": 0.25, "scope": "all"},
    ]
    kept = columns_to_rows({"task": [0], "scope": ["current"]})
    assert kept == [{"task": 0, "scope": "current"}]


# --- metrics -----------------------------------------------------------------------


def test_own_phase_metrics_read_current_task_rows():
    history = make_history()
    np.testing.assert_allclose(metrics.peak_accuracy(history), [0.50, 0.60])
    np.testing.assert_allclose(metrics.test_at_best_valid(history), [0.45, 0.60])
    assert metrics.convergence_epochs(history).tolist() == [4, 3]
    best_valid = metrics.convergence_epochs(history, peak="best_valid")
    assert best_valid.tolist() == [3, 3]


def test_matrix_forgetting_and_transfer_read_all_task_evaluations():
    history = make_history()
    matrix = metrics.accuracy_matrix(history)
    np.testing.assert_allclose(matrix, [[0.50, np.nan], [0.40, 0.55]])
    assert metrics.backward_transfer(matrix) == pytest.approx(-0.10)
    ratios = metrics.final_forgetting_ratio(history)
    np.testing.assert_allclose(ratios, [0.8, 0.55 / 0.60])
    curve = metrics.forgetting_curve(history)
    np.testing.assert_allclose(curve, [(1.0 + 0.55 / 0.60) / 2, 0.8])
    summary = run_metrics.summarize(history)
    assert summary["mean_final_accuracy"] == pytest.approx(0.475)
    assert summary["mean_forgetting_ratio_best_valid"] == pytest.approx(0.40 / 0.45)


def test_unfinished_phase_matrix_row_is_its_last_all_task_evaluation():
    """Stopped after e7 (current only): phase 1's row is e6's, never e7's t1 alone."""
    history = make_history(POINTS[:7])
    matrix = metrics.accuracy_matrix(history)
    np.testing.assert_allclose(matrix, [[0.50, np.nan], [0.42, 0.35]])
    assert metrics.peak_accuracy(history)[1] == pytest.approx(0.60)


def test_mtl_selection_never_reads_a_current_task_evaluation():
    points = [
        (1, "all", {0: (0.5, 0.5), 1: (0.5, 0.5)}),
        (2, "current", {0: (0.99, 0.99)}),  # alone: the best "mean" of all
        (3, "all", {0: (0.6, 0.7), 1: (0.6, 0.8)}),
    ]
    history = make_history(points, epochs_per_task=10)
    assert mtl_metrics.selected_epoch(history) == 3
    errors = mtl_metrics.error_rates(history)
    np.testing.assert_allclose(errors["selected_error"], [0.3, 0.2])
