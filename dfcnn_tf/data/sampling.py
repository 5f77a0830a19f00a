"""Which images of a task's labels go to its train, valid and test splits.

The seeded draws behind `splitting.split_into_tasks`, for every task set
(docs/method.md, section 'Data protocols'). A task label stands for one
class or for several merged ones (a one-vs-rest task's "other" label).
Per label, either a count or fraction of each class (`Split.train_per_class`,
`valid_per_class`) or an even share of a per-task total (`train_per_task`,
`valid_per_task`: the MNIST / CIFAR-10 binary sets) is drawn without
replacement; the test split is every test image of the task's classes, or an
even per-label sample of `test_per_task` images, a short label topped up
from the others. With `class_split` (Office-Home) every class of a task is
cut into train, valid and test by fractions instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from dfcnn_tf.errors import ConfigError, DataError


def label_pools(labels: np.ndarray, label_classes) -> list[np.ndarray]:
    """Indices of the images of every task label (its classes), sorted."""
    return [np.flatnonzero(np.isin(labels, classes)) for classes in label_classes]


def sample_indices(images, label_classes, split, rng) -> tuple[np.ndarray, ...]:
    """Disjoint, label-stratified, shuffled train and validation indices.

    Args:
        images: the source's `LabelledImages`.
        label_classes: the original classes of every task label.
        split: the `Split` (per-class or per-task sizes).
        rng: the generator of the draw.

    Raises:
        DataError: naming the label, the images needed and the images found.
    """
    pools = label_pools(images.y_train, label_classes)
    sizes = _label_sizes(split, [len(pool) for pool in pools])
    train_parts, valid_parts = [], []
    for pool, classes, (n_train, n_valid) in zip(
        pools, label_classes, sizes, strict=True
    ):
        if len(pool) < n_train + n_valid or n_train < 1:
            label = ", ".join(images.label_names[c] for c in classes)
            raise DataError(
                f"{images.name}: class {label!r} (label {', '.join(map(str, classes))})"
                f" needs {max(n_train, 1) + n_valid} training images "
                f"({max(n_train, 1)} train + {n_valid} valid) but has {len(pool)}"
            )
        chosen = rng.choice(pool, size=n_train + n_valid, replace=False)
        train_parts.append(chosen[:n_train])
        valid_parts.append(chosen[n_train:])
    return (
        rng.permutation(np.concatenate(train_parts)),
        rng.permutation(np.concatenate(valid_parts)),
    )


def _label_sizes(split, available: list[int]) -> list[tuple[int, int]]:
    """``(n_train, n_valid)`` of every task label."""
    if split.train_per_task is None:
        return [
            (_count(split.train_per_class, n), _count(split.valid_per_class, n))
            for n in available
        ]
    total = split.train_per_task + split.valid_per_task
    drawn = shares(total, len(available))
    cuts = [round(split.train_per_task * n / total) for n in drawn[:-1]]
    cuts.append(split.train_per_task - sum(cuts))
    return [(cut, n - cut) for cut, n in zip(cuts, drawn, strict=True)]


def shares(size: int, parts: int) -> list[int]:
    """`size` split evenly over `parts`, the first ones one larger if needed
    (two parts: ``[size - size // 2, size // 2]``)."""
    base, extra = divmod(size, parts)
    return [base + (i < extra) for i in range(parts)]


def fill_shares(size: int, available: list[int]) -> list[int]:
    """Even shares of `size`, a label short of its share giving all it has
    and the others sharing the rest evenly; needs ``sum(available) >= size``."""
    counts = shares(size, len(available))
    short: set[int] = set()
    while True:
        newly = {i for i, n in enumerate(counts) if available[i] < n} - short
        if not newly:
            return counts
        short |= newly
        rest = [i for i in range(len(counts)) if i not in short]
        left = size - sum(available[i] for i in short)
        counts = [available[i] if i in short else 0 for i in range(len(counts))]
        for i, n in zip(rest, shares(left, len(rest)) if rest else (), strict=True):
            counts[i] = n


def draw_test_indices(images, label_classes, split, rng) -> np.ndarray:
    """The task's test indices: every test image of its classes, or a
    shuffled sample of `split.test_per_task` (even shares per label).

    Raises:
        DataError: if the test split holds fewer images of the task's classes.
    """
    if split.test_per_task is None:
        every = [c for classes in label_classes for c in classes]
        return np.flatnonzero(np.isin(images.y_test, every))
    pools = label_pools(images.y_test, label_classes)
    available = [len(pool) for pool in pools]
    if sum(available) < split.test_per_task:
        raise DataError(
            f"{images.name}: a task needs {split.test_per_task} test images but "
            f"the data hold {sum(available)} of its classes"
        )
    counts = fill_shares(split.test_per_task, available)
    chosen = [
        rng.choice(pool, size=count, replace=False)
        for pool, count in zip(pools, counts, strict=True)
    ]
    return rng.permutation(np.concatenate(chosen))


def _count(size, available: int) -> int:
    """A per-class size: a count (int), or a fraction (float in (0, 1]) of
    the class's available training images, rounded down."""
    if isinstance(size, float):
        if not 0 <= size <= 1:
            raise ConfigError(f"a per-class fraction must lie in [0, 1], got {size}")
        return int(size * available)
    return int(size)


def fraction_indices(images, label_classes, split, rng) -> tuple[np.ndarray, ...]:
    """Train, valid and test indices: every image of each task label, cut by
    the fractions `split.class_split` (`class_split_sizes`), each split
    shuffled."""
    parts = ([], [], [])
    for pool in label_pools(images.y_train, label_classes):
        indices = rng.permutation(pool)
        sizes = class_split_sizes(len(indices), split.class_split)
        chunks = np.split(indices, np.cumsum(sizes)[:-1])
        for part, chunk in zip(parts, chunks, strict=True):
            part.append(chunk)
    return tuple(rng.permutation(np.concatenate(part)) for part in parts)


def class_split_sizes(n: int, split: Sequence[float]) -> tuple[int, int, int]:
    """Numbers of a class's images for train, validation and test.

    Validation and test sizes are ``n * fraction`` rounded half up. A class
    with at least 3 images gives at least one image to every split with a
    positive fraction; training always keeps at least one image.

    Args:
        n: Number of images of the class, >= 1.
        split: ``(train, valid, test)`` fractions summing to 1.

    Returns:
        ``(n_train, n_valid, n_test)``, summing to ``n``.
    """
    _, valid_fraction, test_fraction = split
    valid = math.floor(n * valid_fraction + 0.5)
    test = math.floor(n * test_fraction + 0.5)
    if n >= 3:
        valid = max(valid, 1) if valid_fraction > 0 else valid
        test = max(test, 1) if test_fraction > 0 else test
    while n - valid - test < 1:
        if test >= valid:
            test -= 1
        else:
            valid -= 1
    return n - valid - test, valid, test
