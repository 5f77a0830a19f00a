"""Tests of the CIFAR-100 lifelong task sequence.

See docs/method.md, section 'Data protocols'.
"""

import numpy as np
import pytest

from dfcnn_tf.data import PAPER_PARTITION, ImageArrays, Task, build_cifar100_tasks
from dfcnn_tf.errors import ConfigError, DataError

# (training images, image bytes -> index) for each arrays object seen.
_LOOKUPS: list[tuple[np.ndarray, dict[bytes, int]]] = []


@pytest.fixture(scope="module")
def small_arrays() -> ImageArrays:
    """Synthetic CIFAR-100: 25 random 4x4 train and 3 test images per class."""
    rng = np.random.default_rng(123)
    y_train = np.repeat(np.arange(100), 25)
    y_test = np.tile(np.arange(100), 3)
    return ImageArrays(
        x_train=rng.integers(0, 256, (len(y_train), 4, 4, 3), dtype=np.uint8),
        y_train=rng.permutation(y_train),
        x_test=rng.integers(0, 256, (len(y_test), 4, 4, 3), dtype=np.uint8),
        y_test=y_test,
    )


def _train_lookup(arrays: ImageArrays) -> dict[bytes, int]:
    """Map the bytes of every training image to its index (cached per arrays)."""
    for images, table in _LOOKUPS:
        if images is arrays.x_train:
            return table
    table = {image.tobytes(): i for i, image in enumerate(arrays.x_train)}
    _LOOKUPS.append((arrays.x_train, table))
    return table


def _source_indices(task: Task, arrays: ImageArrays) -> dict[str, np.ndarray]:
    """Find the original training index of every train/valid image of a task.

    Standardisation is affine per channel with a positive slope, so its
    coefficients follow from the first two moments of the test split (whose raw
    images are known) and are inverted on train and valid.
    """
    raw_test = arrays.x_test[np.isin(arrays.y_test, task.classes)].astype(float)
    axes = (0, 1, 2)
    x_test = task.x_test.astype(np.float64)
    slope = x_test.std(axis=axes) / raw_test.std(axis=axes)
    offset = x_test.mean(axis=axes) - slope * raw_test.mean(axis=axes)
    lookup, found = _train_lookup(arrays), {}
    for name in ("train", "valid"):
        raw = (getattr(task, f"x_{name}").astype(np.float64) - offset) / slope
        assert np.abs(raw - np.rint(raw)).max() < 0.05
        images = np.rint(raw).astype(np.uint8)
        found[name] = np.array([lookup[image.tobytes()] for image in images])
    return found


def _check_task(task: Task, arrays: ImageArrays, train: int, valid: int) -> None:
    """Check sizes, stratification, labels and train/valid disjointness."""
    k = task.num_classes
    np.testing.assert_array_equal(np.bincount(task.y_train, minlength=k), train)
    np.testing.assert_array_equal(np.bincount(task.y_valid, minlength=k), valid)
    test_mask = np.isin(arrays.y_test, task.classes)
    assert len(task.x_test) == test_mask.sum()
    classes = np.array(task.classes)
    np.testing.assert_array_equal(classes[task.y_test], arrays.y_test[test_mask])
    found = _source_indices(task, arrays)
    for name in ("train", "valid"):
        labels = getattr(task, f"y_{name}")
        np.testing.assert_array_equal(classes[labels], arrays.y_train[found[name]])
    assert not set(found["train"]) & set(found["valid"])
    train_images = {image.tobytes() for image in task.x_train}
    assert not train_images & {image.tobytes() for image in task.x_valid}
    for name in ("train", "valid", "test"):
        x, y = task.split(name)
        assert x.dtype == np.float32 and y.dtype == np.int64


def test_paper_partition_is_a_partition_of_100_classes():
    assert len(PAPER_PARTITION) == 10
    assert all(len(group) == 10 for group in PAPER_PARTITION)
    assert sorted(c for group in PAPER_PARTITION for c in group) == list(range(100))
    assert PAPER_PARTITION[0] == (4, 1, 54, 9, 0, 5, 6, 3, 12, 8)
    assert PAPER_PARTITION[-1] == (87, 71, 38, 75, 99, 98, 93, 80, 96, 89)


def test_paper_partition_fixed_order(small_arrays):
    tasks = build_cifar100_tasks(small_arrays, num_tasks=3)
    assert [t.task_id for t in tasks] == [0, 1, 2]
    assert [t.classes for t in tasks] == list(PAPER_PARTITION[:3])
    for task in tasks:
        _check_task(task, small_arrays, train=17, valid=3)
        assert len(task.x_train) == 170 and len(task.x_valid) == 30


def test_permuted_order_reorders_paper_tasks(small_arrays):
    orders = [
        [
            t.classes
            for t in build_cifar100_tasks(small_arrays, task_order="permuted", seed=s)
        ]
        for s in (0, 1)
    ]
    for order in orders:
        assert sorted(order) == sorted(PAPER_PARTITION)
    assert orders[0] != orders[1]
    assert orders[0] != list(PAPER_PARTITION)


