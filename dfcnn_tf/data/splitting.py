"""Cutting one labelled image set into lifelong tasks, for every task source.

Shared by the NumPy, tensorflow-datasets and image-folder sources
(`dfcnn_tf/data/task_sources.py`): the classes are grouped into tasks
(explicit groups, a seeded random partition into K classes per task, or one
task per domain), each class gives a seeded sample of training and validation
images, the test split comes from the source's own test split or a held-out
fraction of each class, and every task is standardised with its own training
statistics (`Normalization`, kept with the task).

The built-in task sets are descriptions over this machinery (registry:
`datasets.py`): CIFAR-100 (explicit or random class groups), MNIST / CIFAR-10
(pairs or one-vs-rest labels, per-task sizes and test samples, one stream
per task) and Office-Home (per-domain streams, per-class split fractions,
unit scaling). The seeded draws themselves live in `sampling.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dfcnn_tf.data.normalization import Normalization
from dfcnn_tf.data.sampling import (
    draw_test_indices,
    fraction_indices,
    sample_indices,
)
from dfcnn_tf.data.tasks import Task
from dfcnn_tf.errors import ConfigError

TASK_ORDERS = ("fixed", "permuted")
PARTITIONS = ("random", "domain", "groups")
OTHER_CLASSES = -1  # `Task.classes` entry of a label merging several classes


@dataclass(frozen=True)
class LabelledImages:
    """Raw images of one source, before they are cut into tasks.

    Attributes:
        name: what the user typed to get them (e.g. ``"tfds:fashion_mnist"``).
        x_train: raw images ``(n, h, w, c)``: uint8, or float in ``[0, scale]``.
        y_train: int64 labels ``(n,)``.
        x_test: the source's test images, or None (a held-out fraction is used).
        y_test: the test labels, or None.
        label_names: class names by label.
        scale: the images' maximum value (255 for pixels, 1 for [0, 1] floats).
        domains: names of the domains (sub-folders), or empty.
        d_train: domain index of every training image, or None.
        d_test: domain index of every test image, or None.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    label_names: tuple[str, ...]
    scale: float = 255.0
    domains: tuple[str, ...] = ()
    d_train: np.ndarray | None = None
    d_test: np.ndarray | None = None

    @property
    def num_classes(self) -> int:
        """Number of classes (labels lie in ``[0, num_classes)``)."""
        return len(self.label_names)


@dataclass(frozen=True)
class Split:
    """How classes become tasks and images become splits.

    Attributes:
        num_tasks: number of tasks.
        classes_per_task: K, the classes of each task (random partition).
        train_per_class: training images per class and task: a count, or a
            fraction (float) of the class's images left after the test split.
        valid_per_class: validation images per class and task, likewise.
        test_fraction: share of each class held out for testing when the
            source has no test split.
        partition: ``"random"`` (seeded, disjoint), ``"domain"`` (one task
            per domain) or ``"groups"`` (the explicit ``groups``).
        task_order: ``"fixed"`` or ``"permuted"`` (seeded).
        groups: explicit class groups, one per task; an entry that is a
            tuple of classes merges them into one label ("other").
        train_per_task: if set, the task's training images in all, shared
            evenly by its labels (replaces ``train_per_class``).
        valid_per_task: likewise for validation (with ``train_per_task``).
        test_per_task: if set, a seeded sample of this many test images per
            task (even shares per label) instead of all of its classes'.
        task_streams: draw each task from its own child generator (spawned
            before the order is permuted), so a task's images do not depend
            on the task order.
        class_split: if set, ``(train, valid, test)`` fractions that cut
            every class of a task into its three splits (the source's test
            split and the per-class sizes are then unused).
        scaling: ``"standardise"`` (per channel, with the task's training
            statistics) or ``"unit"`` (raw / scale, in [0, 1]).
    """

    num_tasks: int = 5
    classes_per_task: int = 2
    train_per_class: int | float = 17
    valid_per_class: int | float = 3
    test_fraction: float = 0.2
    partition: str = "random"
    task_order: str = "fixed"
    groups: tuple[tuple[int | tuple[int, ...], ...], ...] = ()
    train_per_task: int | None = None
    valid_per_task: int | None = None
    test_per_task: int | None = None
    task_streams: bool = False
    class_split: tuple[float, float, float] | None = None
    scaling: str = "standardise"


def split_into_tasks(images: LabelledImages, split: Split, seed: int) -> list[Task]:
    """Cut `images` into the tasks `split` describes.

    Args:
        images: the source's raw images.
        split: the grouping and per-class sizes.
        seed: seed of every draw; the same seed gives identical tasks.

    Returns:
        The tasks in training order, ``task_id`` 0 .. ``num_tasks - 1``.

    Raises:
        ConfigError: on an unknown partition or order, or too few classes.
        DataError: if a class has too few images (which, needed, found).
    """
    _check_split(split, images)
    rng = np.random.default_rng(seed)
    if images.x_test is None:
        images = _hold_out_test(images, split.test_fraction, seed)
    if split.partition == "domain":
        return _domain_tasks(images, split, rng)
    groups = _class_groups(images.num_classes, split, rng)
    rngs = rng.spawn(len(groups)) if split.task_streams else [rng] * len(groups)
    order = range(len(groups))
    if split.task_order == "permuted":
        order = rng.permutation(len(groups))
    return [
        build_task(task_id, groups[i], images, split, rngs[i])
        for task_id, i in enumerate(order)
    ]


