"""Tests of the per-task / per-epoch progress display."""

import io
import os
import re
import select
import sys
import termios

import pytest

from dfcnn_tf.training import Progress
from dfcnn_tf.training.progress import Observers, format_duration

ACCURACY = {"train": 0.9, "valid": 0.25, "test": 0.3}


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _report_one_task(progress):
    progress.start_task(0, (3, 7))
    progress.epoch(0, 1, 0.75, None, 1.0)
    progress.epoch(0, 2, 0.5, ACCURACY, 3.0)
    progress.message("results written to out/run")


def test_prints_task_every_epoch_and_messages():
    stream = io.StringIO()
    _report_one_task(Progress(3, 2, stream=stream))
    assert stream.getvalue().splitlines() == [
        "task 1/3: classes [3, 7]",
        "  task 1/3 epoch 1/2  [1s, task left 1s, run left 5s]  loss 0.7500",
        "  task 1/3 epoch 2/2  [3s, task left 0s, run left 6s]  loss 0.5000"
        "  valid 25.0%  test 30.0%",
        "results written to out/run",
    ]


def test_epoch_line_per_epoch_with_time_left():
    stream = io.StringIO()
    progress = Progress(2, 4, stream=stream)
    for task_id in range(2):
        progress.start_task(task_id, (task_id,))
        for task_epoch in range(1, 5):
            evaluated = ACCURACY if task_epoch % 2 == 0 else None
            elapsed = 10.0 * (4 * task_id + task_epoch)  # 10 s per epoch
            progress.epoch(task_id, task_epoch, 1.0, evaluated, elapsed)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 + 2 * 4
    assert lines[5] == "task 2/2: classes [1]"
    assert (
        lines[6]
        == "  task 2/2 epoch 1/4  [50s, task left 30s, run left 30s]  loss 1.0000"
    )
    assert lines[7].endswith("  loss 1.0000  valid 25.0%  test 30.0%")
    assert "epoch 2/4  [20s, task left 20s, run left 1m00s]" in lines[2]
    assert "epoch 4/4  [1m20s, task left 0s, run left 0s]" in lines[9]


def test_time_left_after_a_resume_counts_the_epochs_before_it():
    stream = io.StringIO()
    progress = Progress(3, 5, stream=stream)  # resumed in task 2, after epoch 3
    progress.epoch(1, 4, 1.0, None, 180.0)  # 9 epochs in 3 minutes
    assert stream.getvalue() == (
        "  task 2/3 epoch 4/5  [3m00s, task left 20s, run left 2m00s]  loss 1.0000\n"
    )


def test_whole_run_protocol_counts_one_schedule():
    stream = io.StringIO()
    progress = Progress(3, 100, stream=stream, per_task=False)
    progress.epoch(2, 1, 1.0, None, 1.0)
    progress.epoch(0, 2, 1.0, None, 2.0)
    assert stream.getvalue().splitlines()[-1] == (
        "  task 1/3 epoch 2/100  [2s, left 1m38s]  loss 1.0000"
    )


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.4, "0s"), (59, "59s"), (185, "3m05s"), (3720, "1h02m")]
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_quiet_prints_nothing():
    stream = io.StringIO()
    _report_one_task(Progress(3, 2, quiet=True, stream=stream))
    assert stream.getvalue() == ""


def _frames(stream):
    """What a terminal shows after each carriage return or line feed."""
    return [f.strip() for f in re.split(r"[\r\n]", stream.getvalue()) if f.strip()]


def test_terminal_redraws_a_bar_per_task_and_keeps_its_last_line():
    stream = _Terminal()
    _report_one_task(Progress(3, 2, stream=stream))
    text = stream.getvalue()
    assert text.startswith("task 1/3: classes [3, 7]\n\r  |##########          |")
    assert text.endswith("  valid 25.0%  test 30.0%\nresults written to out/run\n")
    assert text.count("\n") == 3  # the task, its finished bar, the message
    assert _frames(stream)[1:3] == [
        "|##########          | task 1/3 epoch 1/2  [1s, task left 1s, run left 5s]"
        "  loss 0.7500",
        "|####################| task 1/3 epoch 2/2  [3s, task left 0s, run left 6s]"
        "  loss 0.5000  valid 25.0%  test 30.0%",
    ]


def test_terminal_bar_keeps_the_latest_accuracy_of_the_task():
    stream = _Terminal()
    progress = Progress(1, 3, stream=stream)
    progress.epoch(0, 1, 1.0, ACCURACY, 1.0)
    progress.epoch(0, 2, 1.0, None, 2.0)
    assert _frames(stream)[-1].startswith(
        "|#############3      | task 1/1 epoch 2/3  [2s, task left 1s, run left 1s]"
        "  loss 1.0000  valid 25.0%"
    )


def test_close_ends_an_unfinished_bar_and_messages_print_below():
    stream = _Terminal()
    progress = Progress(2, 4, stream=stream)  # resumed: the bar starts at 3/4
    progress.epoch(1, 3, 1.0, None, 70.0)
    progress.message("checkpoint written")
    progress.close()
    progress.message("results written to out/run")
    lines = stream.getvalue().split("\n")
    assert lines[-2] == "results written to out/run"
    assert lines[-3].endswith(
        "|###############     | task 2/2 epoch 3/4"
        "  [1m10s, task left 10s, run left 10s]  loss 1.0000"
    )
    assert "checkpoint written" in _frames(stream)


def _pseudo_terminal(columns):
    """A writable pseudo-terminal of `columns` columns (0: no size reported)
    and the file descriptor its output is read from."""
    reader, writer = os.openpty()
    termios.tcsetwinsize(writer, (24, columns))
    return os.fdopen(writer, "w", encoding="utf-8"), reader


def _drain(reader):
    """All the pseudo-terminal has received: one read may return only part of
    it (the terminal hands output over in pieces)."""
    chunks = []
    while select.select([reader], [], [], 0.5)[0]:
        chunks.append(os.read(reader, 10_000))
    return b"".join(chunks).decode()


@pytest.mark.parametrize("columns", [0, 70])
def test_real_terminal_draws_within_its_width(columns, monkeypatch):
    stream, reader = _pseudo_terminal(columns)
    monkeypatch.setattr(sys, "stderr", stream)  # what tqdm measures itself
    with stream:
        progress = Progress(1, 2)
        progress.epoch(0, 1, 1.0, None, 1.0)
        progress.epoch(0, 2, 1.0, None, 2.0)
        shown = _drain(reader)
    os.close(reader)
    frames = [f for f in re.split(r"[\r\n]", shown) if f]
    assert frames[-1].startswith(f"  |{'█' * 20}| task 1/1 epoch 2/2  [2s")
    assert {len(f) for f in frames} == ({70} if columns else {89})  # else uncut


def test_quiet_terminal_prints_nothing():
    stream = _Terminal()
    _report_one_task(Progress(3, 2, quiet=True, stream=stream))
    assert stream.getvalue() == ""


def test_observers_hand_every_event_to_each():
    streams = [io.StringIO(), io.StringIO()]
    observers = Observers(*(Progress(3, 2, stream=s) for s in streams))
    _report_one_task(observers)
    rows = [{"task": 0}]
    assert observers.record(rows) is rows
    observers.close()
    assert streams[0].getvalue() == streams[1].getvalue() != ""


def test_default_stream_is_standard_error(capsys):
    progress = Progress(1, 1)
    assert progress.stream is sys.stderr
    progress.start_task(0, (5,))
    captured = capsys.readouterr()
    assert captured.err == "task 1/1: classes [5]\n"
    assert captured.out == ""
