"""`tfds:NAME`: any image-classification data set of tensorflow-datasets.

The data set's own class names come with it; its ``test`` split (if any) is
the tasks' test split, else a held-out fraction. tensorflow-datasets reads
and prepares the data under ``$TFDS_DATA_DIR`` (its default folder if unset).
"""

from __future__ import annotations

import difflib
import os

import numpy as np

from dfcnn_tf.data.folder_source import same_form
from dfcnn_tf.data.splitting import LabelledImages
from dfcnn_tf.data.task_sources import from_arrays, register_source
from dfcnn_tf.errors import ConfigError, DataError


def _builder(name):
    """The TFDS builder of `name`.

    Raises:
        ConfigError: for an unknown name, listing close matches.
    """
    import tensorflow_datasets as tfds  # only this source needs it

    try:
        return tfds.builder(name, data_dir=os.environ.get("TFDS_DATA_DIR"))
    except tfds.core.registered.DatasetNotFoundError:
        close = difflib.get_close_matches(name, tfds.list_builders(), n=5)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        raise ConfigError(
            f"tfds:{name}: no such tensorflow-datasets data set{hint}"
        ) from None


def _identity(name):
    builder = _builder(name)
    version = str(builder.info.version)
    return {"tfds": name, "version": version, "splits": _splits(builder)}


def _splits(builder):
    names = set(builder.info.splits.keys()) if builder.info.splits else set()
    return ["train", "test"] if "test" in names else ["train"]


@register_source("tfds", _identity)
def load_tfds(name: str) -> LabelledImages:
    """The ``train`` (and ``test``) split of a TFDS image data set.

    Raises:
        ConfigError: for an unknown name.
        DataError: if the data set is not an image classification set or
            cannot be prepared (e.g. no network to download it).
    """
    builder = _builder(name)
    try:
        builder.download_and_prepare()
    except Exception as error:  # noqa: BLE001  (TFDS raises many kinds)
        raise DataError(
            f"tfds:{name}: cannot prepare the data set ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else ''})"
        ) from None
    image_key, label_key = _supervised_keys(builder, name)
    pairs = [_split_arrays(builder, s, image_key, label_key) for s in _splits(builder)]
    names = list(builder.info.features[label_key].names)
    test = pairs[1] if len(pairs) > 1 else None
    return from_arrays(f"tfds:{name}", pairs[0], test, names)


def _supervised_keys(builder, name):
    keys = builder.info.supervised_keys
    features = builder.info.features
    if not keys or not hasattr(features[keys[1]], "names"):
        raise DataError(
            f"tfds:{name}: not an image classification data set (no (image, "
            "class label) pair)"
        )
    return keys[0], keys[1]


def _split_arrays(builder, split, image_key, label_key):
    """One split's images and labels; images of varying size (a shape with
    None) are read one by one and brought to one size like a folder's."""
    import tensorflow_datasets as tfds

    if None not in builder.info.features[image_key].shape:
        data = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1))
        return np.asarray(data[image_key]), np.asarray(data[label_key])
    examples = list(tfds.as_numpy(builder.as_dataset(split=split)))
    where = f"tfds:{builder.name} {split}"
    images = same_form([example[image_key] for example in examples], where)
    return images, np.array([example[label_key] for example in examples])