def test_random_partition_is_disjoint_and_seeded(small_arrays):
    kwargs = {"num_tasks": 5, "classes_per_task": 4, "partition": "random"}
    tasks = build_cifar100_tasks(small_arrays, seed=3, **kwargs)
    classes = [c for task in tasks for c in task.classes]
    assert len(classes) == len(set(classes)) == 20
    again = build_cifar100_tasks(small_arrays, seed=3, **kwargs)
    assert [t.classes for t in again] == [t.classes for t in tasks]
    other = build_cifar100_tasks(small_arrays, seed=4, **kwargs)
    assert [t.classes for t in other] != [t.classes for t in tasks]
    for task in tasks:
        _check_task(task, small_arrays, train=17, valid=3)


def test_custom_sample_sizes(small_arrays):
    (task,) = build_cifar100_tasks(
        small_arrays, num_tasks=1, train_per_class=20, valid_per_class=5
    )
    _check_task(task, small_arrays, train=20, valid=5)


def test_same_seed_same_tasks_other_seed_other_subsets(small_arrays):
    first, again, other = (
        build_cifar100_tasks(small_arrays, num_tasks=2, seed=s) for s in (5, 5, 6)
    )
    for a, b, c in zip(first, again, other, strict=True):
        for name in ("train", "valid", "test"):
            np.testing.assert_array_equal(a.split(name)[0], b.split(name)[0])
            np.testing.assert_array_equal(a.split(name)[1], b.split(name)[1])
        assert not np.array_equal(a.x_train, c.x_train)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"partition": "fixed"}, r"partition must be one of \['paper', 'random'\]"),
        (
            {"task_order": "shuffled"},
            r"task_order must be one of \['fixed', 'permuted'\]",
        ),
        ({"num_tasks": 11}, "num_tasks \\* classes_per_task must be <= 100"),
        ({"num_tasks": 0}, "num_tasks must be an integer >= 1"),
        ({"classes_per_task": 5}, "partition='paper' needs classes_per_task=10"),
        ({"train_per_class": 0}, "train_per_class must be an integer >= 1"),
        ({"valid_per_class": -1}, "valid_per_class must be an integer >= 0"),
        ({"partition": "random", "classes_per_task": 11}, "classes_per_task=11"),
    ],
)
def test_bad_arguments_name_the_field(small_arrays, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        build_cifar100_tasks(small_arrays, **kwargs)


def test_too_few_images_per_class(small_arrays):
    with pytest.raises(DataError, match="needs 26 training images") as info:
        build_cifar100_tasks(small_arrays, train_per_class=20, valid_per_class=6)
    assert "(label 4)" in str(info.value) and "but has 25" in str(info.value)


@pytest.fixture(scope="module")
def paper_tasks(cifar100_arrays) -> list[Task]:
    return build_cifar100_tasks(cifar100_arrays, seed=0)


@pytest.mark.slow
def test_real_paper_tasks(paper_tasks, cifar100_arrays):
    assert [t.classes for t in paper_tasks] == list(PAPER_PARTITION)
    for task in paper_tasks:
        assert (len(task.x_train), len(task.x_valid), len(task.x_test)) == (
            170,
            30,
            1000,
        )
        assert task.x_train.shape[1:] == (32, 32, 3)
        _check_task(task, cifar100_arrays, train=17, valid=3)


@pytest.mark.slow
def test_real_standardisation_uses_train_statistics(paper_tasks, cifar100_arrays):
    for task in paper_tasks[:3]:
        np.testing.assert_allclose(task.x_train.mean(axis=(0, 1, 2)), 0, atol=1e-4)
        np.testing.assert_allclose(task.x_train.std(axis=(0, 1, 2)), 1, atol=1e-4)
        raw_train = cifar100_arrays.x_train[
            _source_indices(task, cifar100_arrays)["train"]
        ]
        scaled = raw_train.astype(np.float64) / 255.0
        mean, std = scaled.mean(axis=(0, 1, 2)), scaled.std(axis=(0, 1, 2))
        raw_test = cifar100_arrays.x_test[np.isin(cifar100_arrays.y_test, task.classes)]
        expected = (raw_test.astype(np.float64) / 255.0 - mean) / std
        np.testing.assert_allclose(task.x_test, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_real_seeds_give_different_subsets(paper_tasks, cifar100_arrays):
    again = build_cifar100_tasks(cifar100_arrays, num_tasks=2, seed=0)
    other = build_cifar100_tasks(cifar100_arrays, num_tasks=2, seed=1)
    for task, same, different in zip(paper_tasks, again, other, strict=False):
        np.testing.assert_array_equal(task.x_train, same.x_train)
        np.testing.assert_array_equal(task.y_valid, same.y_valid)
        np.testing.assert_array_equal(task.y_test, different.y_test)
        first = set(_source_indices(task, cifar100_arrays)["train"])
        second = set(_source_indices(different, cifar100_arrays)["train"])
        assert first != second
