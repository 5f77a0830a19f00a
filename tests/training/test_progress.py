"""Tests of the per-task / per-epoch progress display."""

import io
import sys

from dfcnn_tf.training import Progress

ACCURACY = {"train": 0.9, "valid": 0.25, "test": 0.3}


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _report_one_task(progress):
    progress.start_task(0, (3, 7))
    progress.epoch(0, 1, 0.75, None, 0.5)
    progress.epoch(0, 2, 0.5, ACCURACY, 1.5)
    progress.message("results written to out/run")


def test_prints_task_evaluated_epochs_and_messages():
    stream = io.StringIO()
    _report_one_task(Progress(3, 2, stream=stream))
    assert stream.getvalue().splitlines() == [
        "task 1/3: classes [3, 7]",
        "  task 1/3 epoch 2/2  loss 0.5000  valid 0.250  test 0.300  [1.5s]",
        "results written to out/run",
    ]


def test_epoch_line_per_evaluation():
    stream = io.StringIO()
    progress = Progress(2, 4, stream=stream)
    for task_id in range(2):
        progress.start_task(task_id, (task_id,))
        for task_epoch in range(1, 5):
            evaluated = ACCURACY if task_epoch % 2 == 0 else None
            progress.epoch(task_id, task_epoch, 1.0, evaluated, float(task_epoch))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 + 2 * 2
    assert lines[3] == "task 2/2: classes [1]"
    assert lines[4].startswith("  task 2/2 epoch 2/4  loss 1.0000  valid 0.250")


def test_quiet_prints_nothing():
    stream = io.StringIO()
    _report_one_task(Progress(3, 2, quiet=True, stream=stream))
    assert stream.getvalue() == ""


def test_terminal_rewrites_epoch_line_in_place():
    stream = _Terminal()
    _report_one_task(Progress(3, 2, stream=stream))
    assert stream.getvalue() == (
        "task 1/3: classes [3, 7]\n"
        "\r  task 1/3 epoch 1/2  loss 0.7500  [0.5s]"
        "\r  task 1/3 epoch 2/2  loss 0.5000  valid 0.250  test 0.300  [1.5s]\n"
        "results written to out/run\n"
    )


def test_default_stream_is_standard_error(capsys):
    progress = Progress(1, 1)
    assert progress.stream is sys.stderr
    progress.start_task(0, (5,))
    captured = capsys.readouterr()
    assert captured.err == "task 1/1: classes [5]\n"
    assert captured.out == ""
