"""Tests of the per-task / per-epoch progress display."""

import io
import sys

import pytest

from dfcnn_tf.training import Progress
from dfcnn_tf.training.progress import Observers, format_duration

ACCURACY = {"train": 0.9, "valid": 0.25, "test": 0.3}


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _report_one_task(progress):
    progress.start_task(0, (3, 7))
    progress.epoch(0, 1, 0.75, None, 0.5)
    progress.epoch(0, 2, 0.5, ACCURACY, 1.5)
    progress.message("results written to out/run")


def test_prints_task_every_epoch_and_messages():
    stream = io.StringIO()
    _report_one_task(Progress(3, 2, stream=stream))
    assert stream.getvalue().splitlines() == [
        "task 1/3: classes [3, 7]",
        "  task 1/3 epoch 1/2  loss 0.7500  [0.5s]",
        "  task 1/3 epoch 2/2  loss 0.5000  valid 0.250  test 0.300"
        "  [1.5s, task left 0s, run left 4s]",
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
    assert lines[7].startswith("  task 2/2 epoch 2/4  loss 1.0000  valid 0.250")
    assert lines[2].endswith("[20.0s, task left 20s, run left 1m00s]")
    assert lines[9].endswith("[80.0s, task left 0s, run left 0s]")


def test_whole_run_protocol_counts_one_schedule():
    stream = io.StringIO()
    progress = Progress(3, 100, stream=stream, per_task=False)
    progress.epoch(2, 1, 1.0, None, 1.0)
    progress.epoch(0, 2, 1.0, None, 2.0)
    assert stream.getvalue().splitlines()[-1] == (
        "  task 1/3 epoch 2/100  loss 1.0000  [2.0s, left 1m38s]"
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


def test_terminal_rewrites_epoch_line_in_place_with_a_bar():
    stream = _Terminal()
    _report_one_task(Progress(3, 2, stream=stream))
    assert stream.getvalue() == (
        "task 1/3: classes [3, 7]\n"
        "\r  [##########..........] task 1/3 epoch 1/2  loss 0.7500  [0.5s]"
        "\r  [####################] task 1/3 epoch 2/2  loss 0.5000  valid 0.250"
        "  test 0.300  [1.5s, task left 0s, run left 4s]\n"
        "results written to out/run\n"
    )


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
