"""Generic splitting of one labelled set into tasks (arrays, every source)."""

import hashlib

import numpy as np
import pytest

from dfcnn_tf.data import (
    PAPER_PARTITION,
    Split,
    build_cifar100_tasks,
    split_into_tasks,
    tasks_from_arrays,
    tasks_from_pairs,
)
from dfcnn_tf.data.splitting import LabelledImages
from dfcnn_tf.errors import ConfigError, DataError


def task_digest(tasks):
    """A hash of every array, class list and statistic of `tasks`."""
    digest = hashlib.sha256()
    for task in tasks:
        text = (task.task_id, task.classes, task.class_names, task.normalization)
        digest.update(repr(text).encode())
        for split in ("train", "valid", "test"):
            for array in task.split(split):
                digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def arrays(num_classes=8, per_class=50, shape=(8, 8, 3), seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (num_classes * per_class, *shape), dtype=np.uint8)
    return x, np.repeat(np.arange(num_classes), per_class)


# Digests of build_cifar100_tasks recorded before the generic splitting existed.
RECORDED = {
    ("paper", "fixed", 0): "a7d5138f7fe4714d",
    ("paper", "fixed", 1): "b49e460bb9648834",
    ("random", "permuted", 2): "d678a9aff4252156",
}


@pytest.mark.parametrize(("partition", "order", "seed"), list(RECORDED))
def test_cifar100_task_set_is_unchanged(cifar100_arrays, partition, order, seed):
    tasks = build_cifar100_tasks(
        cifar100_arrays, num_tasks=3, partition=partition, task_order=order, seed=seed
    )
    assert task_digest(tasks) == RECORDED[(partition, order, seed)]


@pytest.mark.parametrize(("partition", "order", "seed"), list(RECORDED))
def test_generic_split_gives_the_cifar100_task_set(
    cifar100_arrays, partition, order, seed
):
    a = cifar100_arrays
    images = LabelledImages(
        "cifar100", a.x_train, a.y_train, a.x_test, a.y_test, a.label_names
    )
    groups = PAPER_PARTITION[:3] if partition == "paper" else ()
    split = Split(
        3,
        10,
        17,
        3,
        partition="groups" if groups else "random",
        task_order=order,
        groups=groups,
    )
    generic = split_into_tasks(images, split, seed)
    assert task_digest(generic) == RECORDED[(partition, order, seed)]


def test_arrays_split_into_seeded_tasks():
    x, y = arrays()
    kwargs = dict(
        num_tasks=4, classes_per_task=2, train_per_class=10, valid_per_class=5
    )
    tasks = tasks_from_arrays(x, y, seed=3, **kwargs)
    again = tasks_from_arrays(x, y, seed=3, **kwargs)
    assert task_digest(tasks) == task_digest(again)
    assert task_digest(tasks) != task_digest(tasks_from_arrays(x, y, seed=4, **kwargs))
    classes = [c for task in tasks for c in task.classes]
    assert sorted(classes) == list(range(8))
    for task in tasks:
        assert task.x_train.shape == (20, 8, 8, 3)
        assert len(task.y_valid) == 10
        assert len(task.y_test) == 20  # 20% of 50 held out per class
        np.testing.assert_allclose(task.x_train.mean(axis=(0, 1, 2)), 0, atol=1e-5)


def test_test_split_of_the_source_is_used():
    x, y = arrays()
    xt, yt = arrays(per_class=7, seed=1)
    tasks = tasks_from_arrays(
        x,
        y,
        xt,
        yt,
        num_tasks=2,
        classes_per_task=4,
        label_names=[f"c{i}" for i in range(8)],
    )
    assert [len(task.y_test) for task in tasks] == [28, 28]
    assert all(name.startswith("c") for name in tasks[0].class_names)


