"""Raw image arrays for the experiments of section 4.

See docs/method.md, section 'Data protocols'.

Loads CIFAR-100, CIFAR-10 or MNIST as uint8 channels-last images with int64
labels, either from a local ``.npz`` copy (numpy only, no network) or, when no
data folder is given, through ``tensorflow_datasets``. Every array is checked
before use; a bad file raises :class:`~dfcnn_tf.errors.DataError` naming the
file and what is wrong with it.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dfcnn_tf.data.datasets import DATASETS, DatasetSpec
from dfcnn_tf.data.task_sources import unknown_name
from dfcnn_tf.errors import DataError

DATA_DIR_ENV = "DFCNN_DATA_DIR"
ARRAY_KEYS = ("x_train", "y_train", "x_test", "y_test")
SPLITS = ("train", "test")


LOCAL_FILES: dict[str, str] = {name: spec.local_file for name, spec in DATASETS.items()}

# Errors numpy/zipfile raise on a corrupt or truncated .npz file.
_UNREADABLE_ERRORS = (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error)


@dataclass(frozen=True)
class ImageArrays:
    """Official train and test split of one image data set.

    Attributes:
        x_train: uint8 images, shape ``(n_train, height, width, channels)``.
        y_train: int64 labels, shape ``(n_train,)``.
        x_test: uint8 images, shape ``(n_test, height, width, channels)``.
        y_test: int64 labels, shape ``(n_test,)``.
        label_names: the data set's class names by label, if it ships them.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    label_names: tuple[str, ...] = ()


def dataset_spec(dataset: str) -> DatasetSpec:
    """Look up the expected form of a data set's arrays by name.

    Args:
        dataset: One of the keys of ``DATASETS``.

    Returns:
        The data set's :class:`DatasetSpec`.

    Raises:
        ConfigError: If the name is unknown; one line with close matches.
    """
    if dataset not in DATASETS:
        raise unknown_name("data set", dataset, DATASETS)
    return DATASETS[dataset]


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """Pick the local data folder: the argument, else ``$DFCNN_DATA_DIR``.

    Args:
        data_dir: Folder given by the caller, or None.

    Returns:
        The folder as a Path, or None when neither the argument nor a non-empty
        environment variable names one (meaning: use tensorflow-datasets).
    """
    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_ENV) or None
    return None if data_dir is None else Path(data_dir)


