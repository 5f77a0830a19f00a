"""Tasks from your own data: NumPy arrays, a TFDS name, an image folder.

The Python doors to the task sources (`task_sources.py`) and the generic
splitting (`splitting.py`); `build_source_tasks` is what `run_experiment`
calls when `data.source` names a spec, and `default_preset` picks the
architecture from the input size when no preset is given.
"""

from __future__ import annotations

import numpy as np

from dfcnn_tf.data.splitting import LabelledImages, Split, split_into_tasks
from dfcnn_tf.data.task_sources import from_arrays, load_source
from dfcnn_tf.data.tasks import Task

# Architecture defaults by input size (see README "Your own data").
GREY_PRESET = "mnist_hetero"  # 1 channel: the MNIST conv stack (5x5, 32-64)
LARGE_PRESET = "officehome"  # 64 pixels or more: the Office-Home stack
DEFAULT_PRESET = "cifar100_10_quick"  # otherwise: the CIFAR stack (3x3, 32-64)
LARGE_SIDE = 64


def default_preset(input_shape) -> str:
    """The preset whose architecture fits images of `input_shape` (h, w, c)."""
    height, width, channels = input_shape
    if min(height, width) >= LARGE_SIDE:
        return LARGE_PRESET
    return GREY_PRESET if channels == 1 else DEFAULT_PRESET


def split_from_config(data) -> Split:
    """The `Split` a `DataConfig` with a `source` describes.

    ``data.num_tasks`` tasks of ``data.classes_per_task`` classes (random
    partition), the explicit ``data.class_groups``, or one task per domain
    (``data.partition == "domain"``).
    """
    partition = "domain" if data.partition == "domain" else "random"
    if data.class_groups:
        partition = "groups"
    return Split(
        groups=tuple(tuple(group) for group in data.class_groups),
        num_tasks=data.num_tasks,
        classes_per_task=data.classes_per_task,
        train_per_class=data.train_per_class,
        valid_per_class=data.valid_per_class,
        test_fraction=data.test_fraction,
        partition=partition,
        task_order=data.task_order,
    )


def build_source_tasks(data, seed: int) -> list[Task]:
    """The tasks of ``data.source`` (e.g. ``"tfds:fashion_mnist"``).

    Raises:
        ConfigError, DataError: see `load_source` and `split_into_tasks`.
    """
    images = load_source(data.source)
    return split_into_tasks(images, split_from_config(data), seed)


def tasks_from_source(spec: str, seed: int = 0, **split) -> list[Task]:
    """Tasks from a data spec; `split` holds the fields of `Split`.

    Example: ``tasks_from_source("tfds:fashion_mnist", classes_per_task=2)``.
    """
    return split_into_tasks(load_source(spec), Split(**split), seed)


def tasks_from_arrays(
    x, y, x_test=None, y_test=None, *, label_names=None, seed=0, **split
) -> list[Task]:
    """Tasks from one labelled NumPy set, split by class (see `Split`).

    Args:
        x, y: training images ``(n, h, w[, c])`` (uint8 or float in [0, 1] or
            [0, 255]) and integer labels ``(n,)``.
        x_test, y_test: a test set, or None to hold out ``test_fraction``.
        label_names: class names by label, or None.
        seed: seed of every draw.
        **split: the fields of `Split` (num_tasks, classes_per_task, ...).
    """
    test = None if x_test is None else (x_test, y_test)
    images = from_arrays("arrays", (x, y), test, label_names)
    return split_into_tasks(images, Split(**split), seed)


def tasks_from_pairs(pairs, *, seed=0, **split) -> list[Task]:
    """One task per ``(x, y)`` pair, each task's labels its own classes.

    A held-out ``test_fraction`` of every class of every task is its test
    split; ``train_per_class``/``valid_per_class`` are drawn from the rest.
    """
    checked = [from_arrays(f"arrays[{i}]", pair) for i, pair in enumerate(pairs)]
    names = tuple(f"task{i + 1}" for i in range(len(pairs)))
    num_classes = max(images.num_classes for images in checked)
    images = LabelledImages(
        "arrays",
        np.concatenate([images.x_train for images in checked]),
        np.concatenate([images.y_train for images in checked]),
        None,
        None,
        tuple(str(c) for c in range(num_classes)),
        max(images.scale for images in checked),
        domains=names,
        d_train=np.concatenate(
            [np.full(len(i.y_train), k) for k, i in enumerate(checked)]
        ),
    )
    split = Split(**{**split, "partition": "domain", "num_tasks": len(pairs)})
    return split_into_tasks(images, split, seed)
