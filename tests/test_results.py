"""Tests of the run folder: history table, config/run JSON, metric tables.

The history is hand-built: 2 tasks x 2 epochs, every seen task evaluated on
the train, valid and test splits after every epoch.
"""

import dataclasses
import json
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from dfcnn_tf import metrics, run_metrics
from dfcnn_tf.presets import get_preset
from dfcnn_tf.results import (
    config_hash,
    history_frame,
    read_history,
    run_id,
    settings_hash,
    write_run,
)

NUM_TASKS, EPOCHS = 2, 2
METRIC_FILES = {"summary.csv", "per_task.csv", "accuracy_matrix.csv"}


@pytest.fixture
def experiment():
    return get_preset("cifar100_10_smoke").experiment("dfcnn", seed=4)


def make_rows(num_tasks=NUM_TASKS):
    """Loop-style history rows with distinct, predictable accuracies."""
    rows = []
    for training_task in range(num_tasks):
        for task_epoch in range(1, EPOCHS + 1):
            epoch = training_task * EPOCHS + task_epoch
            for task in range(training_task + 1):
                for offset, split in enumerate(("train", "valid", "test")):
                    rows.append(
                        {
                            "task": task,
                            "training_task": training_task,
                            "epoch": epoch,
                            "task_epoch": task_epoch,
                            "split": split,
                            "accuracy": 0.1 * epoch + 0.01 * task + 0.001 * offset,
                            "time": 1.5 * epoch,
                        }
                    )
    return rows


def _files(folder):
    return {path.name for path in folder.iterdir()}


def _temporary_files(folder):
    return [path.name for path in folder.iterdir() if path.name.startswith(".tmp-")]


# --- history_frame / run_id ------------------------------------------------------


def test_run_id(experiment):
    assert run_id(experiment) == "cifar100_10_smoke-dfcnn-seed4"


def test_history_frame_columns_and_values(experiment):
    rows = make_rows()
    frame = history_frame(rows, experiment)
    assert list(frame.columns) == [*metrics.HISTORY_COLUMNS, "scope"]
    assert len(frame) == len(rows) == 3 * EPOCHS * (1 + 2)
    assert set(frame["run"]) == {"cifar100_10_smoke-dfcnn-seed4"}
    assert set(frame["seed"]) == {4}
    assert set(frame["model"]) == {"dfcnn"}
    expected = pd.DataFrame(rows)
    for column in expected.columns:
        assert frame[column].tolist() == expected[column].tolist(), column


def test_history_frame_of_no_rows(experiment):
    frame = history_frame([], experiment)
    assert frame.empty
    assert list(frame.columns) == [*metrics.HISTORY_COLUMNS, "scope"]


# --- write_run ---------------------------------------------------------------------


def test_write_run_writes_every_file(tmp_path, experiment):
    history = history_frame(make_rows(), experiment)
    write_run(tmp_path / "run", experiment, history, "finished")
    expected = {"history.csv", "config.json", "run.json"} | METRIC_FILES
    assert _files(tmp_path / "run") == expected


def test_config_json_is_the_resolved_experiment(tmp_path, experiment):
    write_run(tmp_path, experiment, history_frame(make_rows(), experiment), "running")
    written = json.loads((tmp_path / "config.json").read_text())
    assert written == json.loads(json.dumps(experiment.to_dict()))
    assert written["preset"] == "cifar100_10_smoke"
    assert set(written["model"]["knowledge_bases"][0]) == {"size", "channels", "depth"}


def test_run_json_status_seed_versions(tmp_path, experiment):
    history = history_frame(make_rows(), experiment)
    write_run(tmp_path, experiment, history, "failed", extra={"error": "loss NaN"})
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["run"] == run_id(experiment)
    assert info["status"] == "failed"
    assert info["seed"] == 4
    assert info["tasks_finished"] == NUM_TASKS
    assert info["error"] == "loss NaN"
    assert info["versions"]["tensorflow"] == tf.__version__
    assert info["versions"]["keras"] == keras.__version__
    assert info["versions"]["numpy"] == np.__version__


def test_metric_tables_match_metrics(tmp_path, experiment):
    history = history_frame(make_rows(), experiment)
    write_run(tmp_path, experiment, history, "finished")
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert len(summary) == 1
    expected = run_metrics.summarize(history)
    assert list(summary.columns) == list(expected.index)
    np.testing.assert_allclose(summary.iloc[0].to_numpy(float), expected.to_numpy())
    per_task = pd.read_csv(tmp_path / "per_task.csv", index_col="task")
    pd.testing.assert_frame_equal(
        per_task, run_metrics.per_task_table(history), check_dtype=False
    )
    matrix = pd.read_csv(tmp_path / "accuracy_matrix.csv", index_col=0)
    np.testing.assert_allclose(
        matrix.to_numpy(), metrics.accuracy_matrix(history).to_numpy()
    )
    assert matrix.index.name == "training_task"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_read_history_round_trip(tmp_path, experiment, fmt):
    history = history_frame(make_rows(), experiment)
    write_run(tmp_path, experiment, history, "finished", fmt=fmt)
    assert f"history.{fmt}" in _files(tmp_path)
    assert len([name for name in _files(tmp_path) if name.startswith("history.")]) == 1
    pd.testing.assert_frame_equal(read_history(tmp_path), history, check_dtype=False)


