"""The MNIST and CIFAR-10 multi-task task sets of appendix C.

See docs/method.md, section 'Data protocols'.

Two sets of binary tasks, each answered by a 2-way softmax:

* ``heterogeneous``: 5 tasks on disjoint class pairs, 0 v 1, 2 v 3, ..., 8 v 9;
  task label 0 is the first class of the pair, 1 the second.
* ``homogeneous``: 10 one-vs-all tasks; in task ``c`` class ``c`` has label 1
  and every other class label 0.

Each task trains on ``percent`` % of the official training images of two
classes, split train:valid = 5:1, and is tested on a fixed-size sample of the
official test split. Sizes are set by :func:`binary_task_sizes`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dfcnn_tf.data.cifar100 import TASK_ORDERS, _check_choice
from dfcnn_tf.data.sources import LOCAL_FILES, ImageArrays
from dfcnn_tf.data.tasks import Task, class_names, standardise
from dfcnn_tf.errors import ConfigError, DataError


@dataclass(frozen=True)
class BinaryDataset:
    """Sizes of one data set's binary task sets.

    Attributes:
        title: Name used in messages.
        train_per_class: Official number of training images per class; the
            training fraction ``percent`` is taken of twice this number.
        heterogeneous_test_size: Test images per heterogeneous task.
        paper_percents: Training fractions (%) of the paper's error tables.
    """

    title: str
    train_per_class: int
    heterogeneous_test_size: int
    paper_percents: tuple[float, ...]


BINARY_DATASETS: dict[str, BinaryDataset] = {
    "mnist": BinaryDataset("MNIST", 6000, 1800, (3, 5, 7, 10, 30)),
    "cifar10": BinaryDataset("CIFAR-10", 5000, 2000, (4, 10, 30, 50, 70)),
}
PAPER_PERCENTS: dict[str, tuple[float, ...]] = {
    name: spec.paper_percents for name, spec in BINARY_DATASETS.items()
}
TASK_SETS = ("homogeneous", "heterogeneous")
NUM_CLASSES = 10
OTHER_CLASSES = -1  # Stands for "every other class" in a homogeneous task's classes.
HOMOGENEOUS_TEST_SIZE = 2000
TRAIN_PARTS, VALID_PARTS = 5, 1  # train:valid = 5:1
MIN_TASK_IMAGES = 12  # Smallest train + valid size a percent may give.


def binary_task_sizes(dataset: str, percent: float) -> tuple[int, int]:
    """Train and validation images per task at a training fraction.

    ``n = round(percent / 100 * 2 * train_per_class)`` images (the share of a
    class pair's official training images), split ``train = round(5 n / 6)``,
    ``valid = n - train``; e.g. MNIST 3% gives 300 + 60, CIFAR-10 4% 333 + 67.

    Args:
        dataset: ``"mnist"`` or ``"cifar10"``.
        percent: Training fraction in percent, in ``(0, 100]``.

    Returns:
        ``(n_train, n_valid)``.

    Raises:
        ConfigError: If ``dataset`` is unknown or ``percent`` is out of range
            or so small that fewer than ``MIN_TASK_IMAGES`` images result.
    """
    _check_choice("dataset", dataset, list(BINARY_DATASETS))
    is_number = isinstance(percent, (int, float, np.integer, np.floating))
    if isinstance(percent, bool) or not is_number or not 0 < percent <= 100:
        raise ConfigError(
            f"percent must be a number in (0, 100], e.g. one of "
            f"{list(PAPER_PERCENTS[dataset])} for {dataset}. Received: "
            f"percent={percent!r}"
        )
    total = round(percent / 100 * 2 * BINARY_DATASETS[dataset].train_per_class)
    if total < MIN_TASK_IMAGES:
        raise ConfigError(
            f"percent gives {total} train + valid images per {dataset} task; at "
            f"least {MIN_TASK_IMAGES} are needed. Received: percent={percent!r}"
        )
    n_train = round(total * TRAIN_PARTS / (TRAIN_PARTS + VALID_PARTS))
    return n_train, total - n_train


def build_binary_tasks(
    arrays: ImageArrays,
    *,
    dataset: str,
    task_set: str,
    percent: float,
    seed: int = 0,
    task_order: str = "fixed",
) -> list[Task]:
    """Build the MNIST or CIFAR-10 homogeneous or heterogeneous task set.

    Per task, the train + valid images are drawn from the official training
    split, half from each task label (negatives of a homogeneous task uniformly
    from the 9 other classes), and split 5:1 keeping that balance. The test
    images are drawn from the official test split, half per label where the
    split holds enough (else all of the short label, the rest from the other),
    as in the authors' released code: 2,000 per homogeneous task, 1,800 per
    MNIST and 2,000 (all of the pair) per CIFAR-10 heterogeneous task.
    Images are standardised with the task's training statistics.

    ``Task.classes`` documents the labels: ``(a, b)`` for the pair ``a`` v
    ``b``; ``(OTHER_CLASSES, c) == (-1, c)`` for class ``c`` v all others.

    Args:
        arrays: The data set's arrays (see ``load_arrays``), labels 0-9.
        dataset: ``"mnist"`` or ``"cifar10"``.
        task_set: ``"homogeneous"`` or ``"heterogeneous"``.
        percent: Training fraction in percent, in ``(0, 100]``; see
            :func:`binary_task_sizes` and ``PAPER_PERCENTS``.
        seed: Seed of ``numpy.random.default_rng``. Each task draws from its
            own child generator, so for one seed a task's images do not depend
            on ``task_order``.
        task_order: ``"fixed"`` (0 v 1 first / class 0 first) or
            ``"permuted"`` (a seeded random order).

    Returns:
        The tasks in training order, with ``task_id`` from 0.

    Raises:
        ConfigError: If an argument is out of range or unknown; the message
            names the field and the valid values.
        DataError: If the arrays hold labels outside 0-9 or too few images of
            a task's classes; the message gives the counts needed and held.
    """
    n_train, n_valid = binary_task_sizes(dataset, percent)
    _check_choice("task_set", task_set, TASK_SETS)
    _check_choice("task_order", task_order, TASK_ORDERS)
    _check_labels(arrays)
    rng = np.random.default_rng(seed)
    plans = _plan_tasks(task_set)
    task_rngs = rng.spawn(len(plans))
    order = np.arange(len(plans))
    if task_order == "permuted":
        order = rng.permutation(order)
    sampler = _Sampler(arrays, dataset, task_set, percent, n_train, n_valid)
    return [
        sampler.build(task_id, *plans[i], task_rngs[i])
        for task_id, i in enumerate(order)
    ]


def _check_labels(arrays: ImageArrays) -> None:
    """Raise DataError unless every label lies in ``[0, NUM_CLASSES)``."""
    for split in ("train", "test"):
        labels = getattr(arrays, f"y_{split}")
        if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
            raise DataError(
                f"y_{split}: binary task sets need labels in [0, {NUM_CLASSES}), "
                f"got values in [{labels.min()}, {labels.max()}]."
            )


def _plan_tasks(task_set: str) -> list[tuple[tuple[int, int], np.ndarray]]:
    """Classes and label lookup of every task, in fixed order.

    Args:
        task_set: ``"homogeneous"`` or ``"heterogeneous"``.

    Returns:
        ``(classes, lookup)`` per task; ``lookup[original_class]`` is the task
        label, or -1 for a class outside the task.
    """
    plans = []
    if task_set == "heterogeneous":
        for first in range(0, NUM_CLASSES, 2):
            lookup = np.full(NUM_CLASSES, -1, dtype=np.int64)
            lookup[[first, first + 1]] = (0, 1)
            plans.append(((first, first + 1), lookup))
    else:
        for positive in range(NUM_CLASSES):
            lookup = np.zeros(NUM_CLASSES, dtype=np.int64)
            lookup[positive] = 1
            plans.append(((OTHER_CLASSES, positive), lookup))
    return plans


def _halves(size: int) -> list[int]:
    """Split ``size`` into ``[label 0, label 1]`` counts, label 1 the smaller."""
    return [size - size // 2, size // 2]


def _fill_halves(size: int, available: list[int]) -> list[int]:
    """Half of ``size`` per label, topped up from the other label if one is short.

    Args:
        size: Total number of images; at most ``sum(available)``.
        available: Images held per label.

    Returns:
        Counts per label, each within ``available``, summing to ``size``.
    """
    counts = _halves(size)
    for label, other in ((0, 1), (1, 0)):
        if available[label] < counts[label]:
            counts = [0, 0]
            counts[label] = available[label]
            counts[other] = size - available[label]
    return counts


class _Sampler:
    """Draws, splits, re-labels and standardises the images of single tasks."""

    def __init__(
        self,
        arrays: ImageArrays,
        dataset: str,
        task_set: str,
        percent: float,
        n_train: int,
        n_valid: int,
    ) -> None:
        self.arrays, self.dataset, self.task_set = arrays, dataset, task_set
        self.percent, self.n_train, self.n_valid = percent, n_train, n_valid
        self.spec = BINARY_DATASETS[dataset]
        self.test_size = (
            self.spec.heterogeneous_test_size
            if task_set == "heterogeneous"
            else HOMOGENEOUS_TEST_SIZE
        )

    def build(
        self,
        task_id: int,
        classes: tuple[int, int],
        lookup: np.ndarray,
        rng: np.random.Generator,
    ) -> Task:
        """Build one task (see ``build_binary_tasks``).

        Args:
            task_id: Position of the task in training order.
            classes: The task's ``classes`` (see ``build_binary_tasks``).
            lookup: Task label of every original class, -1 if outside the task.
            rng: The task's own random generator.

        Returns:
            The task.

        Raises:
            DataError: If the arrays hold too few images of the task's classes.
        """
        where = f"{self.spec.title} {self.task_set} task {task_id + 1} " + (
            f"(classes {classes[0]}, {classes[1]})"
            if classes[0] != OTHER_CLASSES
            else f"(class {classes[1]} vs the rest)"
        )
        names = self._label_names(classes)
        y_train, y_test = lookup[self.arrays.y_train], lookup[self.arrays.y_test]
        drawn = self._draw_train(y_train, names, where, rng)
        train_idx, valid_idx = self._split(drawn, rng)
        test_idx = self._draw_test(y_test, where, rng)
        images, normalization = standardise(
            {
                "train": self.arrays.x_train[train_idx],
                "valid": self.arrays.x_train[valid_idx],
                "test": self.arrays.x_test[test_idx],
            }
        )
        return Task(
            task_id=task_id,
            classes=tuple(int(c) for c in classes),
            x_train=images["train"],
            y_train=y_train[train_idx],
            x_valid=images["valid"],
            y_valid=y_train[valid_idx],
            x_test=images["test"],
            y_test=y_test[test_idx],
            class_names=self._class_names(classes),
            normalization=normalization,
        )

    def _class_names(self, classes: tuple[int, int]) -> tuple[str, str]:
        """Names of task label 0 and 1 (the data set's names where known)."""
        named = class_names(self.arrays, classes[1:])
        if classes[0] == OTHER_CLASSES:
            return ("other", named[0])
        return (*class_names(self.arrays, classes[:1]), *named)

    @staticmethod
    def _label_names(classes: tuple[int, int]) -> list[str]:
        """How messages name the images of task label 0 and 1."""
        if classes[0] == OTHER_CLASSES:
            return ["the other classes", f"class {classes[1]}"]
        return [f"class {classes[0]}", f"class {classes[1]}"]

    def _draw_train(
        self,
        labels: np.ndarray,
        names: list[str],
        where: str,
        rng: np.random.Generator,
    ) -> list[np.ndarray]:
        """Draw half of the train + valid images from each task label.

        Raises:
            DataError: If a label has fewer training images than its half.
        """
        pools = [np.flatnonzero(labels == label) for label in (0, 1)]
        available = [len(pool) for pool in pools]
        needed = _halves(self.n_train + self.n_valid)
        if any(have < need for have, need in zip(available, needed, strict=True)):
            parts = ", ".join(
                f"{count} of {name}" for count, name in zip(needed, names, strict=True)
            )
            held = ", ".join(
                f"{count} of {name}"
                for count, name in zip(available, names, strict=True)
            )
            raise DataError(
                f"{where} needs {sum(needed)} training images at {self.percent:g}% "
                f"({parts}) but the data hold {sum(available)} ({held}); "
                f"{self._shortage_hint()}"
            )
        return [
            rng.choice(pool, size=count, replace=False)
            for pool, count in zip(pools, needed, strict=True)
        ]

    def _shortage_hint(self) -> str:
        """Advice for a DataError on too few training images."""
        held = len(self.arrays.y_train)
        official = NUM_CLASSES * self.spec.train_per_class
        if held >= official:
            return "lower the percent."
        smallest = int(np.bincount(self.arrays.y_train, minlength=NUM_CLASSES).min())
        return (
            f"these arrays hold {held:,} training images ({smallest:,} of the "
            f"smallest class), fewer than the official {official:,} (the local "
            f"{LOCAL_FILES[self.dataset]} is such a subset): use the full data set "
            "(omit --data-dir to load it with tensorflow-datasets)."
        )

    def _split(
        self, drawn: list[np.ndarray], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Split the drawn images 5:1 into train and valid, keeping label shares.

        Args:
            drawn: Randomly ordered training indices of label 0 and of label 1.
            rng: Random generator used to shuffle each split.

        Returns:
            ``(train_idx, valid_idx)``, each shuffled.
        """
        total = sum(len(part) for part in drawn)
        train_0 = round(self.n_train * len(drawn[0]) / total)
        cuts = [train_0, self.n_train - train_0]
        parts = list(zip(drawn, cuts, strict=True))
        train = np.concatenate([part[:cut] for part, cut in parts])
        valid = np.concatenate([part[cut:] for part, cut in parts])
        return rng.permutation(train), rng.permutation(valid)

    def _draw_test(
        self, labels: np.ndarray, where: str, rng: np.random.Generator
    ) -> np.ndarray:
        """Draw the task's test images, half per label where possible.

        Raises:
            DataError: If the test split holds fewer images of the task's
                classes than the test size.
        """
        pools = [np.flatnonzero(labels == label) for label in (0, 1)]
        available = [len(pool) for pool in pools]
        if sum(available) < self.test_size:
            raise DataError(
                f"{where} needs {self.test_size} test images but the data hold "
                f"{sum(available)} of its classes."
            )
        counts = _fill_halves(self.test_size, available)
        chosen = [
            rng.choice(pool, size=count, replace=False)
            for pool, count in zip(pools, counts, strict=True)
        ]
        return rng.permutation(np.concatenate(chosen))
