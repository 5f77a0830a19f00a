"""One lifelong-learning task and its input standardisation.

See docs/method.md, section 'Data protocols'.

A :class:`Task` holds the train/validation/test split of one task of the
lifelong sequence (section 4 of the paper), with images already standardised
and labels re-indexed to ``0 .. len(classes) - 1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from dfcnn_tf.data.normalization import PIXEL_MAX, STD_FLOOR, Normalization
from dfcnn_tf.errors import ConfigError, DataError

TASK_SPLITS = ("train", "valid", "test")
__all__ = [
    "PIXEL_MAX",
    "STD_FLOOR",
    "TASK_SPLITS",
    "Task",
    "channel_stats",
    "class_names",
    "standardise",
]


@dataclass(frozen=True)
class Task:
    """The data of one task of a lifelong sequence.

    Attributes:
        task_id: Position of the task in training order, from 0.
        classes: Original class labels; task label ``i`` means ``classes[i]``.
        x_train: float32 standardised images, shape ``(n_train, h, w, c)``.
        y_train: int64 task labels in ``[0, num_classes)``, shape ``(n_train,)``.
        x_valid: Validation images, as ``x_train``.
        y_valid: Validation labels, as ``y_train``.
        x_test: Test images, as ``x_train``.
        y_test: Test labels, as ``y_train``.
        name: The task's name (default ``"task<task_id + 1>"``).
        class_names: Names of the task's classes, one per task label
            (default: the original labels as text).
        normalization: How raw images become the model's inputs (the
            statistics of the raw training images), or None if unknown.
    """

    task_id: int
    classes: tuple[int, ...]
    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str = ""
    class_names: tuple[str, ...] = ()
    normalization: Normalization | None = None

    def __post_init__(self) -> None:
        """Check that every split's images and labels agree.

        Raises:
            DataError: If a split's images and labels differ in length or a
                label lies outside ``[0, num_classes)``.
        """
        for name in TASK_SPLITS:
            x, y = self.split(name)
            if len(x) != len(y):
                raise DataError(
                    f"Task {self.task_id}: {name} split has {len(x)} images but "
                    f"{len(y)} labels."
                )
            if y.size and (y.min() < 0 or y.max() >= self.num_classes):
                raise DataError(
                    f"Task {self.task_id}: {name} labels must lie in "
                    f"[0, {self.num_classes}), got [{y.min()}, {y.max()}]."
                )

    @property
    def label(self) -> str:
        """The task's name, or ``"task<task_id + 1>"`` if it has none."""
        return self.name or f"task{self.task_id + 1}"

    @property
    def labels(self) -> tuple[str, ...]:
        """Class names, one per task label (the original labels if unnamed)."""
        return self.class_names or tuple(str(c) for c in self.classes)

    @property
    def num_classes(self) -> int:
        """Number of classes of the task (its output size)."""
        return len(self.classes)

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return the images and labels of one split.

        Args:
            name: ``"train"``, ``"valid"`` or ``"test"``.

        Returns:
            ``(x, y)`` of that split.

        Raises:
            ConfigError: If ``name`` is not a split name.
        """
        if name not in TASK_SPLITS:
            raise ConfigError(
                f"Unknown split. Expected one of {list(TASK_SPLITS)}. "
                f"Received: name={name!r}"
            )
        return getattr(self, f"x_{name}"), getattr(self, f"y_{name}")


def class_names(arrays, classes) -> tuple[str, ...]:
    """The data set's names of `classes` (original labels), as text.

    Args:
        arrays: the source's ``ImageArrays`` (its ``label_names`` may be empty).
        classes: original class labels.
    """
    names = getattr(arrays, "label_names", ())
    return tuple(str(names[c]) if len(names) > c else str(c) for c in classes)


def channel_stats(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of images scaled to [0, 1].

    Args:
        images: uint8 (or [0, 255]) images, shape ``(n, h, w, c)``.

    Returns:
        ``(mean, std)``, each float64 of shape ``(c,)``; ``std`` is floored at
        ``STD_FLOOR``.

    Raises:
        DataError: If there are no images.
    """
    stats = Normalization.fit(images)
    return np.asarray(stats.mean), np.asarray(stats.std)


def standardise(
    task_splits: Mapping[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], Normalization]:
    """Scale a task's images to [0, 1] and standardise them per channel.

    The mean and standard deviation of each channel are computed on the
    task's *training* split only and applied to every split. This deliberately
    deviates from the authors' released code, which standardised each split
    with its own statistics: using training statistics everywhere keeps
    validation and test statistics from leaking into the inputs.

    Args:
        task_splits: Split name (must include ``"train"``) to uint8 images of
            shape ``(n, h, w, c)``.

    Returns:
        ``(images, normalization)``: the same split names mapped to float32
        standardised images, and the statistics used (kept with the task).

    Raises:
        DataError: If there is no non-empty ``"train"`` split.
    """
    if "train" not in task_splits:
        raise DataError(
            f"standardise needs a 'train' split; got splits {list(task_splits)}."
        )
    normalization = Normalization.fit(task_splits["train"])
    images = {name: normalization.apply(x) for name, x in task_splits.items()}
    return images, normalization