def test_read_history_without_history(tmp_path):
    with pytest.raises(FileNotFoundError, match="history.csv or history.parquet"):
        read_history(tmp_path)


def test_unknown_format_writes_nothing(tmp_path, experiment):
    history = history_frame(make_rows(), experiment)
    with pytest.raises(ValueError, match="fmt must be one of"):
        write_run(tmp_path, experiment, history, "running", fmt="xlsx")
    assert _files(tmp_path) == set()


def test_empty_history_writes_config_run_history_only(tmp_path, experiment):
    write_run(tmp_path, experiment, history_frame([], experiment), "running")
    assert _files(tmp_path) == {"config.json", "run.json", "history.csv"}
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["tasks_finished"] == 0
    assert info["status"] == "running"
    assert list(read_history(tmp_path).columns) == [*metrics.HISTORY_COLUMNS, "scope"]


def test_rewrite_after_each_task_replaces_files(tmp_path, experiment):
    first = history_frame(make_rows(num_tasks=1), experiment)
    write_run(tmp_path, experiment, first, "running")
    assert json.loads((tmp_path / "run.json").read_text())["tasks_finished"] == 1
    full = history_frame(make_rows(), experiment)
    write_run(tmp_path, experiment, full, "finished")
    info = json.loads((tmp_path / "run.json").read_text())
    assert (info["tasks_finished"], info["status"]) == (2, "finished")
    assert len(read_history(tmp_path)) == len(full)
    assert _temporary_files(tmp_path) == []


# --- atomic writes ---------------------------------------------------------------


def test_writes_leave_no_temporary_files(tmp_path, experiment):
    for fmt in ("csv", "parquet"):
        history = history_frame(make_rows(), experiment)
        write_run(tmp_path / fmt, experiment, history, "finished", fmt=fmt)
        assert _temporary_files(tmp_path / fmt) == []


def test_failed_history_write_keeps_previous_file(tmp_path, experiment, monkeypatch):
    write_run(tmp_path, experiment, history_frame(make_rows(1), experiment), "running")
    before = {name: (tmp_path / name).read_bytes() for name in _files(tmp_path)}

    def broken_to_csv(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken_to_csv)
    with pytest.raises(OSError, match="disk full"):
        write_run(tmp_path, experiment, history_frame(make_rows(), experiment), "x")
    after = {name: (tmp_path / name).read_bytes() for name in _files(tmp_path)}
    assert after == before
    assert _temporary_files(tmp_path) == []


def test_failed_json_write_keeps_previous_file(tmp_path, experiment, monkeypatch):
    write_run(tmp_path, experiment, history_frame([], experiment), "running")
    before = (tmp_path / "config.json").read_text()
    write_text = Path.write_text

    def half_write_then_fail(self, text, *args, **kwargs):
        write_text(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", half_write_then_fail)
    changed = dataclasses.replace(experiment, seed=9)
    with pytest.raises(OSError, match="disk full"):
        write_run(tmp_path, changed, history_frame([], changed), "finished")
    assert (tmp_path / "config.json").read_text() == before
    assert _temporary_files(tmp_path) == []


# Hashes of the cifar100_10 seed-0 runs before issue 15 added
# data.resample_per_seed and model.bias_init (and before the preset's schedule
# became two evaluation intervals, 1 and 20: it had one, 1).
EARLIER_HASHES = {"stl": "420c627c", "hps": "534ad798", "prognn": "ad761a31"}
EARLIER_HASHES.update(den="4c8d5c5e", tf="1e5be4b9", stl_large="e7474166")


@pytest.mark.parametrize("model", sorted(EARLIER_HASHES))
def test_added_fields_keep_earlier_hashes_where_nothing_changed(model):
    experiment = get_preset("cifar100_10").experiment(model, seed=0)
    assert settings_hash(experiment.to_dict()) != EARLIER_HASHES[model]
    every_epoch = dataclasses.replace(experiment.train, eval_all_every=1)
    experiment = dataclasses.replace(experiment, train=every_epoch)
    assert settings_hash(experiment.to_dict()) == EARLIER_HASHES[model]
    bias = dataclasses.replace(experiment.model, bias_init="constant")
    with_bias = dataclasses.replace(experiment, model=bias)
    # a model without knowledge bases ignores bias_init
    assert settings_hash(with_bias.to_dict()) == EARLIER_HASHES[model]
    shared = dataclasses.replace(experiment.data, resample_per_seed=False)
    with_shared = dataclasses.replace(experiment, data=shared)
    assert settings_hash(with_shared.to_dict()) != EARLIER_HASHES[model]


def test_dfcnn_hash_follows_bias_init():
    experiment = get_preset("cifar100_10").experiment("dfcnn", seed=0)
    constant = dataclasses.replace(experiment.model, bias_init="constant")
    other = dataclasses.replace(experiment, model=constant)
    assert config_hash(other) != config_hash(experiment)
    assert config_hash(experiment) != "bdadf582"  # its initialisation changed
