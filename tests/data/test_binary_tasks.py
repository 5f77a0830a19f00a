"""Tests of the MNIST / CIFAR-10 binary multi-task sets.

See docs/method.md, section 'Data protocols'.

Synthetic images encode their source: pixel 0 is 0 and pixel 1 is 255 in every
channel, pixels 2-5 hold the base-250 digits of an id (the training index, or
``TEST_OFFSET`` + the test index). Standardisation is affine per channel, so the
two anchor pixels undo it and every task image names the image it came from.
"""

import numpy as np
import pytest

from dfcnn_tf.data.binary_tasks import (
    OTHER_CLASSES,
    PAPER_PERCENTS,
    binary_task_sizes,
    build_binary_tasks,
)
from dfcnn_tf.data.sources import ImageArrays, load_arrays
from dfcnn_tf.data.tasks import Task
from dfcnn_tf.errors import ConfigError, DataError

BASE, DIGITS = 250, 4
TEST_OFFSET = 1_000_000
MNIST_TEST_COUNTS = [1000] * 5 + [892] + [1000] * 4  # Class 5 short, as in MNIST.
PAIRS = [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]


def _encoded_images(ids: np.ndarray, channels: int, rng) -> np.ndarray:
    """4x4 uint8 images encoding ``ids`` (see the module docstring)."""
    flat = rng.integers(0, 256, (len(ids), 16, channels), dtype=np.uint8)
    flat[:, 0], flat[:, 1] = 0, 255
    digits = (ids[:, None] // BASE ** np.arange(DIGITS)) % BASE
    flat[:, 2 : 2 + DIGITS] = digits[:, :, None]
    return flat.reshape(len(ids), 4, 4, channels)


def _decode(images: np.ndarray) -> np.ndarray:
    """Source ids of standardised encoded images."""
    flat = images.reshape(len(images), -1, images.shape[-1]).astype(np.float64)
    raw = (flat - flat[:, :1]) / (flat[:, 1:2] - flat[:, :1]) * 255
    digits = np.rint(raw[:, 2 : 2 + DIGITS, 0]).astype(np.int64)
    return digits @ BASE ** np.arange(DIGITS)


def _synthetic(train_per_class: int, test_counts, channels: int) -> ImageArrays:
    """Encoded arrays with shuffled labels 0-9 and the given per-class counts."""
    rng = np.random.default_rng(7)
    y_train = rng.permutation(np.repeat(np.arange(10), train_per_class))
    y_test = rng.permutation(np.repeat(np.arange(10), test_counts))
    return ImageArrays(
        x_train=_encoded_images(np.arange(len(y_train)), channels, rng),
        y_train=y_train,
        x_test=_encoded_images(TEST_OFFSET + np.arange(len(y_test)), channels, rng),
        y_test=y_test,
    )


@pytest.fixture(scope="module")
def mnist_like() -> ImageArrays:
    """200 training images per class; test counts like MNIST's (class 5 short)."""
    return _synthetic(200, MNIST_TEST_COUNTS, channels=1)


@pytest.fixture(scope="module")
def cifar10_local_like() -> ImageArrays:
    """1,000 training and 1,000 test images per class, like the local file."""
    return _synthetic(1000, 1000, channels=3)


def _original_labels(task: Task, arrays: ImageArrays, name: str) -> np.ndarray:
    """Original class of every image of one split, from its encoded id."""
    ids = _decode(task.split(name)[0])
    if name == "test":
        assert ids.min() >= TEST_OFFSET
        return arrays.y_test[ids - TEST_OFFSET]
    assert ids.max() < TEST_OFFSET
    return arrays.y_train[ids]


def _expected_labels(classes: tuple[int, int], original: np.ndarray) -> np.ndarray:
    """Task labels the original classes must map to."""
    if classes[0] == OTHER_CLASSES:
        return (original == classes[1]).astype(np.int64)
    assert np.isin(original, classes).all()
    return (original == classes[1]).astype(np.int64)


def _check_task(task: Task, arrays: ImageArrays, sizes: tuple[int, int, int]):
    """Check sizes, dtypes, labels, balance and disjoint sources of a task."""
    assert tuple(len(task.split(n)[1]) for n in ("train", "valid", "test")) == sizes
    ids = {}
    for name in ("train", "valid", "test"):
        x, y = task.split(name)
        assert x.dtype == np.float32 and y.dtype == np.int64
        original = _original_labels(task, arrays, name)
        np.testing.assert_array_equal(y, _expected_labels(task.classes, original))
        ids[name] = _decode(x)
        assert len(set(ids[name])) == len(x)
    assert not set(ids["train"]) & set(ids["valid"])
    drawn = np.bincount(np.concatenate([task.y_train, task.y_valid]), minlength=2)
    total = sizes[0] + sizes[1]
    np.testing.assert_array_equal(drawn, [total - total // 2, total // 2])
    for name in ("train", "valid"):
        counts = np.bincount(task.split(name)[1], minlength=2)
        assert abs(counts[0] - counts[1]) <= 1


@pytest.mark.parametrize(
    ("dataset", "sizes"),
    [
        ("mnist", [(300, 60), (500, 100), (700, 140), (1000, 200), (3000, 600)]),
        ("cifar10", [(333, 67), (833, 167), (2500, 500), (4167, 833), (5833, 1167)]),
    ],
)
def test_sizes_at_paper_percents(dataset, sizes):
    assert [binary_task_sizes(dataset, p) for p in PAPER_PERCENTS[dataset]] == sizes


@pytest.mark.parametrize(
    ("dataset", "fixture", "sizes"),
    [
        ("mnist", "mnist_like", (300, 60, 1800)),
        ("cifar10", "cifar10_local_like", (333, 67, 2000)),
    ],
)
def test_heterogeneous_tasks(dataset, fixture, sizes, request):
    arrays = request.getfixturevalue(fixture)
    percent = PAPER_PERCENTS[dataset][0]
    tasks = build_binary_tasks(
        arrays, dataset=dataset, task_set="heterogeneous", percent=percent
    )
    assert [t.classes for t in tasks] == PAIRS
    assert [t.task_id for t in tasks] == list(range(5))
    for task in tasks:
        assert task.num_classes == 2
        _check_task(task, arrays, sizes)


@pytest.mark.parametrize(
    ("dataset", "fixture", "sizes"),
    [
        ("mnist", "mnist_like", (300, 60, 2000)),
        ("cifar10", "cifar10_local_like", (333, 67, 2000)),
    ],
)
def test_homogeneous_tasks(dataset, fixture, sizes, request):
    arrays = request.getfixturevalue(fixture)
    percent = PAPER_PERCENTS[dataset][0]
    tasks = build_binary_tasks(
        arrays, dataset=dataset, task_set="homogeneous", percent=percent
    )
    assert [t.classes for t in tasks] == [(OTHER_CLASSES, c) for c in range(10)]
    for task in tasks:
        assert task.num_classes == 2
        _check_task(task, arrays, sizes)
        positives = min(1000, int(np.sum(arrays.y_test == task.classes[1])))
        assert task.y_test.sum() == positives


def test_short_test_class_is_topped_up_from_the_other_label(mnist_like):
    hetero = build_binary_tasks(
        mnist_like, dataset="mnist", task_set="heterogeneous", percent=3
    )
    np.testing.assert_array_equal(np.bincount(hetero[2].y_test), [908, 892])
    homog = build_binary_tasks(
        mnist_like, dataset="mnist", task_set="homogeneous", percent=3
    )
    np.testing.assert_array_equal(np.bincount(homog[5].y_test), [1108, 892])
    negatives = _original_labels(homog[5], mnist_like, "test")[homog[5].y_test == 0]
    assert set(negatives) == set(range(10)) - {5}


def test_images_standardised_with_training_statistics(cifar10_local_like):
    arrays = cifar10_local_like
    task = build_binary_tasks(
        arrays, dataset="cifar10", task_set="homogeneous", percent=4
    )[3]
    raw_train = arrays.x_train[_decode(task.x_train)].astype(np.float64) / 255
    mean, std = raw_train.mean(axis=(0, 1, 2)), raw_train.std(axis=(0, 1, 2))
    for name, source in (("valid", arrays.x_train), ("test", arrays.x_test)):
        x = task.split(name)[0]
        ids = _decode(x) - (TEST_OFFSET if name == "test" else 0)
        expected = (source[ids].astype(np.float64) / 255 - mean) / std
        np.testing.assert_allclose(x, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("task_set", ["homogeneous", "heterogeneous"])
def test_same_seed_same_tasks_other_seed_other_subsets(mnist_like, task_set):
    first, again, other = (
        build_binary_tasks(
            mnist_like, dataset="mnist", task_set=task_set, percent=3, seed=s
        )
        for s in (4, 4, 5)
    )
    for a, b, c in zip(first, again, other, strict=True):
        for name in ("train", "valid", "test"):
            np.testing.assert_array_equal(a.split(name)[0], b.split(name)[0])
            np.testing.assert_array_equal(a.split(name)[1], b.split(name)[1])
            assert set(_decode(a.split(name)[0])) != set(_decode(c.split(name)[0]))


def test_permuted_order_keeps_each_tasks_data(mnist_like):
    kwargs = {"dataset": "mnist", "task_set": "homogeneous", "percent": 3, "seed": 2}
    fixed = {t.classes: t for t in build_binary_tasks(mnist_like, **kwargs)}
    orders = []
    for seed in (2, 3):
        kwargs["seed"] = seed
        tasks = build_binary_tasks(mnist_like, task_order="permuted", **kwargs)
        assert [t.task_id for t in tasks] == list(range(10))
        orders.append([t.classes for t in tasks])
    assert sorted(orders[0]) == sorted(fixed) and orders[0] != list(fixed)
    assert orders[0] != orders[1]
    kwargs["seed"] = 2
    for task in build_binary_tasks(mnist_like, task_order="permuted", **kwargs):
        np.testing.assert_array_equal(task.x_train, fixed[task.classes].x_train)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dataset": "cifar100"}, r"dataset must be one of \['mnist', 'cifar10'\]"),
        ({"task_set": "pairs"}, r"task_set must be one of \['homogeneous', 'het"),
        ({"task_order": "random"}, r"task_order must be one of \['fixed', 'perm"),
        ({"percent": 0}, r"percent must be a number in \(0, 100\]"),
        ({"percent": -3}, r"Received: percent=-3"),
        ({"percent": 101}, r"e\.g\. one of \[3, 5, 7, 10, 30\] for mnist"),
        ({"percent": float("nan")}, "percent must be a number"),
        ({"percent": "3"}, "percent must be a number"),
        ({"percent": True}, "percent must be a number"),
        ({"percent": 0.04}, "percent gives 5 train \\+ valid images .* at least 12"),
    ],
)
def test_bad_arguments_name_the_field(mnist_like, kwargs, message):
    arguments = {"dataset": "mnist", "task_set": "homogeneous", "percent": 3}
    with pytest.raises(ConfigError, match=message):
        build_binary_tasks(mnist_like, **{**arguments, **kwargs})


def test_labels_outside_ten_classes_are_rejected(mnist_like):
    y_test = mnist_like.y_test.copy()
    y_test[0] = 10
    arrays = ImageArrays(
        mnist_like.x_train, mnist_like.y_train, mnist_like.x_test, y_test
    )
    with pytest.raises(DataError, match=r"y_test: .* labels in \[0, 10\)"):
        build_binary_tasks(arrays, dataset="mnist", task_set="homogeneous", percent=3)


@pytest.mark.parametrize("task_set", ["heterogeneous", "homogeneous"])
def test_too_few_training_images_say_needed_and_held(cifar10_local_like, task_set):
    with pytest.raises(DataError) as info:
        build_binary_tasks(
            cifar10_local_like, dataset="cifar10", task_set=task_set, percent=70
        )
    message = str(info.value)
    assert f"CIFAR-10 {task_set} task 1" in message
    assert "needs 7000 training images at 70%" in message
    assert "3500 of class 0" in message and "1000 of class 0" in message
    assert "fewer than the official 50,000" in message
    assert "omit --data-dir to load it with tensorflow-datasets" in message


def test_too_few_test_images():
    arrays = _synthetic(200, 100, channels=1)
    with pytest.raises(DataError, match="task 1 .* needs 1800 test images .* 200"):
        build_binary_tasks(arrays, dataset="mnist", task_set="heterogeneous", percent=3)


@pytest.mark.parametrize(
    ("task_set", "sizes"),
    [("heterogeneous", (5833, 1167, 2000)), ("homogeneous", (5833, 1167, 2000))],
)
def test_full_size_arrays_serve_cifar10_70_percent(task_set, sizes):
    arrays = _synthetic(5000, 1000, channels=3)
    tasks = build_binary_tasks(
        arrays, dataset="cifar10", task_set=task_set, percent=70, seed=1
    )
    for task in tasks[:3]:
        _check_task(task, arrays, sizes)


# Real data: the local files of the data README.


@pytest.fixture(scope="module")
def real_mnist(data_dir) -> ImageArrays:
    return load_arrays("mnist", data_dir)


@pytest.fixture(scope="module")
def real_cifar10(data_dir) -> ImageArrays:
    return load_arrays("cifar10", data_dir)


def _sizes(tasks: list[Task]) -> set[tuple[int, int, int]]:
    return {(len(t.y_train), len(t.y_valid), len(t.y_test)) for t in tasks}


@pytest.mark.slow
def test_real_mnist_task_sets(real_mnist):
    hetero = build_binary_tasks(
        real_mnist, dataset="mnist", task_set="heterogeneous", percent=3
    )
    assert [t.classes for t in hetero] == PAIRS
    assert _sizes(hetero) == {(300, 60, 1800)}
    assert hetero[0].x_train.shape[1:] == (28, 28, 1)
    np.testing.assert_array_equal(np.bincount(hetero[2].y_test), [908, 892])
    homog = build_binary_tasks(
        real_mnist, dataset="mnist", task_set="homogeneous", percent=3
    )
    assert _sizes(homog) == {(300, 60, 2000)}
    for task in homog:
        np.testing.assert_array_equal(np.bincount(task.y_train), [150, 150])
        positives = min(1000, int(np.sum(real_mnist.y_test == task.classes[1])))
        assert task.y_test.sum() == positives


@pytest.mark.slow
def test_real_mnist_full_percent_asks_for_a_lower_percent(real_mnist):
    with pytest.raises(DataError, match="hold 12665 .* lower the percent"):
        build_binary_tasks(
            real_mnist, dataset="mnist", task_set="heterogeneous", percent=100
        )


@pytest.mark.slow
def test_real_cifar10_heterogeneous_sources(real_cifar10):
    """Undo standardisation with the test split (all images of the pair)."""
    tasks = build_binary_tasks(
        real_cifar10, dataset="cifar10", task_set="heterogeneous", percent=4
    )
    assert _sizes(tasks) == {(333, 67, 2000)}
    lookup = {image.tobytes(): i for i, image in enumerate(real_cifar10.x_train)}
    for task in tasks[:2]:
        raw_test = real_cifar10.x_test[np.isin(real_cifar10.y_test, task.classes)]
        axes = (0, 1, 2)
        slope = task.x_test.std(axis=axes) / raw_test.std(axis=axes)
        offset = task.x_test.mean(axis=axes) - slope * raw_test.mean(axis=axes)
        found = {}
        for name in ("train", "valid"):
            x, y = task.split(name)
            raw = np.rint((x.astype(np.float64) - offset) / slope).astype(np.uint8)
            found[name] = [lookup[image.tobytes()] for image in raw]
            original = real_cifar10.y_train[found[name]]
            np.testing.assert_array_equal(np.array(task.classes)[y], original)
        assert not set(found["train"]) & set(found["valid"])


@pytest.mark.slow
def test_real_cifar10_local_file_is_too_small_for_70_percent(real_cifar10):
    tasks = build_binary_tasks(
        real_cifar10, dataset="cifar10", task_set="homogeneous", percent=4
    )
    assert _sizes(tasks) == {(333, 67, 2000)}
    with pytest.raises(DataError) as info:
        build_binary_tasks(
            real_cifar10, dataset="cifar10", task_set="heterogeneous", percent=70
        )
    message = str(info.value)
    assert "task 1 (classes 0, 1) needs 7000 training images at 70%" in message
    assert "the data hold 2000" in message and "cifar10.npz" in message
