"""The CIFAR-100 lifelong task sequence of section 4.

See docs/method.md, section 'Data protocols'.

The 100 fine classes are split into tasks of distinct classes (by default the
fixed 10 x 10 partition of the authors' released code). Each task trains on a
small stratified sample of the training images (17 + 3 per class: 170 train,
30 validation) and is tested on all official test images of its classes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dfcnn_tf.data.sources import DATASETS, ImageArrays
from dfcnn_tf.data.tasks import Task, class_names, standardise
from dfcnn_tf.errors import ConfigError, DataError

NUM_CLASSES = DATASETS["cifar100"].num_classes

# Fine-label classes of each task, task 1 first (released code's partition).
PAPER_PARTITION: tuple[tuple[int, ...], ...] = (
    (4, 1, 54, 9, 0, 5, 6, 3, 12, 8),
    (30, 32, 62, 10, 51, 20, 7, 42, 17, 13),
    (55, 67, 70, 16, 53, 25, 14, 43, 37, 48),
    (72, 73, 82, 28, 57, 84, 18, 88, 68, 58),
    (95, 91, 92, 61, 83, 94, 24, 97, 76, 90),
    (22, 23, 15, 34, 26, 2, 27, 36, 47, 41),
    (39, 33, 19, 63, 45, 11, 29, 50, 52, 69),
    (40, 49, 21, 64, 77, 35, 44, 65, 56, 81),
    (86, 60, 31, 66, 79, 46, 78, 74, 59, 85),
    (87, 71, 38, 75, 99, 98, 93, 80, 96, 89),
)
PARTITIONS = ("paper", "random")
TASK_ORDERS = ("fixed", "permuted")


def build_cifar100_tasks(
    arrays: ImageArrays,
    *,
    num_tasks: int = 10,
    classes_per_task: int = 10,
    train_per_class: int = 17,
    valid_per_class: int = 3,
    partition: str = "paper",
    task_order: str = "fixed",
    seed: int = 0,
) -> list[Task]:
    """Build the CIFAR-100 lifelong task sequence.

    Per task and class, ``train_per_class + valid_per_class`` distinct training
    images are drawn at random; the test split holds every official test image
    of the task's classes. Labels are re-indexed to the position of the class
    in the task's class list, and images are standardised with the task's
    training statistics (see :func:`~dfcnn_tf.data.tasks.standardise`).

    Args:
        arrays: CIFAR-100 arrays with fine labels (see ``load_arrays``).
        num_tasks: Number of tasks.
        classes_per_task: Number of distinct classes per task.
        train_per_class: Training images per class and task.
        valid_per_class: Validation images per class and task.
        partition: ``"paper"`` (the first ``num_tasks`` lists of
            ``PAPER_PARTITION``; needs ``classes_per_task == 10``) or
            ``"random"`` (a seeded random partition into disjoint groups).
        task_order: ``"fixed"`` (partition order) or ``"permuted"`` (a seeded
            random order).
        seed: Seed of ``numpy.random.default_rng``; the same seed gives
            identical tasks.

    Returns:
        The tasks in training order, with ``task_id`` 0 .. ``num_tasks - 1``.

    Raises:
        ConfigError: If an argument is out of range or unknown.
        DataError: If a class has too few training images.
    """
    _check_arguments(
        num_tasks, classes_per_task, train_per_class, valid_per_class, partition
    )
    _check_choice("task_order", task_order, TASK_ORDERS)
    _check_is_cifar100(arrays)
    rng = np.random.default_rng(seed)
    groups = _partition_classes(partition, num_tasks, classes_per_task, rng)
    if task_order == "permuted":
        groups = [groups[i] for i in rng.permutation(len(groups))]
    return [
        _build_task(task_id, classes, arrays, train_per_class, valid_per_class, rng)
        for task_id, classes in enumerate(groups)
    ]


def _check_is_cifar100(arrays: ImageArrays) -> None:
    """Raise DataError unless the training labels cover 100 classes."""
    found = len(np.unique(arrays.y_train))
    if found != NUM_CLASSES:
        raise DataError(
            f"build_cifar100_tasks needs the {NUM_CLASSES} CIFAR-100 classes; "
            f"these arrays hold {found}. For other data use "
            "dfcnn_tf.data.tasks_from_arrays (or --data npz:FILE)."
        )


def _check_choice(field: str, value: str, choices: Sequence[str]) -> None:
    """Raise ConfigError if ``value`` is not one of ``choices``."""
    if value not in choices:
        raise ConfigError(
            f"{field} must be one of {list(choices)}. Received: {field}={value!r}"
        )


def _check_arguments(
    num_tasks: int,
    classes_per_task: int,
    train_per_class: int,
    valid_per_class: int,
    partition: str,
) -> None:
    """Check the sizes and partition of the task sequence.

    Raises:
        ConfigError: Naming the first field that is out of range or unknown.
    """
    minimums = {
        "num_tasks": (num_tasks, 1),
        "classes_per_task": (classes_per_task, 2),
        "train_per_class": (train_per_class, 1),
        "valid_per_class": (valid_per_class, 0),
    }
    for field, (value, minimum) in minimums.items():
        if not isinstance(value, (int, np.integer)) or value < minimum:
            raise ConfigError(
                f"{field} must be an integer >= {minimum}. Received: {field}={value!r}"
            )
    if num_tasks * classes_per_task > NUM_CLASSES:
        raise ConfigError(
            f"num_tasks * classes_per_task must be <= {NUM_CLASSES}. Received: "
            f"num_tasks={num_tasks}, classes_per_task={classes_per_task}"
        )
    _check_choice("partition", partition, PARTITIONS)
    if partition == "paper" and classes_per_task != len(PAPER_PARTITION[0]):
        raise ConfigError(
            f"partition='paper' needs classes_per_task={len(PAPER_PARTITION[0])}. "
            f"Received: classes_per_task={classes_per_task}"
        )


def _partition_classes(
    partition: str, num_tasks: int, classes_per_task: int, rng: np.random.Generator
) -> list[tuple[int, ...]]:
    """Return the class list of each task, in partition order.

    Args:
        partition: ``"paper"`` or ``"random"``.
        num_tasks: Number of groups.
        classes_per_task: Classes per group.
        rng: Random generator used by the random partition.

    Returns:
        ``num_tasks`` disjoint tuples of ``classes_per_task`` class labels.
    """
    if partition == "paper":
        return list(PAPER_PARTITION[:num_tasks])
    chosen = rng.permutation(NUM_CLASSES)[: num_tasks * classes_per_task]
    return [
        tuple(int(c) for c in group)
        for group in chosen.reshape(num_tasks, classes_per_task)
    ]


def _build_task(
    task_id: int,
    classes: tuple[int, ...],
    arrays: ImageArrays,
    train_per_class: int,
    valid_per_class: int,
    rng: np.random.Generator,
) -> Task:
    """Sample, re-label and standardise the splits of one task.

    Args:
        task_id: Position of the task in training order.
        classes: Original labels of the task's classes.
        arrays: The full CIFAR-100 arrays.
        train_per_class: Training images per class.
        valid_per_class: Validation images per class.
        rng: Random generator for the sample.

    Returns:
        The task.

    Raises:
        DataError: If a class has too few training images.
    """
    train_idx, valid_idx = _sample_indices(
        arrays.y_train, classes, train_per_class, valid_per_class, rng
    )
    test_idx = np.flatnonzero(np.isin(arrays.y_test, classes))
    images, normalization = standardise(
        {
            "train": arrays.x_train[train_idx],
            "valid": arrays.x_train[valid_idx],
            "test": arrays.x_test[test_idx],
        }
    )
    lookup = np.full(NUM_CLASSES, -1, dtype=np.int64)
    lookup[list(classes)] = np.arange(len(classes))
    return Task(
        task_id=task_id,
        classes=tuple(int(c) for c in classes),
        x_train=images["train"],
        y_train=lookup[arrays.y_train[train_idx]],
        x_valid=images["valid"],
        y_valid=lookup[arrays.y_train[valid_idx]],
        x_test=images["test"],
        y_test=lookup[arrays.y_test[test_idx]],
        class_names=class_names(arrays, classes),
        normalization=normalization,
    )


def _sample_indices(
    labels: np.ndarray,
    classes: tuple[int, ...],
    train_per_class: int,
    valid_per_class: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw disjoint, class-stratified train and validation indices.

    Args:
        labels: Original training labels, shape ``(n,)``.
        classes: Classes to sample.
        train_per_class: Training indices per class.
        valid_per_class: Validation indices per class.
        rng: Random generator.

    Returns:
        ``(train_idx, valid_idx)``, each shuffled so classes are interleaved.

    Raises:
        DataError: If a class has fewer than ``train_per_class +
            valid_per_class`` training images.
    """
    needed = train_per_class + valid_per_class
    train_parts, valid_parts = [], []
    for label in classes:
        available = np.flatnonzero(labels == label)
        if len(available) < needed:
            raise DataError(
                f"CIFAR-100 class {label}: needs {needed} training images "
                f"({train_per_class} train + {valid_per_class} valid) but only "
                f"{len(available)} are available."
            )
        chosen = rng.choice(available, size=needed, replace=False)
        train_parts.append(chosen[:train_per_class])
        valid_parts.append(chosen[train_per_class:])
    return (
        rng.permutation(np.concatenate(train_parts)),
        rng.permutation(np.concatenate(valid_parts)),
    )
