"""What every command does with bad input: one `error: ...` line, an exit code.

Light on purpose (no TensorFlow): `--help` and argument errors answer at once.
"""

import argparse
import sys

# Exit codes: bad input or configuration; a run that failed; a signal's 128 + n.
BAD_INPUT, FAILED = 2, 1
MAX_SEED = 2**32 - 1  # NumPy's and TensorFlow's seed range


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
