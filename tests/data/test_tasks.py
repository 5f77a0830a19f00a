"""Tests of the Task record and of per-task standardisation.

See docs/method.md, section 'Data protocols'.
"""

import numpy as np
import pytest

from dfcnn_tf.data import TASK_SPLITS, Task, channel_stats, standardise
from dfcnn_tf.data.normalization import Normalization
from dfcnn_tf.errors import ConfigError, DataError


def _images(n: int, seed: int, shift: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    low = np.array([0, 50, 100]) + shift
    pixels = rng.integers(0, 100, size=(n, 5, 5, 3)) + low
    return np.clip(pixels, 0, 255).astype(np.uint8)


def _task(**overrides) -> Task:
    fields = {
        "task_id": 0,
        "classes": (7, 3),
        "x_train": np.zeros((4, 2, 2, 3), np.float32),
        "y_train": np.array([0, 1, 0, 1]),
        "x_valid": np.zeros((2, 2, 2, 3), np.float32),
        "y_valid": np.array([1, 0]),
        "x_test": np.zeros((3, 2, 2, 3), np.float32),
        "y_test": np.array([0, 1, 1]),
    }
    fields.update(overrides)
    return Task(**fields)


def test_task_split_and_num_classes():
    task = _task()
    assert task.num_classes == 2
    for name in TASK_SPLITS:
        x, y = task.split(name)
        assert x is getattr(task, f"x_{name}")
        assert y is getattr(task, f"y_{name}")


def test_task_unknown_split_lists_valid_names():
    with pytest.raises(ConfigError, match="'valid'"):
        _task().split("validation")


def test_task_rejects_length_mismatch():
    with pytest.raises(DataError, match="valid split has 2 images but 1 labels"):
        _task(y_valid=np.array([0]))


def test_task_rejects_label_out_of_range():
    with pytest.raises(DataError, match=r"test labels must lie in \[0, 2\)"):
        _task(y_test=np.array([0, 1, 2]))


def test_task_is_frozen():
    with pytest.raises(AttributeError):
        _task().task_id = 3


def test_standardise_train_split_has_zero_mean_unit_std():
    out, _ = standardise({"train": _images(50, seed=0)})
    assert out["train"].dtype == np.float32
    np.testing.assert_allclose(out["train"].mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(out["train"].std(axis=(0, 1, 2)), 1.0, atol=1e-5)


def test_standardise_applies_train_statistics_to_every_split():
    train, valid, test = _images(50, 0), _images(20, 1, 30), _images(30, 2, -40)
    out, _ = standardise({"train": train, "valid": valid, "test": test})
    scaled = train.astype(np.float64) / 255.0
    mean, std = scaled.mean(axis=(0, 1, 2)), scaled.std(axis=(0, 1, 2))
    for name, raw in (("train", train), ("valid", valid), ("test", test)):
        expected = (raw.astype(np.float64) / 255.0 - mean) / std
        np.testing.assert_allclose(out[name], expected, rtol=1e-5, atol=1e-5)
    # The shifted test split is not re-centred with its own statistics.
    assert np.all(out["test"].mean(axis=(0, 1, 2)) < -0.5)


def test_standardise_constant_channel_stays_finite():
    images = _images(10, 0)
    images[..., 1] = 17
    out, _ = standardise({"train": images})
    assert np.all(np.isfinite(out["train"]))
    np.testing.assert_allclose(out["train"][..., 1], 0.0, atol=1e-6)


def test_standardise_needs_train_split():
    with pytest.raises(DataError, match="'train' split"):
        standardise({"test": _images(3, 0)})


def test_channel_stats_rejects_empty_split():
    with pytest.raises(DataError, match="empty split"):
        channel_stats(np.zeros((0, 2, 2, 3), np.uint8))


def test_standardise_returns_the_statistics_it_applied():
    train, test = _images(40, 0), _images(10, 1, 25)
    out, normalization = standardise({"train": train, "test": test})
    np.testing.assert_array_equal(normalization.apply(test), out["test"])
    scaled = train.astype(np.float64) / 255.0
    np.testing.assert_allclose(normalization.mean, scaled.mean(axis=(0, 1, 2)))
    assert Normalization.from_dict(normalization.to_dict()) == normalization


def test_real_tasks_keep_names_and_normalization(tmp_path):
    from dfcnn_tf.data import build_cifar100_tasks, load_arrays

    arrays = load_arrays("cifar100", "../shared/data")
    task = build_cifar100_tasks(arrays, num_tasks=1, seed=0)[0]
    assert task.label == "task1"
    assert len(task.labels) == 10 and all(n.isidentifier() for n in task.labels)
    assert task.labels[0] == arrays.label_names[task.classes[0]]
    raw_test = arrays.x_test[np.isin(arrays.y_test, task.classes)]
    np.testing.assert_array_equal(task.normalization.apply(raw_test), task.x_test)
