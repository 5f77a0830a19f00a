"""SIGKILL a real run at random moments and inside its writes, re-run the same
command each time: it ends with exactly the uninterrupted run's history.

One uninterrupted run gives the reference and its epoch time T. Then the
same command is launched again and again on one results folder, each launch
killed with SIGKILL:
- inside a checkpoint write (its data file torn after TensorFlow wrote it,
  before the checkpoint index moved on);
- inside a `history.csv` write (the temporary file torn before its rename);
- `RANDOM_KILLS` at moments drawn with a fixed seed: one during start-up
  (import, data, rebuilding the model from the checkpoint), the others a
  random fraction of an epoch after the launch's first or second
  progress line (training, evaluation, or checkpoint and results writes,
  wherever they fall).
A last launch runs to the end. Accuracies must equal the reference row by
row (times may differ), no row lost or repeated, nothing temporary left.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dfcnn_tf.data import DATA_DIR_ENV

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
ARGS = [
    "--preset",
    "cifar100_10_smoke",
    "--set",
    "data.num_tasks=2",
    "--epochs-per-task",
    "3",
    "--set",
    "train.checkpoint_every=1",
]
KILL_SEED = 8
RANDOM_KILLS = 4
KEY = ["task", "training_task", "epoch", "task_epoch", "split"]

# The run, killed from inside its second checkpoint write: the data file is
# cut in half after TensorFlow wrote it, before the index names it.
TORN_CHECKPOINT = """
import os, signal, sys
import tensorflow as tf
save, calls = tf.train.CheckpointManager.save, []
def torn(prefix):
    folder, stem = os.path.split(prefix)
    for name in os.listdir(folder):
        if name.startswith(stem + ".data"):
            os.truncate(os.path.join(folder, name), 10)
    os.kill(os.getpid(), signal.SIGKILL)
def patched(self, checkpoint_number=None, check_interval=True, options=None):
    calls.append(checkpoint_number)
    if len(calls) == 2:
        options = tf.train.CheckpointOptions(experimental_write_callbacks=[torn])
    return save(self, checkpoint_number, check_interval, options)
tf.train.CheckpointManager.save = patched
from dfcnn_tf.lifelong import main
sys.exit(main(sys.argv[1:]))
"""
# The run, killed in its first history.csv write (the rows it resumes with):
# the temporary file is cut in half and never renamed.
TORN_HISTORY = """
import os, signal, sys
replace, calls = os.replace, []
def patched(source, target, *args, **kwargs):
    if str(target).endswith("history.csv"):
        calls.append(target)
        if len(calls) == 1:
            os.truncate(source, os.path.getsize(source) // 2)
            os.kill(os.getpid(), signal.SIGKILL)
    return replace(source, target, *args, **kwargs)
os.replace = patched
from dfcnn_tf.lifelong import main
sys.exit(main(sys.argv[1:]))
"""


def launch(data_dir, out, script=None, kill=None):
    """Runs the command (through `script` if given); returns its exit code.

    `kill`: None (run to the end), or `(lines, seconds)`: SIGKILL `seconds`
    after the launch's `lines`-th epoch progress line (0: after its start).
    """
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop(DATA_DIR_ENV, None)
    head = [sys.executable, "-c", script] if script else [sys.executable, "-m"]
    head += [] if script else ["dfcnn_tf.lifelong"]
    argv = [*head, *ARGS, "--data-dir", str(data_dir), "--out", str(out)]
    process = subprocess.Popen(
        argv,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if kill is not None:
        lines, seconds = kill
        while lines and (line := process.stderr.readline()):
            lines -= " epoch " in line
        time.sleep(seconds)
        process.send_signal(signal.SIGKILL)
    err = process.communicate(timeout=600)[1]
    assert process.returncode in (0, -signal.SIGKILL), err
    return process.returncode


def latest_epoch(run_dir):
    """The global epoch of the checkpoint the index names (None: none)."""
    index = run_dir / "checkpoints" / "checkpoint"
    if not index.exists():
        return None
    first = index.read_text().splitlines()[0]
    return int(first.rsplit("-", 1)[1].rstrip('"'))


def accuracies(run_dir):
    history = pd.read_csv(run_dir / "history.csv")
    assert not history.duplicated(KEY).any()
    return history.drop(columns="time")


def kill_plan(epoch_seconds):
    """`(name, script, kill)` of each killed launch, in order."""
    rng = np.random.default_rng(KILL_SEED)
    plan = [
        ("in a checkpoint write", TORN_CHECKPOINT, None),
        ("in a history.csv write", TORN_HISTORY, None),
    ]
    startup = rng.uniform(0.5, 4.0)
    plan.append((f"{startup:.1f} s after start", None, (0, startup)))
    for _ in range(RANDOM_KILLS - 1):
        lines, fraction = int(rng.integers(1, 3)), rng.uniform(0.0, 1.5)
        kill = (lines, fraction * epoch_seconds)
        plan.append((f"{fraction:.2f} epoch after epoch line {lines}", None, kill))
    return plan


def test_killed_runs_resume_to_the_uninterrupted_history(data_dir, tmp_path):
    assert launch(data_dir, tmp_path / "reference") == 0
    [reference_dir] = (tmp_path / "reference").iterdir()
    reference = accuracies(reference_dir)
    times = pd.read_csv(reference_dir / "history.csv").groupby("epoch").time.max()
    epoch_seconds = float(np.median(np.diff(times.to_numpy())))
    out, run_dir = tmp_path / "killed", tmp_path / "killed" / reference_dir.name
    killed = []
    for name, script, kill in kill_plan(epoch_seconds):
        code = launch(data_dir, out, script, kill)
        killed.append((name, code, latest_epoch(run_dir)))
    print("\nkills (point, exit code, checkpointed epoch after it):", *killed, sep="\n")
    assert [code for _, code, _ in killed[:2]] == [-signal.SIGKILL] * 2
    assert launch(data_dir, out) == 0
    pd.testing.assert_frame_equal(accuracies(run_dir), reference)
    assert not (run_dir / "checkpoints").exists()
    assert not list(run_dir.glob(".tmp-*"))
