"""The identity of a run's data: part of its key and recorded in `run.json`.

Changed data never reads back old results: a local `.npz` file is known by
its sha256 (computed once per process and file version), a tensorflow-datasets
set by name, version and splits, an image folder by the hash of its listing.
"""

from __future__ import annotations

from dfcnn_tf.data.sources import DATASETS, resolve_data_dir
from dfcnn_tf.data.task_sources import file_sha256, source_identity
from dfcnn_tf.errors import DataError


def data_identity(data) -> dict:
    """What identifies the data a `DataConfig` reads.

    Raises:
        ConfigError, DataError: for a data spec that names nothing usable
            (an unknown TFDS name, a missing or empty folder).
    """
    if data.source:
        return source_identity(data.source)
    folder = resolve_data_dir(data.data_dir)
    if data.dataset in DATASETS:
        spec = DATASETS[data.dataset]
        if folder is None:
            return {"dataset": data.dataset, "tfds": spec.tfds_name}
        path = folder / spec.local_file
        return {"dataset": data.dataset, "file": path.name, "sha256": file_sha256(path)}
    return {"dataset": data.dataset, **_folder_identity(folder)}


def _folder_identity(folder):
    """An image folder's listing hash (Office-Home), or {} if it holds none
    (a bad folder is reported when the data is loaded, not here)."""
    from dfcnn_tf.data.folder_source import listing_identity

    try:
        return {} if folder is None else listing_identity(folder)
    except DataError:
        return {}


def source_slug(spec: str) -> str:
    """A folder-name-safe short form of a data spec: ``tfds_fashion_mnist``."""
    scheme, _, argument = spec.partition(":")
    stem = argument.rstrip("/").replace("\\", "/").rsplit("/", 1)[-1]
    stem = stem.removesuffix(".npz") or "data"
    safe = "".join(c if c.isalnum() or c in "_." else "_" for c in stem)
    return f"{scheme}_{safe}"
