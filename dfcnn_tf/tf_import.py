"""Imports TensorFlow for the command lines without its start-up lines.

TensorFlow's libraries (2.21 here; 2.19 too, tensorflow/tensorflow#100442)
write their start-up notices (on a CPU machine: the oneDNN notice, the CUDA
driver probe and an absl preamble, six lines in all) straight to file
descriptor 2 while they load, whatever `TF_CPP_MIN_LOG_LEVEL` says, so they
stood before every progress display and every `error: ...` line. Where that
level hides INFO messages (the package sets 3 unless you set it,
`dfcnn_tf/__init__.py`), file descriptor 2 points at the null device for
the import alone. A failing import still shows: its ImportError is raised
after stderr is restored. No library does this; `contextlib.redirect_stderr`
cannot, as it swaps `sys.stderr` and leaves the descriptor the C++ code
writes to.
"""

import contextlib
import os
import sys


def import_tensorflow():
    """`import tensorflow`, with its start-up lines hidden where
    `TF_CPP_MIN_LOG_LEVEL` is 1 or more; returns the module."""
    if "tensorflow" in sys.modules or _log_level() < 1:
        import tensorflow

        return tensorflow
    with _stderr_to_null():
        import tensorflow
    return tensorflow


def _log_level():
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0  # not a level: show everything


@contextlib.contextmanager
def _stderr_to_null():
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
