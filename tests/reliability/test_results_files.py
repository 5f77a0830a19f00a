"""Results files after a killed write: never read half-written, cleaned up."""

import json

import pandas as pd
import pytest

from dfcnn_tf import atomic, results
from dfcnn_tf.atomic import remove_temporaries
from dfcnn_tf.presets import get_preset
from dfcnn_tf.results import (
    finished_run,
    read_history,
    write_run,
)

ROWS = [
    {
        "task": 0,
        "training_task": 0,
        "epoch": 1,
        "task_epoch": 1,
        "split": split,
        "accuracy": 0.5,
        "time": 1.0,
    }
    for split in ("train", "valid", "test")
]


@pytest.fixture
def experiment():
    return get_preset("cifar100_10_smoke").experiment("dfcnn", seed=2)


def history(experiment):
    return results.history_frame(ROWS, experiment)


def test_a_torn_temporary_file_is_never_read_and_is_removed(tmp_path, experiment):
    write_run(tmp_path, experiment, history(experiment), "running")
    torn = tmp_path / ".tmp-abc123.csv"  # what a write killed before its rename leaves
    torn.write_text("run,seed,model,ta")
    pd.testing.assert_frame_equal(read_history(tmp_path), history(experiment))
    remove_temporaries(tmp_path)
    assert not torn.exists()
    assert (tmp_path / "history.csv").exists() and (tmp_path / "run.json").exists()


def test_a_half_written_run_json_is_not_a_finished_run(tmp_path, experiment):
    write_run(tmp_path, experiment, history(experiment), "finished")
    assert finished_run(tmp_path, experiment)
    text = (tmp_path / "run.json").read_text()
    (tmp_path / "run.json").write_text(text[: len(text) // 2])
    assert not finished_run(tmp_path, experiment)


def test_a_finished_run_of_another_configuration_is_not_reused(tmp_path, experiment):
    write_run(tmp_path, experiment, history(experiment), "finished")
    info = json.loads((tmp_path / "run.json").read_text())
    info["config_hash"] = "0badc0de"
    (tmp_path / "run.json").write_text(json.dumps(info))
    assert not finished_run(tmp_path, experiment)


def test_writes_are_flushed_before_the_rename(tmp_path, experiment, monkeypatch):
    flushed = []
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: flushed.append(fd))
    write_run(tmp_path, experiment, history(experiment), "running")
    assert len(flushed) == len(list(tmp_path.iterdir()))
