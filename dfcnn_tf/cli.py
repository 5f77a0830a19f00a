"""What every command does with bad input: one `error: ...` line, an exit code.

Light on purpose (no TensorFlow): `--help` and argument errors answer at once.
"""

import argparse
import os
import sys
import warnings
from pathlib import Path

from dfcnn_tf.errors import ConfigError, LearnerError

# Exit codes: bad input or configuration; a run that failed; a signal's 128 + n.
BAD_INPUT, FAILED = 2, 1
MAX_SEED = 2**32 - 1  # NumPy's and TensorFlow's seed range
LONG_RUN_EPOCHS = 100_000  # 5x the paper's longest protocol (10 x 2,000)


class ArgumentParser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` whose errors are one line (no usage block)."""

    def error(self, message):
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(BAD_INPUT)


def print_error(error, stream=None):
    """Prints `error: <first line of the message>`; a longer message's other
    lines (e.g. where to put a data set) follow, indented, as details."""
    first, *details = str(error).splitlines() or [""]
    print(f"error: {first}", file=stream or sys.stderr)
    for line in details:
        print(f"  {line}", file=stream or sys.stderr)


def describe_os_error(error):
    """One line for an operating-system error: what failed, and where."""
    where = " -> ".join(str(f) for f in (error.filename, error.filename2) if f)
    reason = error.strerror or type(error).__name__
    return f"{where}: {reason}" if where else f"{reason} ({error})"


def parse_seeds(text):
    """`"0-4"` -> [0, 1, 2, 3, 4]; `"0,3,7"` -> [0, 3, 7].

    Raises:
        argparse.ArgumentTypeError: for a malformed list, a descending range,
            or a seed outside 0 .. 2**32 - 1.
    """
    seeds = []
    try:
        for part in text.split(","):
            first, _, last = part.strip().partition("-")
            first, last = int(first), int(last or first)
            if last < first:
                raise argparse.ArgumentTypeError(
                    f"--seeds range {part.strip()!r} is descending; "
                    f"write {last}-{first}"
                )
            seeds += list(range(first, last + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seeds takes ranges and lists like 0-4 or 0,3,7. Received: {text!r}"
        ) from None
    for seed in seeds:
        check_seed(seed)
    return seeds


def parse_seed(text):
    """`--seed`: an integer in 0 .. 2**32 - 1."""
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seed takes an integer. Received: {text!r}"
        ) from None
    return check_seed(seed)


def check_seed(seed):
    """`seed` if it lies in 0 .. 2**32 - 1 (NumPy's and TensorFlow's range)."""
    if not 0 <= seed <= MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"seeds lie in 0 .. {MAX_SEED}. Received: {seed}"
        )
    return seed


def warn_long(experiments, stream=None):
    """Warns (on standard error) about schedules far beyond any paper protocol."""
    for experiment in experiments:
        train, tasks = experiment.train, experiment.data.num_tasks
        epochs = train.epochs_per_task * tasks
        if epochs > LONG_RUN_EPOCHS:
            print(
                f"warning: {epochs:,} epochs in all (train.epochs_per_task="
                f"{train.epochs_per_task:,} x {tasks} tasks), over "
                f"{LONG_RUN_EPOCHS:,}: the paper's longest protocol has 20,000",
                file=stream or sys.stderr,
            )


def check_out(out):
    """Raises `ConfigError` if `--out` names something other than a folder."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--out {out} is a file; it must name a results folder")


def model_destinations(path, experiments, run_id):
    """Where each run keeps its learner (`--save-model`), checked before
    anything is trained: one file, or one file per run in a folder.

    Raises:
        LearnerError: if the folder that would hold the file(s) is missing
            or not writable, or the path is a folder where a file is meant.
    """
    if path is None:
        return [None] * len(experiments)
    path = Path(path)
    if len(experiments) == 1 and not path.is_dir():
        _check_writable(path.parent if str(path.parent) else Path("."), path)
        return [path]
    if path.exists() and not path.is_dir():
        raise LearnerError(
            f"--save-model {path}: with {len(experiments)} runs it must name a "
            "folder (one <run id>.learner file each), not a file"
        )
    path.mkdir(parents=True, exist_ok=True)
    _check_writable(path, path)
    return [path / f"{run_id(e)}.learner" for e in experiments]


def _check_writable(folder, path):
    if not folder.is_dir():
        raise LearnerError(f"--save-model {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise LearnerError(f"--save-model {path}: folder {folder} is not writable")


def show_notes(stream=None):
    """Prints this library's warnings about the data (images converted or
    resized, a [0, 1] range recognised) as one `note: ...` line each."""
    original = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, UserWarning) and "dfcnn_tf" in str(filename):
            print(f"note: {message}", file=file or stream or sys.stderr)
        else:
            original(message, category, filename, lineno, file, line)

    warnings.showwarning = show