def load_arrays(dataset: str, data_dir: str | os.PathLike | None = None) -> ImageArrays:
    """Load and check the official train/test arrays of a data set.

    Args:
        dataset: ``"cifar100"`` (fine labels), ``"cifar10"`` or ``"mnist"``.
        data_dir: Folder holding ``LOCAL_FILES[dataset]``. If None, the folder
            named by ``$DFCNN_DATA_DIR`` is used; if that is unset too, the data
            set is loaded (and if needed downloaded) with tensorflow-datasets.

    Returns:
        The checked arrays; single-channel images get a trailing channel axis.

    Raises:
        ConfigError: If the data set name is unknown.
        DataError: If the local file is missing, unreadable, or its arrays have
            the wrong keys, dtype, shape, lengths or label range.
    """
    spec = dataset_spec(dataset)
    folder = resolve_data_dir(data_dir)
    if folder is None:
        raw, source = _read_tfds(spec), f"tensorflow-datasets '{spec.tfds_name}'"
    else:
        path = folder / spec.local_file
        raw, source = _read_npz(path), str(path)
    names = tuple(str(n) for n in raw.pop("label_names", ()))
    checked = {"label_names": names if len(names) == spec.num_classes else ()}
    for split in SPLITS:
        x, y = raw[f"x_{split}"], raw[f"y_{split}"]
        checked[f"x_{split}"] = _check_images(x, spec, f"{source}: x_{split}")
        checked[f"y_{split}"] = _check_labels(y, spec, f"{source}: y_{split}")
        if len(x) != len(y):
            raise DataError(
                f"{source}: x_{split} holds {len(x)} images but y_{split} holds "
                f"{len(y)} labels; they must have the same length."
            )
    return ImageArrays(**checked)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """Read the four split arrays from a local ``.npz`` file (numpy only).

    Args:
        path: The ``.npz`` file.

    Returns:
        A dict with the keys of ``ARRAY_KEYS``; other keys are ignored.

    Raises:
        DataError: If the file is missing, unreadable or lacks a key.
    """
    if path.is_dir():
        raise DataError(f"{path} is a folder; expected the data file {path.name}.")
    if not path.is_file():
        raise DataError(
            f"Data file not found: {path}. Pass --data-dir (or set "
            f"{DATA_DIR_ENV}) to a folder holding {path.name}, or omit both to "
            "download the data set with tensorflow-datasets."
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            present = list(archive.files)
            missing = [key for key in ARRAY_KEYS if key not in present]
            if missing:
                raise DataError(
                    f"{path}: missing arrays {missing}; the file holds {present}."
                )
            arrays = {key: archive[key] for key in ARRAY_KEYS}
            if "label_names" in present:
                arrays["label_names"] = archive["label_names"]
            return arrays
    except DataError:
        raise
    except _UNREADABLE_ERRORS as error:
        raise DataError(
            f"{path}: not a readable .npz file (corrupt or truncated?): "
            f"{type(error).__name__}: {error}"
        ) from error


def _read_tfds(spec: DatasetSpec) -> dict[str, np.ndarray]:
    """Load the train and test splits with tensorflow-datasets.

    Args:
        spec: The data set to load.

    Returns:
        A dict with the keys of ``ARRAY_KEYS``.
    """
    import tensorflow_datasets as tfds  # Imported here: only this path needs it.

    splits, info = tfds.load(
        spec.tfds_name,
        split=list(SPLITS),
        batch_size=-1,
        as_supervised=True,
        with_info=True,
    )
    arrays = {"label_names": info.features["label"].names}
    for split, (images, labels) in zip(SPLITS, tfds.as_numpy(splits), strict=True):
        arrays[f"x_{split}"] = np.asarray(images)
        arrays[f"y_{split}"] = np.asarray(labels)
    return arrays


def _check_images(x: np.ndarray, spec: DatasetSpec, where: str) -> np.ndarray:
    """Check one image array and return it as uint8 NHWC.

    Args:
        x: Images, uint8 (or float with finite values in [0, 255]), NHWC, or NHW
            for single-channel data sets.
        spec: The expected form.
        where: File and array name, used in error messages.

    Returns:
        The images as uint8 with shape ``(n, *spec.image_shape)``.

    Raises:
        DataError: On a wrong dtype, rank or image shape, no images, or float
            images with non-finite values or values outside [0, 255].
    """
    x = np.asarray(x)
    is_float = np.issubdtype(x.dtype, np.floating)
    if x.dtype != np.uint8 and not is_float:
        raise DataError(f"{where}: expected dtype uint8, got {x.dtype}.")
    if x.ndim == 3 and spec.image_shape[-1] == 1:
        x = x[..., np.newaxis]
    if x.ndim != 4 or x.shape[1:] != spec.image_shape:
        raise DataError(
            f"{where}: expected images of shape (n, *{spec.image_shape}), got "
            f"{x.shape}."
        )
    if len(x) == 0:
        raise DataError(f"{where}: holds no images.")
    if is_float:
        if not np.all(np.isfinite(x)):
            raise DataError(f"{where}: images hold NaN or infinite values.")
        if x.min() < 0 or x.max() > 255:
            raise DataError(
                f"{where}: float images must lie in [0, 255], got values in "
                f"[{x.min()}, {x.max()}]."
            )
        x = np.rint(x).astype(np.uint8)
    return x


def _check_labels(y: np.ndarray, spec: DatasetSpec, where: str) -> np.ndarray:
    """Check one label array and return it as int64.

    Args:
        y: Integer class labels, shape ``(n,)``.
        spec: The expected form.
        where: File and array name, used in error messages.

    Returns:
        The labels as int64.

    Raises:
        DataError: On a non-integer dtype, a rank other than 1, or labels
            outside ``[0, spec.num_classes)``.
    """
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{where}: expected integer labels, got dtype {y.dtype}.")
    if y.ndim != 1:
        raise DataError(f"{where}: expected labels of shape (n,), got {y.shape}.")
    y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= spec.num_classes):
        raise DataError(
            f"{where}: labels must lie in [0, {spec.num_classes}), got values in "
            f"[{y.min()}, {y.max()}]."
        )
    return y


def labelled_images(arrays: ImageArrays, name: str, num_classes: int):
    """`arrays` as the `LabelledImages` the shared splitting cuts into tasks;
    classes without a name in the arrays are named by their label."""
    from dfcnn_tf.data.splitting import LabelledImages

    names = arrays.label_names
    return LabelledImages(
        name,
        arrays.x_train,
        arrays.y_train,
        arrays.x_test,
        arrays.y_test,
        tuple(str(names[c]) if len(names) > c else str(c) for c in range(num_classes)),
    )
