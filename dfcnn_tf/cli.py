"""What every command does with bad input: one `error: ...` line, an exit code.

Light on purpose (no TensorFlow): `--help` and argument errors answer at once.
"""

import argparse
import sys

# Exit codes: bad input or configuration; a run that failed; a signal's 128 + n.
BAD_INPUT, FAILED = 2, 1


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
