"""The saved-learner file: one zip archive, written atomically.

Layout (README, "Keep a learner"):
- `learner.json`: the format version, the library versions that wrote it,
  the resolved experiment, every task's metadata (`TaskInfo`), the history
  rows, the run's clock, the mini-batch generator's and the global random
  states, and the manifest `{key: [shape, dtype]}` of the model variables;
- `variables/<key>.npy`: every model variable once, under its
  `model_state.model_variables` key (a shared knowledge base is one entry,
  however many tasks use it);
- `files/<name>`: files the model needs to be rebuilt, byte for byte (the
  saved STL learner a TF (distillation) model started from), listed in the
  record's `files`.

Why not a `.keras` file: a learner is more than a Keras model (tasks added
one by one, random states, history), and a model whose structure grows with
its state (DEN) is rebuilt by adding its tasks, not from a static config.

The archive is written to a temporary file beside the target, flushed to
disk, then renamed over it: a kill during `save` leaves the previous file
(or none), never a half-written one. Reading checks the archive's checksums,
the format version and that every listed variable is present.
"""

import json
import zipfile
from pathlib import Path

import numpy as np

from dfcnn_tf.atomic import atomic_path
from dfcnn_tf.errors import LearnerError

FORMAT = 1
RECORD = "learner.json"
VARIABLES = "variables/"
FILES = "files/"


def write_learner(path, record, variables, files=None):
    """Writes the record, the variables' values and `files` to `path` atomically.

    Args:
        path: the file to write (its folder must exist).
        record: the JSON-ready dict (the format version and the names of
            `files` are added).
        variables: `{key: variable or array}`.
        files: `{name: bytes}` to keep inside the archive.

    Raises:
        LearnerError: if the folder does not exist or cannot be written.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise LearnerError(f"{path}: folder {path.parent} does not exist")
    files = files or {}
    record = {"format": FORMAT, **record, "files": sorted(files)}
    try:
        with atomic_path(path) as temporary, open(temporary, "wb") as file:
            _write_archive(file, record, variables, files)
    except OSError as error:
        raise LearnerError(f"{path}: writing failed ({error.strerror})") from None


def _write_archive(file, record, variables, files):
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(RECORD, json.dumps(record))
        for key, value in variables.items():
            with archive.open(f"{VARIABLES}{key}.npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asarray(value), allow_pickle=False)
        for name, data in files.items():
            archive.writestr(f"{FILES}{name}", data)


def read_learner(path):
    """Reads a learner file.

    Returns:
        `(record, read, files)`: the record dict, `read(key) -> np.ndarray`
        (the values are read into memory) and `{name: bytes}` of the files
        kept inside.

    Raises:
        LearnerError: if the file is missing, not a learner file, of another
            format version, or damaged.
    """
    path = _existing(path)
    try:
        with zipfile.ZipFile(path) as archive:
            record = _read_record(path, archive)
            values = _read_values(path, archive, record)
            files = _read_files(path, archive, record)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise _unreadable(path, error) from None
    return record, values.__getitem__, files


def read_record(path):
    """The record of a learner file alone (no variable is read).

    Raises:
        LearnerError: as `read_learner`.
    """
    path = _existing(path)
    try:
        with zipfile.ZipFile(path) as archive:
            return _read_record(path, archive)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise _unreadable(path, error) from None


def read_kept_file(path, name):
    """The bytes of the file `name` kept inside the learner file `path`.

    Raises:
        LearnerError: as `read_learner`, or if it keeps no such file.
    """
    path = _existing(path)
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.read(f"{FILES}{name}")
    except KeyError:
        raise LearnerError(f"{path}: keeps no file {name!r}") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise _unreadable(path, error) from None


def _existing(path):
    path = Path(path)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise LearnerError(f"{path}: {what}; expected a saved learner file")
    return path


def _unreadable(path, error):
    if isinstance(error, LearnerError):
        return error
    first = str(error).splitlines()[0] if str(error) else ""
    return LearnerError(
        f"{path}: not a readable learner file ({type(error).__name__}: {first})"
    )


def _read_record(path, archive):
    if RECORD not in archive.namelist():
        raise LearnerError(f"{path}: not a learner file (no {RECORD} inside)")
    record = json.loads(archive.read(RECORD))
    if not isinstance(record, dict) or record.get("library") != "dfcnn_tf":
        raise LearnerError(
            f"{path}: not a dfcnn_tf learner file ({RECORD} is not ours)"
        )
    if record["format"] != FORMAT:
        raise LearnerError(
            f"{path}: written in learner format {record['format']!r}; this "
            f"version of dfcnn_tf reads format {FORMAT} (written by dfcnn_tf "
            f"{record.get('versions', {}).get('dfcnn_tf', '?')})"
        )
    return record


def _read_values(path, archive, record):
    values = {}
    manifest = record.get("manifest")
    if not isinstance(manifest, dict):
        raise LearnerError(f"{path}: damaged: no variable manifest")
    for key in manifest:
        name = f"{VARIABLES}{key}.npy"
        try:
            with archive.open(name) as entry:
                values[key] = np.lib.format.read_array(entry, allow_pickle=False)
        except KeyError:
            raise LearnerError(f"{path}: damaged: variable {key!r} missing") from None
    return values


def _read_files(path, archive, record):
    """The files kept inside (none in files written before there were any)."""
    files = {}
    for name in record.get("files", []):
        try:
            files[name] = archive.read(f"{FILES}{name}")
        except KeyError:
            raise LearnerError(f"{path}: damaged: file {name!r} missing") from None
    return files
