"""The MNIST and CIFAR-10 multi-task task sets of appendix C.

See docs/method.md, section 'Data protocols'.

Two sets of binary tasks, each answered by a 2-way softmax:

* ``heterogeneous``: 5 tasks on disjoint class pairs, 0 v 1, 2 v 3, ..., 8 v 9;
  task label 0 is the first class of the pair, 1 the second.
* ``homogeneous``: 10 one-vs-all tasks; in task ``c`` class ``c`` has label 1
  and every other class label 0.

Each task trains on ``percent`` % of the official training images of two
classes, split train:valid = 5:1, and is tested on a fixed-size sample of the
official test split. Sizes are set by :func:`binary_task_sizes`. The task
sets are descriptions (the label groups and the per-task counts) over the
shared splitting of `dfcnn_tf/data/splitting.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dfcnn_tf.data.cifar100 import TASK_ORDERS, _check_choice
from dfcnn_tf.data.sampling import shares
from dfcnn_tf.data.sources import (
    LOCAL_FILES,
    ImageArrays,
    labelled_images,
    load_arrays,
)
from dfcnn_tf.data.splitting import OTHER_CLASSES, Split, split_into_tasks  # noqa: F401
from dfcnn_tf.data.tasks import Task
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
HOMOGENEOUS_TEST_SIZE = 2000
TRAIN_PARTS, VALID_PARTS = 5, 1  # train:valid = 5:1
MIN_TASK_IMAGES = 12  # Smallest train + valid size a percent may give.


def binary_task_sizes(
    dataset: str, percent: float, name: str = "percent"
) -> tuple[int, int]:
    """Train and validation images per task at a training fraction.

    ``n = round(percent / 100 * 2 * train_per_class)`` images (the share of a
    class pair's official training images), split ``train = round(5 n / 6)``,
    ``valid = n - train``; e.g. MNIST 3% gives 300 + 60, CIFAR-10 4% 333 + 67.

    Args:
        dataset: ``"mnist"`` or ``"cifar10"``.
        percent: Training fraction in percent, in ``(0, 100]``.
        name: What error messages call ``percent``; configuration checks
            pass ``"data.percent"``.

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
            f"{name} must be a number in (0, 100], e.g. one of "
            f"{list(PAPER_PERCENTS[dataset])} for {dataset}. Received: "
            f"{name}={percent!r}"
        )
    total = round(percent / 100 * 2 * BINARY_DATASETS[dataset].train_per_class)
    if total < MIN_TASK_IMAGES:
        raise ConfigError(
            f"{name} gives {total} train + valid images per {dataset} task; at "
            f"least {MIN_TASK_IMAGES} are needed. Received: {name}={percent!r}"
        )
    n_train = round(total * TRAIN_PARTS / (TRAIN_PARTS + VALID_PARTS))
    return n_train, total - n_train


def binary_tasks(data, seed: int) -> list[Task]:
    """The task set a `DataConfig` with ``dataset`` "mnist" or "cifar10"
    describes (`datasets.py` lists the fields it reads)."""
    return build_binary_tasks(
        load_arrays(data.dataset, data.data_dir),
        dataset=data.dataset,
        task_set=data.task_set,
        percent=data.percent,
        seed=seed,
        task_order=data.task_order,
    )


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
    _check_choice("task_set", task_set, TASK_SETS)
    _check_choice("task_order", task_order, TASK_ORDERS)
    _check_labels(arrays)
    split = binary_split(dataset, task_set, percent, task_order)
    _check_counts(arrays, dataset, task_set, percent, split)
    title = BINARY_DATASETS[dataset].title
    return split_into_tasks(labelled_images(arrays, title, NUM_CLASSES), split, seed)


def binary_split(dataset, task_set, percent, task_order) -> Split:
    """The `Split` describing one binary task set (pairs or one-vs-rest)."""
    n_train, n_valid = binary_task_sizes(dataset, percent)
    hetero = task_set == "heterogeneous"
    groups = task_groups(task_set)
    return Split(
        num_tasks=len(groups),
        partition="groups",
        task_order=task_order,
        groups=groups,
        train_per_task=n_train,
        valid_per_task=n_valid,
        test_per_task=(
            BINARY_DATASETS[dataset].heterogeneous_test_size
            if hetero
            else HOMOGENEOUS_TEST_SIZE
        ),
        task_streams=True,
    )


def task_groups(task_set: str) -> tuple[tuple, ...]:
    """The task labels of every task, in fixed order: ``(a, b)`` for the
    pair a v b, ``((every other class), c)`` for class c v the rest."""
    if task_set == "heterogeneous":
        return tuple((first, first + 1) for first in range(0, NUM_CLASSES, 2))
    return tuple(
        (tuple(c for c in range(NUM_CLASSES) if c != positive), positive)
        for positive in range(NUM_CLASSES)
    )


def _check_labels(arrays: ImageArrays) -> None:
    """Raise DataError unless every label lies in ``[0, NUM_CLASSES)``."""
    for split in ("train", "test"):
        labels = getattr(arrays, f"y_{split}")
        if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
            raise DataError(
                f"y_{split}: binary task sets need labels in [0, {NUM_CLASSES}), "
                f"got values in [{labels.min()}, {labels.max()}]."
            )


def _check_counts(arrays, dataset, task_set, percent, split) -> None:
    """Raise DataError, in the task sets' own terms, before any draw if a
    task's labels hold too few training or test images."""
    title = BINARY_DATASETS[dataset].title
    train = np.bincount(arrays.y_train, minlength=NUM_CLASSES)
    test = np.bincount(arrays.y_test, minlength=NUM_CLASSES)
    needed = shares(split.train_per_task + split.valid_per_task, 2)
    for number, (first, second) in enumerate(split.groups, 1):
        other = np.ndim(first) > 0
        where = f"{title} {task_set} task {number} " + (
            f"(class {second} vs the rest)" if other else f"(classes {first}, {second})"
        )
        names = ["the other classes" if other else f"class {first}", f"class {second}"]
        held = [int(train[list(np.ravel(label))].sum()) for label in (first, second)]
        if any(have < need for have, need in zip(held, needed, strict=True)):
            parts, have = (
                ", ".join(
                    f"{n} of {name}" for n, name in zip(counts, names, strict=True)
                )
                for counts in (needed, held)
            )
            raise DataError(
                f"{where} needs {sum(needed)} training images at {percent:g}% "
                f"({parts}) but the data hold {sum(held)} ({have}); "
                f"{_shortage_hint(arrays, dataset)}"
            )
        in_test = int(test[list(np.ravel(first))].sum() + test[second])
        if in_test < split.test_per_task:
            raise DataError(
                f"{where} needs {split.test_per_task} test images but the data "
                f"hold {in_test} of its classes."
            )


def _shortage_hint(arrays: ImageArrays, dataset: str) -> str:
    """Advice for a DataError on too few training images."""
    held = len(arrays.y_train)
    official = NUM_CLASSES * BINARY_DATASETS[dataset].train_per_class
    if held >= official:
        return "lower the percent."
    smallest = int(np.bincount(arrays.y_train, minlength=NUM_CLASSES).min())
    return (
        f"these arrays hold {held:,} training images ({smallest:,} of the "
        f"smallest class), fewer than the official {official:,} (the local "
        f"{LOCAL_FILES[dataset]} is such a subset): use the full data set "
        "(omit --data-dir to load it with tensorflow-datasets)."
    )
