"""One lifelong-learning task and its input standardisation (SPEC section 5).

A :class:`Task` holds the train/validation/test split of one task of the
lifelong sequence (section 4 of the paper), with images already standardised
and labels re-indexed to ``0 .. len(classes) - 1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from dfcnn_tf.errors import ConfigError, DataError

TASK_SPLITS = ("train", "valid", "test")
PIXEL_MAX = 255.0
STD_FLOOR = 1e-6  # Keeps a constant channel from dividing by zero.


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
    """

    task_id: int
    classes: tuple[int, ...]
    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

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
    if len(images) == 0:
        raise DataError("Cannot compute channel statistics of an empty split.")
    scaled = np.asarray(images, dtype=np.float64) / PIXEL_MAX
    mean = scaled.mean(axis=(0, 1, 2))
    std = np.maximum(scaled.std(axis=(0, 1, 2)), STD_FLOOR)
    return mean, std


def standardise(task_splits: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
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
        The same split names mapped to float32 standardised images.

    Raises:
        DataError: If there is no non-empty ``"train"`` split.
    """
    if "train" not in task_splits:
        raise DataError(
            f"standardise needs a 'train' split; got splits {list(task_splits)}."
        )
    mean, std = channel_stats(task_splits["train"])
    return {
        name: ((np.asarray(x, dtype=np.float64) / PIXEL_MAX - mean) / std).astype(
            np.float32
        )
        for name, x in task_splits.items()
    }
