"""Writing a file so that readers see the old or the new one, whole.

The content goes to a temporary file beside the target (same folder, so
the same file system), is flushed to disk, given the permissions a plain
`open` would give under the user's umask (`mkstemp` creates 0600), then
renamed over the target, an atomic step. A write that fails or is killed
leaves the target as it was and, at worst, a temporary file whose name
starts with `TEMPORARY_PREFIX` (never read; `remove_temporaries` clears them).
"""

import contextlib
import os
import tempfile
from pathlib import Path

TEMPORARY_PREFIX = ".tmp-"


def umask():
    """The process's umask (read without changing it for long)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path to write; on success it replaces `path`.

    Raises:
        OSError: from creating, flushing or renaming the file (the
            temporary file is removed; `path` is unchanged).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f"{TEMPORARY_PREFIX}{path.name}-", suffix=path.suffix
    )
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def remove_temporaries(folder):
    """Deletes the temporary files that a killed write left in `folder`."""
    for path in Path(folder).glob(f"{TEMPORARY_PREFIX}*"):
        if path.is_file():
            path.unlink(missing_ok=True)
