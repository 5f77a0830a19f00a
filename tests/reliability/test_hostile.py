"""Hostile use of the command line: signals, two processes on one run, stale
or edited files, impossible options. Each case ends in one `error:` line and
its exit code, and leaves finished results as they were."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from dfcnn_tf.lifelong import main
from dfcnn_tf.run_lock import run_lock

from .test_bad_input import error_line
from .tiny import fake_cifar100

ROOT = Path(__file__).resolve().parents[2]
SHORT = ["--preset", "cifar100_10_smoke", "--epochs-per-task", "2", "--quiet"]
TINY = [
    "--set",
    "model.conv=[[4, 3, 1], [4, 3, 2]]",
    "--set",
    "model.fc_hidden=[8]",
    "--set",
    "model.knowledge_bases=[[2, 4], [2, 4]]",
    "--set",
    "model.transforms=[[3, 4], [3, 4]]",
]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fake_cifar100(tmp_path_factory.mktemp("data"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seeds", "3-1"], "descending; write 1-3"),
        (["--seeds", "0,x"], "--seeds takes ranges"),
        (["--seed", "-1"], "seeds lie in 0 .. 4294967295"),
        (["--seeds", "4294967296"], "seeds lie in 0 .. 4294967295"),
        (["--model", ","], "--model names no model"),
        (["--model", " , "], "--model names no model"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_impossible_options(capsys, tmp_path, data, argv, message):
    out = tmp_path / "out"
    argv = [*SHORT, *argv, "--data-dir", str(data), "--out", str(out)]
    code = 2
    try:
        line = error_line(capsys, argv, code)
    except SystemExit as exit_:  # argparse's own errors exit
        assert exit_.code == code
        lines = capsys.readouterr().err.splitlines()
        assert len(lines) == 1
        line = lines[0]
    assert message in line
    assert not out.exists()


def test_out_naming_a_file(capsys, tmp_path, data):
    out = tmp_path / "results.txt"
    out.write_text("keep me")
    line = error_line(capsys, [*SHORT, "--data-dir", str(data), "--out", str(out)])
    assert "is a file" in line and out.read_text() == "keep me"


def _run_dir(out):
    [folder] = [p for p in out.iterdir() if p.is_dir()]
    return folder


def test_a_second_process_on_the_same_run_is_refused(capsys, tmp_path, data):
    out = tmp_path / "out"
    argv = [*SHORT, *TINY, "--data-dir", str(data), "--out", str(out)]
    assert main(argv) == 0
    capsys.readouterr()
    run_dir = _run_dir(out)
    (run_dir / "run.json").write_text(
        (run_dir / "run.json").read_text().replace("finished", "running")
    )
    with run_lock(run_dir):
        line = error_line(capsys, argv)
    assert f"PID {os.getpid()}" in line and "another process" in line


def test_an_edited_config_is_recomputed_not_read_back(capsys, tmp_path, data):
    out = tmp_path / "out"
    argv = [*SHORT, *TINY, "--data-dir", str(data), "--out", str(out)]
    assert main(argv) == 0
    run_dir = _run_dir(out)
    expected = pd.read_csv(run_dir / "history.csv").drop(columns="time")
    config = json.loads((run_dir / "config.json").read_text())
    config["train"]["learning_rate"] = 123.0
    (run_dir / "config.json").write_text(json.dumps(config))
    capsys.readouterr()
    assert main([*argv[:-2], "--out", str(out)]) == 0
    assert "finished before" not in capsys.readouterr().out
    again = pd.read_csv(run_dir / "history.csv").drop(columns="time")
    pd.testing.assert_frame_equal(again, expected)
    assert (
        json.loads((run_dir / "config.json").read_text())["train"]["learning_rate"]
        != 123.0
    )


def test_one_history_file_whatever_the_format(capsys, tmp_path, data):
    out = tmp_path / "out"
    argv = [*SHORT, *TINY, "--data-dir", str(data), "--out", str(out)]
    assert main([*argv, "--format", "csv"]) == 0
    run_dir = _run_dir(out)
    complete = pd.read_csv(run_dir / "history.csv")
    stale = complete[complete["task"] == 0]
    stale.to_parquet(run_dir / "history.parquet", index=False)  # older, shorter
    os.utime(run_dir / "history.parquet", ns=(1, 1))
    assert main([*argv, "--format", "parquet"]) == 0
    assert "finished before" in capsys.readouterr().out
    assert not (run_dir / "history.csv").exists()
    pd.testing.assert_frame_equal(
        pd.read_parquet(run_dir / "history.parquet"), complete
    )


def _start(argv):
    command = [sys.executable, "-m", "dfcnn_tf.lifelong", *argv]
    return subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


LONG = [*SHORT, *TINY, "--epochs-per-task", "40", "--set", "train.checkpoint_every=5"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, data):
    """The history of the long tiny run, never interrupted."""
    out = tmp_path_factory.mktemp("uninterrupted")
    assert main([*LONG, "--data-dir", str(data), "--out", str(out)]) == 0
    return pd.read_csv(_run_dir(out) / "history.csv").drop(columns="time")


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_at_a_safe_point_and_the_run_resumes(
    tmp_path, data, uninterrupted, signum
):
    out = tmp_path / "out"
    argv = [*LONG, "--data-dir", str(data), "--out", str(out)]
    process = _start(argv)
    deadline = time.monotonic() + 120
    while not list(out.glob("*/checkpoints/ckpt-*.index")):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.2)
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signum
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and signal.Signals(signum).name in errors[0]
    assert "Traceback" not in err
    run_dir = _run_dir(out)
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "interrupted" and "resume" in info["error"]
    loud = [a for a in argv if a != "--quiet"]
    resumed = subprocess.run(
        [sys.executable, "-m", "dfcnn_tf.lifelong", *loud],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "resuming from the checkpoint" in resumed.stderr
    pd.testing.assert_frame_equal(
        pd.read_csv(run_dir / "history.csv").drop(columns="time"), uninterrupted
    )


def test_a_folder_where_the_data_file_should_be(capsys, tmp_path):
    (tmp_path / "cifar100.npz").mkdir()
    argv = [*SHORT, "--data-dir", str(tmp_path), "--out", str(tmp_path / "out")]
    assert "cifar100.npz is a folder" in error_line(capsys, argv)


def test_absurd_schedules_are_warned_about(capsys):
    from dfcnn_tf.cli import LONG_RUN_EPOCHS, warn_long
    from dfcnn_tf.overrides import apply_overrides
    from dfcnn_tf.presets import get_preset

    experiment = get_preset("cifar100_10").experiment("dfcnn")
    warn_long([experiment])
    assert capsys.readouterr().err == ""
    long = apply_overrides(experiment, [f"train.epochs_per_task={LONG_RUN_EPOCHS}"])
    warn_long([long])
    assert capsys.readouterr().err.startswith("warning: 1,000,000 epochs in all")


@pytest.fixture(scope="module")
def finished(tmp_path_factory, data):
    """A finished tiny run: its results folder and the command that made it."""
    out = tmp_path_factory.mktemp("finished") / "out"
    argv = [*SHORT, *TINY, "--data-dir", str(data), "--out", str(out)]
    assert main(argv) == 0
    return out, argv


@pytest.mark.parametrize(
    "damage",
    [b"", b"not,a,history\n1,2,3\n", b"\x00\xff garbage", "truncate"],
)
def test_a_damaged_history_of_a_finished_run_is_recomputed(
    capsys, tmp_path, finished, damage
):
    import shutil

    original, argv = finished
    out = tmp_path / "out"
    shutil.copytree(original, out)
    path = _run_dir(out) / "history.csv"
    expected = pd.read_csv(path).drop(columns="time")
    text = path.read_bytes()
    path.write_bytes(text[: len(text) // 3] if damage == "truncate" else damage)
    capsys.readouterr()
    assert main([*argv[:-1], str(out)]) == 0
    assert "finished before" not in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_csv(path).drop(columns="time"), expected)


def test_results_files_follow_the_umask(tmp_path, data):
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        argv = [*SHORT, *TINY, "--data-dir", str(data), "--out", str(out)]
        argv += ["--save-model", str(tmp_path / "kept.learner")]
        assert main(argv) == 0
    finally:
        os.umask(old)
    files = [p for p in _run_dir(out).iterdir() if p.is_file()]
    files.append(tmp_path / "kept.learner")
    assert {p.name: p.stat().st_mode & 0o777 for p in files} == {
        p.name: 0o644 for p in files
    }
