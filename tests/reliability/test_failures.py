"""A diverging loss, and a corrupt or foreign checkpoint, through the command line.

A two-task run on a small synthetic CIFAR-100 file whose learning rate
explodes in task 2 stops with exit code 1 and one line naming task and
epoch; what it recorded is on disk with status "failed", and its checkpoint
(after task 1) stays. Damaging that checkpoint, or its configuration record,
makes the same command refuse to resume (exit code 2, one line) and leave
the results as they were. A few cases run as real processes.
"""

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from dfcnn_tf.data import DATA_DIR_ENV
from dfcnn_tf.lifelong import main
from dfcnn_tf.training import loop

from .tiny import fake_cifar100

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
ARGS = ["--preset", "cifar100_10_smoke", "--quiet", "--epochs-per-task", "1"]
ARGS += ["--set", "data.num_tasks=2"]


def run_main(argv):
    """`main(argv)` with standard error captured; returns (code, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory):
    """(argv, run folder, stderr) of a run whose loss diverges in task 2."""
    root = tmp_path_factory.mktemp("failed")
    data = fake_cifar100(root)
    argv = [*ARGS, "--data-dir", str(data), "--out", str(root / "out")]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loop, "learning_rate", lambda t, e: 1e-3 if e < 1 else 1e30)
        code, err = run_main(argv)
    assert code == 1, err
    [run_dir] = (root / "out").iterdir()
    return argv, run_dir, err


def copy_run(failed_run, tmp_path):
    """The failed run's argv and a copy of its folder under `tmp_path`."""
    argv, run_dir, _ = failed_run
    out = tmp_path / "out"
    shutil.copytree(run_dir, out / run_dir.name)
    return [*argv[:-1], str(out)], out / run_dir.name


def one_error_line(err):
    lines = [line for line in err.splitlines() if not _tensorflow_log(line)]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def _tensorflow_log(line):
    """TensorFlow's own start-up log lines (C++), not ours."""
    return line.startswith(("I0000", "W0000", "WARNING: All log messages"))


def test_diverging_loss_names_task_and_epoch_and_keeps_the_rows(failed_run):
    _, run_dir, err = failed_run
    line = one_error_line(err)
    assert "Loss became" in line and "task 2" in line and "epoch 1" in line
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "failed" and "task 2" in info["error"]
    history = pd.read_csv(run_dir / "history.csv")
    assert set(history.training_task) == {0} and len(history) == 3  # 3 splits
    assert (run_dir / "checkpoints" / "checkpoint").exists()


def test_corrupt_checkpoint_is_refused(failed_run, tmp_path):
    argv, run_dir = copy_run(failed_run, tmp_path)
    for path in (run_dir / "checkpoints").glob("ckpt-*.data-*"):
        path.write_bytes(path.read_bytes()[:100])
    before = (run_dir / "history.csv").read_bytes()
    code, err = run_main(argv)
    assert code == 2
    line = one_error_line(err)
    assert "checkpoint unreadable" in line and str(run_dir / "checkpoints") in line
    assert (run_dir / "history.csv").read_bytes() == before  # nothing mixed


def test_checkpoint_of_another_configuration_is_refused(failed_run, tmp_path):
    argv, run_dir = copy_run(failed_run, tmp_path)
    record = run_dir / "checkpoints" / "run.json"
    record.write_text(json.dumps({"config_hash": "0badc0de", "format": 1}))
    code, err = run_main(argv)
    assert code == 2
    line = one_error_line(err)
    assert "another configuration" in line and "0badc0de" in line


# --- real processes ---------------------------------------------------------------


def run_process(argv):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop(DATA_DIR_ENV, None)
    return subprocess.run(
        [sys.executable, "-m", "dfcnn_tf.lifelong", *argv],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_process_nan_pixels(tmp_path):
    data = fake_cifar100(tmp_path, nan=True)
    done = run_process([*ARGS, "--data-dir", str(data), "--out", str(tmp_path)])
    assert done.returncode == 2
    line = one_error_line(done.stderr)
    assert "x_test: images hold NaN or infinite values" in line


def test_process_diverging_loss(tmp_path):
    data = fake_cifar100(tmp_path)
    argv = [*ARGS, "--data-dir", str(data), "--out", str(tmp_path / "out")]
    done = run_process([*argv, "--set", "train.learning_rate=1e30"])
    assert done.returncode == 1
    assert "Loss became" in one_error_line(done.stderr)


def test_process_corrupt_checkpoint(failed_run, tmp_path):
    argv, run_dir = copy_run(failed_run, tmp_path)
    (run_dir / "checkpoints" / "checkpoint").write_text("not a checkpoint index")
    done = run_process(argv)
    assert done.returncode == 2
    assert "checkpoint unreadable" in one_error_line(done.stderr)
