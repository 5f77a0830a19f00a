"""Task sources: where a user's own images come from, by what they type.

One registry, keyed by the part before the colon of a data spec, read by the
command line (`--data SPEC`), `run_experiment` (`data.source`) and Python:

- ``npz:FILE``: a ``.npz`` file with ``x_train``, ``y_train`` and optionally
  ``x_test``, ``y_test`` and ``label_names``;
- ``tfds:NAME``: any image-classification data set of tensorflow-datasets;
- ``folder:PATH``: ``PATH/<class>/*`` or ``PATH/<domain>/<class>/*`` images.

Each loader returns `LabelledImages` and the data's identity (file hashes,
TFDS name/version/split, a folder listing's hash), which is part of the run's
key. Loading is cached once per process.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dfcnn_tf.data.splitting import LabelledImages
from dfcnn_tf.errors import ConfigError, DataError
from dfcnn_tf.images import value_range

_SOURCES: dict[str, Callable] = {}
_IDENTITIES: dict[str, Callable] = {}


def unknown_name(kind: str, name: str, valid) -> ConfigError:
    """The one error for an unknown registry name: close matches, then all."""
    valid = sorted(valid)
    close = difflib.get_close_matches(name, valid, n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return ConfigError(
        f"Unknown {kind} {name!r}.{hint} Valid: {', '.join(valid) or '(none)'}"
    )


def register_source(scheme: str, identity: Callable):
    """Decorator registering a loader for ``scheme:ARGUMENT`` data specs."""

    def decorator(loader):
        _SOURCES[scheme] = loader
        _IDENTITIES[scheme] = identity
        return loader

    return decorator


def source_names() -> list[str]:
    """The registered schemes."""
    _import_sources()
    return sorted(_SOURCES)


def _import_sources():
    from dfcnn_tf.data import folder_source, tfds_source  # noqa: F401  (register)


def parse_spec(spec: str) -> tuple[str, str]:
    """``"tfds:fashion_mnist"`` -> ``("tfds", "fashion_mnist")``.

    Raises:
        ConfigError: for a spec without a scheme or with an unknown one.
    """
    _import_sources()
    scheme, colon, argument = str(spec).partition(":")
    if not colon or not argument:
        raise ConfigError(
            f"--data takes SCHEME:ARGUMENT (e.g. tfds:{spec or 'fashion_mnist'}, "
            f"folder:{spec or 'PATH'}, npz:FILE). Received: {spec!r}"
        )
    if scheme not in _SOURCES:
        raise unknown_name("data source", scheme, _SOURCES)
    return scheme, argument


def load_source(spec: str) -> LabelledImages:
    """The raw labelled images a data spec names (loaded once per process).

    Raises:
        ConfigError: for an unknown scheme or TFDS name.
        DataError: for missing, empty, unreadable or malformed data.
    """
    scheme, argument = parse_spec(spec)
    identity = json.dumps(_IDENTITIES[scheme](argument), sort_keys=True)
    return _load_cached(scheme, argument, identity)


@functools.lru_cache(maxsize=4)
def _load_cached(scheme, argument, identity):
    del identity  # part of the cache key only: changed data is read again
    return _SOURCES[scheme](argument)


def source_identity(spec: str) -> dict:
    """What identifies the data behind a spec (recorded in ``run.json``)."""
    scheme, argument = parse_spec(spec)
    return {"source": spec, **_IDENTITIES[scheme](argument)}


@functools.lru_cache(maxsize=64)
def _file_sha256(path: str, mtime_ns: int, size: int) -> str:
    del mtime_ns, size  # the cache key: a rewritten file is hashed again
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path) -> str | None:
    """sha256 of a file's bytes, once per process and version of the file
    (cached by path, modification time and size); None if it is missing."""
    path = Path(path)
    if not path.is_file():
        return None
    stat = path.stat()
    return _file_sha256(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


def _npz_identity(argument):
    return {"sha256": file_sha256(argument)}


@register_source("npz", _npz_identity)
def load_npz(argument: str) -> LabelledImages:
    """``x_train``/``y_train`` (and optional test split, ``label_names``).

    Raises:
        DataError: for a missing or unreadable file or malformed arrays.
    """
    path = Path(argument)
    if not path.is_file():
        raise DataError(f"npz:{argument}: no such file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError) as error:
        raise DataError(f"npz:{argument}: not a readable .npz file ({error})") from None
    if "x_train" not in arrays or "y_train" not in arrays:
        raise DataError(
            f"npz:{argument}: needs arrays x_train and y_train; it holds "
            f"{', '.join(arrays) or 'nothing'}"
        )
    names = arrays.get("label_names")
    return from_arrays(
        f"npz:{argument}",
        (arrays["x_train"], arrays["y_train"]),
        (arrays["x_test"], arrays["y_test"]) if "x_test" in arrays else None,
        None if names is None else [str(n) for n in names],
    )


def from_arrays(name, train, test=None, label_names=None) -> LabelledImages:
    """Checked `LabelledImages` from NumPy ``(x, y)`` pairs.

    Images are ``(n, h, w)`` or ``(n, h, w, c)``, uint8 or float in [0, 1] or
    [0, 255] (kept as floats: never re-quantised).

    Raises:
        DataError: naming the array and what is wrong with it.
    """
    x_train, y_train = _checked_pair(name, "train", *train)
    scale = value_range(x_train, where=f"{name}: x_train")[1]
    x_test = y_test = None
    if test is not None:
        x_test, y_test = _checked_pair(name, "test", *test)
        if x_test.shape[1:] != x_train.shape[1:]:
            raise DataError(
                f"{name}: test images {x_test.shape[1:]} differ from training "
                f"images {x_train.shape[1:]}"
            )
    num_classes = int(max(y_train.max(), -1 if y_test is None else y_test.max())) + 1
    names = tuple(label_names or (str(c) for c in range(num_classes)))
    if len(names) < num_classes:
        raise DataError(
            f"{name}: {len(names)} label names for labels up to {num_classes - 1}"
        )
    return LabelledImages(name, x_train, y_train, x_test, y_test, names, scale)


def _checked_pair(name, split, x, y):
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 3:
        x = x[..., np.newaxis]
    if x.ndim != 4 or x.shape[-1] not in (1, 3) or len(x) == 0:
        raise DataError(
            f"{name}: x_{split} must hold images (n, h, w) or (n, h, w, 1|3), "
            f"got shape {x.shape}"
        )
    if not np.issubdtype(y.dtype, np.integer) or y.shape != (len(x),):
        raise DataError(
            f"{name}: y_{split} must be {len(x)} integer labels, got "
            f"{y.dtype} {y.shape}"
        )
    if y.min() < 0:
        raise DataError(f"{name}: y_{split} holds negative labels")
    return x, y.astype(np.int64)