def test_one_task_per_pair():
    x, y = arrays(num_classes=4)
    tasks = tasks_from_pairs(
        [(x[:100], y[:100]), (x[100:], y[100:] - 2)],
        train_per_class=10,
        valid_per_class=5,
    )
    assert [t.name for t in tasks] == ["task1", "task2"]
    assert [t.classes for t in tasks] == [(0, 1), (0, 1)]


def test_float_images_in_unit_range_are_not_requantised():
    x, y = arrays()
    unit = x.astype(np.float32) / 255 + 1e-4 * (x < 128)
    with pytest.warns(UserWarning, match=r"\[0, 1\]"):
        tasks = tasks_from_arrays(unit, y, num_tasks=1, classes_per_task=2)
    assert tasks[0].normalization.scale == 1.0
    raw = unit[np.isin(y, tasks[0].classes)][:1]
    assert tasks[0].normalization.apply(raw).dtype == np.float32


def test_float_images_outside_known_ranges_are_refused():
    x, y = arrays()
    with pytest.raises(DataError, match=r"\[0, 1\] or \[0, 255\]"):
        tasks_from_arrays(x.astype(np.float32) * 2, y, num_tasks=1)


def test_fewer_classes_than_tasks_times_classes_per_task():
    x, y = arrays()
    with pytest.raises(ConfigError, match="8 classes, fewer than 5 tasks x 2"):
        tasks_from_arrays(x, y, num_tasks=5, classes_per_task=2)


def test_class_with_too_few_images_is_named():
    x, y = arrays()
    y = y.copy()
    y[np.flatnonzero(y == 3)[5:]] = 2  # class 3 keeps 5 images, 4 for training
    with pytest.raises(DataError, match=r"class '3' \(label 3\) needs 20 .* has 4"):
        tasks_from_arrays(x, y, num_tasks=4, classes_per_task=2, partition="random")


def test_per_class_fractions():
    x, y = arrays()
    tasks = tasks_from_arrays(
        x, y, num_tasks=2, classes_per_task=2, train_per_class=0.5, valid_per_class=0.25
    )
    # 50 per class, 10 held out for testing: 20 train + 10 valid per class
    assert (len(tasks[0].y_train), len(tasks[0].y_valid)) == (40, 20)


def test_float_images_in_pixel_range_keep_their_values():
    x, y = arrays()
    pixels = x.astype(np.float32) * 0.99 + 0.25  # not integers: never rounded
    tasks = tasks_from_arrays(pixels, y, num_tasks=1, classes_per_task=2, seed=0)
    exact = tasks_from_arrays(
        x.astype(np.float32) * 0.99 + 0.25, y, num_tasks=1, classes_per_task=2, seed=0
    )
    rounded = tasks_from_arrays(x, y, num_tasks=1, classes_per_task=2, seed=0)
    assert tasks[0].normalization.scale == 255.0
    np.testing.assert_array_equal(tasks[0].x_train, exact[0].x_train)
    assert tasks[0].normalization.mean != rounded[0].normalization.mean


@pytest.mark.parametrize(
    ("task_set", "digest"),
    [("heterogeneous", "654d33983ffa1273"), ("homogeneous", "17a807b16af0f3a0")],
)
def test_mnist_task_sets_are_unchanged(data_dir, task_set, digest):
    from dfcnn_tf.data import build_binary_tasks, load_arrays

    arrays = load_arrays("mnist", data_dir)
    tasks = build_binary_tasks(
        arrays, dataset="mnist", task_set=task_set, percent=3, seed=0
    )
    assert task_digest(tasks[:3]) == digest


def test_cifar100_builder_refuses_other_arrays_and_points_at_the_generic_path():
    from dfcnn_tf.data import ImageArrays

    x, y = arrays(num_classes=10, per_class=20, shape=(32, 32, 3))
    with pytest.raises(DataError, match="hold 10. For other data use"):
        build_cifar100_tasks(ImageArrays(x, y, x, y), num_tasks=1)
    tasks = tasks_from_arrays(x, y, x, y, num_tasks=5, classes_per_task=2)
    assert len(tasks) == 5
