"""The CIFAR-100 lifelong task sequence of section 4.

See docs/method.md, section 'Data protocols'.

The 100 fine classes are split into tasks of distinct classes (by default the
fixed 10 x 10 partition of the authors' released code). Each task trains on a
small stratified sample of the training images (17 + 3 per class: 170 train,
30 validation) and is tested on all official test images of its classes.
The task set is a description (the groups and counts) over the shared
splitting of `dfcnn_tf/data/splitting.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dfcnn_tf.data.datasets import BUILTIN_DATASETS
from dfcnn_tf.data.sources import ImageArrays, labelled_images, load_arrays
from dfcnn_tf.data.splitting import Split, split_into_tasks
from dfcnn_tf.data.tasks import Task
from dfcnn_tf.errors import ConfigError, DataError

NUM_CLASSES = BUILTIN_DATASETS["cifar100"].arrays.num_classes

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


def cifar100_tasks(data, seed: int) -> list[Task]:
    """The task set a `DataConfig` with ``dataset="cifar100"`` describes
    (its fields as the registry in `datasets.py` lists them)."""
    fields = ("num_tasks", "task_order", *BUILTIN_DATASETS["cifar100"].fields)
    arguments = {name: getattr(data, name) for name in fields}
    return build_cifar100_tasks(
        load_arrays("cifar100", data.data_dir), seed=seed, **arguments
    )


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
    training statistics (see `splitting.build_task`).

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
    paper = partition == "paper"
    split = Split(
        num_tasks=num_tasks,
        classes_per_task=classes_per_task,
        train_per_class=train_per_class,
        valid_per_class=valid_per_class,
        partition="groups" if paper else "random",
        task_order=task_order,
        groups=PAPER_PARTITION[:num_tasks] if paper else (),
    )
    images = labelled_images(arrays, "CIFAR-100", NUM_CLASSES)
    return split_into_tasks(images, split, seed)


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
