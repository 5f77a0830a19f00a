"""A full disk at every write point of a run: the run stops with the error,
and the same command afterwards finishes with exactly the results of a run
that never failed."""

import errno

import pandas as pd
import pytest

from dfcnn_tf import learner_file, results
from dfcnn_tf.errors import LearnerError
from dfcnn_tf.experiment import run_experiment
from dfcnn_tf.overrides import apply_overrides
from dfcnn_tf.training import checkpoint as checkpoint_module

from .tiny import fake_cifar100, tiny_experiment


class FullDisk:
    """Counts the run's write points; the `fail_at`-th raises ENOSPC."""

    def __init__(self, monkeypatch, fail_at=None):
        self.calls, self.fail_at = [], fail_at
        for module, name in (
            (results, "atomic_path"),
            (learner_file, "atomic_path"),
            (checkpoint_module, "_write_record"),
        ):
            monkeypatch.setattr(module, name, self._wrap(getattr(module, name), name))
        save = checkpoint_module.RunCheckpoint.save
        monkeypatch.setattr(
            checkpoint_module.RunCheckpoint, "save", self._wrap(save, "checkpoint")
        )

    def _wrap(self, function, name):
        def wrapped(*args, **kwargs):
            self.calls.append(name)
            if len(self.calls) == self.fail_at:
                raise OSError(errno.ENOSPC, "No space left on device", name)
            return function(*args, **kwargs)

        return wrapped


def experiment(data_dir):
    tiny = tiny_experiment("dfcnn", epochs_per_task=2, checkpoint_every=1)
    return apply_overrides(
        tiny, [f"data.data_dir={str(data_dir)!r}", "data.num_tasks=2"]
    )


def history(out):
    [path] = out.glob("*/history.csv")
    return pd.read_csv(path).drop(columns="time")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The write points of an undisturbed run, and its history."""
    root = tmp_path_factory.mktemp("faults")
    data = fake_cifar100(root)
    with pytest.MonkeyPatch.context() as monkeypatch:
        disk = FullDisk(monkeypatch)
        run_experiment(
            experiment(data),
            root / "out",
            quiet=True,
            save_model=root / "model.learner",
        )
    return data, list(disk.calls), history(root / "out")


@pytest.mark.slow
def test_every_write_point_is_counted(reference):
    _, calls, _ = reference
    assert {"atomic_path", "_write_record", "checkpoint"} <= set(calls)
    assert len(calls) >= 20


@pytest.mark.slow
def test_a_full_disk_anywhere_loses_nothing(reference, tmp_path, monkeypatch):
    data, calls, expected = reference
    for fail_at in range(1, len(calls) + 1):
        out, model = tmp_path / f"out{fail_at}", tmp_path / f"model{fail_at}.learner"
        with monkeypatch.context() as patch:
            FullDisk(patch, fail_at)
            with pytest.raises((OSError, LearnerError), match="No space left"):
                run_experiment(experiment(data), out, quiet=True, save_model=model)
        run_experiment(experiment(data), out, quiet=True, save_model=model)
        pd.testing.assert_frame_equal(history(out), expected, obj=f"write {fail_at}")
        assert model.is_file()
        assert not list(out.glob("*/.tmp-*")), fail_at