def _check_split(split: Split, images: LabelledImages) -> None:
    checks = (
        ("partition", split.partition, PARTITIONS),
        ("task_order", split.task_order, TASK_ORDERS),
    )
    for field, value, choices in checks:
        if value not in choices:
            raise ConfigError(
                f"data.{field}: {value!r} is not one of {', '.join(choices)}"
            )
    if split.partition == "domain" and not images.domains:
        raise ConfigError(
            f"{images.name}: partition 'domain' needs a folder of domains "
            "(root/<domain>/<class>/*)"
        )
    named = {int(c) for group in split.groups for item in group for c in np.ravel(item)}
    unknown = named - set(range(images.num_classes))
    if split.partition == "groups" and (unknown or not split.groups):
        raise ConfigError(
            f"{images.name}: class groups must name labels in "
            f"[0, {images.num_classes}); got {sorted(unknown) or 'no groups'}"
        )
    wanted = split.num_tasks * split.classes_per_task
    if split.partition == "random" and wanted > images.num_classes:
        raise ConfigError(
            f"{images.name} has {images.num_classes} classes, fewer than "
            f"{split.num_tasks} tasks x {split.classes_per_task} classes per task "
            f"= {wanted}; ask for fewer tasks or fewer classes per task"
        )


def _class_groups(num_classes, split, rng) -> list[tuple[int, ...]]:
    """The class list of each task, in partition order."""
    if split.partition == "groups":
        return list(split.groups[: split.num_tasks])
    return random_groups(num_classes, split.num_tasks, split.classes_per_task, rng)


def random_groups(classes, num_tasks, classes_per_task, rng) -> list[tuple]:
    """A seeded partition of `classes` (labels, or their number) into
    `num_tasks` disjoint groups of `classes_per_task`."""
    chosen = rng.permutation(classes)[: num_tasks * classes_per_task]
    return [
        tuple(int(c) for c in group)
        for group in chosen.reshape(num_tasks, classes_per_task)
    ]


def build_task(task_id, group, images, split, rng, name="") -> Task:
    """Sample, re-label and standardise the splits of one task.

    `group` lists the task's labels: a class, or a tuple of classes merged
    into one label (recorded as `OTHER_CLASSES` and named "other").
    """
    label_classes = [(c,) if np.ndim(c) == 0 else tuple(c) for c in group]
    x_test, y_test = images.x_test, images.y_test
    if split.class_split is None:
        train_idx, valid_idx = sample_indices(images, label_classes, split, rng)
        test_idx = draw_test_indices(images, label_classes, split, rng)
    else:
        train_idx, valid_idx, test_idx = fraction_indices(
            images, label_classes, split, rng
        )
        x_test, y_test = images.x_train, images.y_train
    normalization = _normalization(images, train_idx, split.scaling)
    lookup = np.full(images.num_classes, -1, dtype=np.int64)
    for label, classes in enumerate(label_classes):
        lookup[list(classes)] = label
    merged = [len(classes) > 1 for classes in label_classes]
    return Task(
        task_id=task_id,
        classes=tuple(
            OTHER_CLASSES if many else int(classes[0])
            for many, classes in zip(merged, label_classes, strict=True)
        ),
        x_train=normalization.apply(images.x_train[train_idx]),
        y_train=lookup[images.y_train[train_idx]],
        x_valid=normalization.apply(images.x_train[valid_idx]),
        y_valid=lookup[images.y_train[valid_idx]],
        x_test=normalization.apply(x_test[test_idx]),
        y_test=lookup[y_test[test_idx]],
        name=name,
        class_names=tuple(
            "other" if many else images.label_names[classes[0]]
            for many, classes in zip(merged, label_classes, strict=True)
        ),
        normalization=normalization,
    )


def _normalization(images, train_idx, scaling) -> Normalization:
    """The task's statistics, or scaling to [0, 1] alone (``"unit"``)."""
    if scaling == "unit":
        return Normalization.unit(images.x_train.shape[-1], images.scale)
    return Normalization.fit(images.x_train[train_idx], images.scale)


def _hold_out_test(images, fraction, seed) -> LabelledImages:
    """`images` with a seeded `fraction` of every class moved to a test split.

    Uses its own generator, so the task draw is the same with or without it.
    """
    if not 0 < fraction < 1:
        raise ConfigError(f"data.test_fraction must lie in (0, 1), got {fraction}")
    rng = np.random.default_rng([seed, 1])
    test = np.zeros(len(images.y_train), dtype=bool)
    for label in range(images.num_classes):
        members = np.flatnonzero(images.y_train == label)
        count = int(round(fraction * len(members)))
        test[rng.choice(members, size=count, replace=False)] = True
    domains = images.d_train
    return LabelledImages(
        images.name,
        images.x_train[~test],
        images.y_train[~test],
        images.x_train[test],
        images.y_train[test],
        images.label_names,
        images.scale,
        images.domains,
        None if domains is None else domains[~test],
        None if domains is None else domains[test],
    )


def _domain_tasks(images, split, rng) -> list[Task]:
    """One task per domain, over every class that domain holds."""
    order = list(range(len(images.domains)))[: split.num_tasks]
    if split.task_order == "permuted":
        order = [order[i] for i in rng.permutation(len(order))]
    tasks = []
    for task_id, domain in enumerate(order):
        mask, test = images.d_train == domain, images.d_test == domain
        classes = tuple(int(c) for c in np.unique(images.y_train[mask]))
        sub = LabelledImages(
            images.name,
            images.x_train[mask],
            images.y_train[mask],
            images.x_test[test],
            images.y_test[test],
            images.label_names,
            images.scale,
        )
        task = build_task(task_id, classes, sub, split, rng, images.domains[domain])
        tasks.append(task)
    return tasks
