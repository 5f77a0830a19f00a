"""One process per run folder: an advisory lock held while a run trains.

Two processes training the same run would both start from the same
checkpoint and write the same files (double work at best). The lock is an
`flock` on `<run dir>/.lock`, which holds the holder's PID; the operating
system releases it when the process ends, however it ends, so a killed run
never leaves a stale lock. Different runs of one results folder (e.g.
`--seeds 0-4` split over machines sharing a disk) lock different folders
and run side by side.
"""

import contextlib
import fcntl
import os
from pathlib import Path

from dfcnn_tf.errors import ConfigError

LOCK_FILE = ".lock"


class RunLockedError(ConfigError):
    """Another process is training this run."""


@contextlib.contextmanager
def run_lock(run_dir):
    """Holds the run folder's lock (creating the folder) for the block.

    Raises:
        RunLockedError: naming the holder's PID, if another process has it.
        OSError: if the folder or lock file cannot be created.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise RunLockedError(
                f"{run_dir} is being trained by another process (PID {holder}); "
                "wait for it to finish (then this command reads its results "
                "back) or stop it (then this command resumes its checkpoint)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
