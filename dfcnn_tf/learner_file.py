"""The saved-learner file: one zip archive, written atomically.

Layout (`docs/method.md`, "Keeping a learner"):
- `learner.json`: the format version, the library versions that wrote it,
  the resolved experiment, every task's metadata (`TaskInfo`), the history
  rows, the run's clock, the mini-batch generator's and the global random
  states, and the manifest `{key: [shape, dtype]}` of the model variables;
- `variables/<key>.npy`: every model variable once, under its
  `model_state.model_variables` key (a shared knowledge base is one entry,
  however many tasks use it).

Why not a `.keras` file: a learner is more than a Keras model (tasks added
one by one, random states, history), and a model whose structure grows with
its state (DEN) is rebuilt by adding its tasks, not from a static config.

The archive is written to a temporary file beside the target, flushed to
disk, then renamed over it: a kill during `save` leaves the previous file
(or none), never a half-written one. Reading checks the archive's checksums,
the format version and that every listed variable is present.
"""

import contextlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from dfcnn_tf.errors import LearnerError

FORMAT = 1
RECORD = "learner.json"
VARIABLES = "variables/"


def write_learner(path, record, variables):
    """Writes the record and the variables' values to `path` atomically.

    Args:
        path: the file to write (its folder must exist).
        record: the JSON-ready dict (the format version is added).
        variables: `{key: variable or array}`.

    Raises:
        LearnerError: if the folder does not exist or cannot be written.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise LearnerError(f"{path}: folder {path.parent} does not exist")
    record = {"format": FORMAT, **record}
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{path.name}-")
    except OSError as error:
        raise LearnerError(f"{path}: cannot write there ({error.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as file:
            _write_archive(file, record, variables)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as error:
        raise LearnerError(f"{path}: writing failed ({error.strerror})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)


def _write_archive(file, record, variables):
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(RECORD, json.dumps(record))
        for key, value in variables.items():
            with archive.open(f"{VARIABLES}{key}.npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asarray(value), allow_pickle=False)


def read_learner(path):
    """Reads a learner file.

    Returns:
        `(record, read)`: the record dict and `read(key) -> np.ndarray`,
        valid while the process runs (the values are read into memory).

    Raises:
        LearnerError: if the file is missing, not a learner file, of another
            format version, or damaged.
    """
    path = Path(path)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise LearnerError(f"{path}: {what}; expected a saved learner file")
    try:
        with zipfile.ZipFile(path) as archive:
            record = _read_record(path, archive)
            values = _read_values(path, archive, record)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        if isinstance(error, LearnerError):
            raise
        raise LearnerError(
            f"{path}: not a readable learner file ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else ''})"
        ) from None
    return record, values.__getitem__


def _read_record(path, archive):
    if RECORD not in archive.namelist():
        raise LearnerError(f"{path}: not a learner file (no {RECORD} inside)")
    record = json.loads(archive.read(RECORD))
    if not isinstance(record, dict) or "format" not in record:
        raise LearnerError(f"{path}: not a learner file ({RECORD} has no format)")
    if record["format"] != FORMAT:
        raise LearnerError(
            f"{path}: written in learner format {record['format']!r}; this "
            f"version of dfcnn_tf reads format {FORMAT} (written by dfcnn_tf "
            f"{record.get('versions', {}).get('dfcnn_tf', '?')})"
        )
    return record


def _read_values(path, archive, record):
    values = {}
    for key in record["manifest"]:
        name = f"{VARIABLES}{key}.npy"
        try:
            with archive.open(name) as entry:
                values[key] = np.lib.format.read_array(entry, allow_pickle=False)
        except KeyError:
            raise LearnerError(f"{path}: damaged: variable {key!r} missing") from None
    return values
