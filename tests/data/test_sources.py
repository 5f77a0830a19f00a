"""Tests of raw-array loading and validation.

See docs/method.md, section 'Data protocols'.
"""

import sys
import types
from pathlib import Path

import numpy as np
import pytest

from dfcnn_tf.data import DATA_DIR_ENV, DATASETS, LOCAL_FILES, load_arrays
from dfcnn_tf.errors import ConfigError, DataError


def _cifar100_arrays(n_train: int = 6, n_test: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8),
        "y_train": np.arange(n_train, dtype=np.int64) % 100,
        "x_test": rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8),
        "y_test": np.arange(n_test, dtype=np.int64) * 7 % 100,
        "label_names": np.array([f"class{i}" for i in range(100)]),
    }


def _write(folder: Path, name: str = "cifar100.npz", **arrays) -> Path:
    path = folder / name
    np.savez(path, **arrays)
    return path


@pytest.fixture(autouse=True)
def _no_env_data_dir(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


def test_dataset_table_matches_local_files():
    assert set(LOCAL_FILES) == set(DATASETS) == {"cifar100", "cifar10", "mnist"}
    assert DATASETS["mnist"].image_shape == (28, 28, 1)
    assert DATASETS["cifar100"].num_classes == 100


def test_load_local_file(tmp_path):
    arrays = _cifar100_arrays()
    _write(tmp_path, **arrays)
    loaded = load_arrays("cifar100", tmp_path)
    for key in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(loaded, key), arrays[key])
    assert loaded.x_train.dtype == np.uint8
    assert loaded.y_test.dtype == np.int64


def test_env_var_names_data_dir(tmp_path, monkeypatch):
    _write(tmp_path, **_cifar100_arrays())
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert load_arrays("cifar100").x_train.shape == (6, 32, 32, 3)


def test_local_load_never_imports_tensorflow_datasets(tmp_path, monkeypatch):
    _write(tmp_path, **_cifar100_arrays())
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # import fails
    load_arrays("cifar100", tmp_path)


def test_without_data_dir_uses_tensorflow_datasets(monkeypatch):
    arrays, calls = _cifar100_arrays(), []

    def fake_load(name, **kwargs):
        calls.append((name, kwargs))
        label = types.SimpleNamespace(names=[f"class{i}" for i in range(100)])
        info = types.SimpleNamespace(features={"label": label})
        splits = [
            (arrays["x_train"], arrays["y_train"]),
            (arrays["x_test"], arrays["y_test"]),
        ]
        return splits, info

    fake = types.ModuleType("tensorflow_datasets")
    fake.load, fake.as_numpy = fake_load, lambda tree: tree
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", fake)
    loaded = load_arrays("cifar100")
    assert calls == [
        (
            "cifar100",
            {
                "split": ["train", "test"],
                "batch_size": -1,
                "as_supervised": True,
                "with_info": True,
            },
        )
    ]
    np.testing.assert_array_equal(loaded.y_test, arrays["y_test"])
    assert loaded.label_names[7] == "class7"


def test_mnist_gets_channel_axis_and_int64_labels(tmp_path):
    rng = np.random.default_rng(0)
    _write(
        tmp_path,
        "mnist.npz",
        x_train=rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        y_train=np.arange(5, dtype=np.uint8),
        x_test=rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        y_test=np.arange(3, dtype=np.uint8),
    )
    loaded = load_arrays("mnist", tmp_path)
    assert loaded.x_train.shape == (5, 28, 28, 1)
    assert loaded.y_train.dtype == np.int64


def test_finite_float_images_are_accepted_as_uint8(tmp_path):
    arrays = _cifar100_arrays()
    arrays["x_train"] = arrays["x_train"].astype(np.float32)
    _write(tmp_path, **arrays)
    loaded = load_arrays("cifar100", tmp_path)
    assert loaded.x_train.dtype == np.uint8


def test_unknown_dataset_lists_valid_names(tmp_path):
    with pytest.raises(ConfigError, match="cifar100") as info:
        load_arrays("cifar1000", tmp_path)
    assert "mnist" in str(info.value) and "cifar1000" in str(info.value)


def test_missing_file_names_path_and_remedies(tmp_path):
    with pytest.raises(DataError) as info:
        load_arrays("cifar100", tmp_path)
    message = str(info.value)
    assert str(tmp_path / "cifar100.npz") in message
    assert "--data-dir" in message and DATA_DIR_ENV in message
    assert "tensorflow-datasets" in message


def test_corrupt_file_is_reported(tmp_path):
    path = tmp_path / "cifar100.npz"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(DataError, match="not a readable .npz") as info:
        load_arrays("cifar100", tmp_path)
    assert str(path) in str(info.value)


def test_truncated_file_is_reported(tmp_path):
    path = _write(tmp_path, **_cifar100_arrays(n_train=200))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataError, match="not a readable .npz"):
        load_arrays("cifar100", tmp_path)


def test_missing_keys_are_listed(tmp_path):
    arrays = _cifar100_arrays()
    del arrays["y_test"], arrays["x_test"]
    _write(tmp_path, **arrays)
    with pytest.raises(
        DataError, match=r"missing arrays \['x_test', 'y_test'\]"
    ) as info:
        load_arrays("cifar100", tmp_path)
    assert "label_names" in str(info.value)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("x_train", np.zeros((6, 28, 28, 3), np.uint8), r"\(n, \*\(32, 32, 3\)\)"),
        ("x_test", np.zeros((4, 32, 32), np.uint8), r"got \(4, 32, 32\)"),
        ("x_train", np.zeros((6, 32, 32, 3), np.int32), "expected dtype uint8"),
        ("y_train", np.zeros(6, np.float32), "expected integer labels"),
        ("y_test", np.zeros((4, 1), np.int64), r"expected labels of shape \(n,\)"),
        ("y_train", np.arange(5), "6 images but y_train holds 5 labels"),
        ("y_test", np.array([0, 1, 2, 100]), r"\[0, 100\), got values in \[0, 100\]"),
        ("y_train", np.array([0, -1, 2, 3, 4, 5]), r"got values in \[-1, 5\]"),
        ("x_train", np.zeros((0, 32, 32, 3), np.uint8), "holds no images"),
    ],
)
def test_bad_arrays_are_reported(tmp_path, key, value, expected):
    arrays = _cifar100_arrays()
    arrays[key] = value
    path = _write(tmp_path, **arrays)
    with pytest.raises(DataError, match=expected) as info:
        load_arrays("cifar100", tmp_path)
    assert str(path) in str(info.value) and key in str(info.value)


@pytest.mark.parametrize("bad", [np.nan, np.inf, 300.0, -1.0])
def test_bad_float_images_are_reported(tmp_path, bad):
    arrays = _cifar100_arrays()
    arrays["x_test"] = arrays["x_test"].astype(np.float32)
    arrays["x_test"][1, 2, 3, 0] = bad
    _write(tmp_path, **arrays)
    with pytest.raises(DataError, match="x_test"):
        load_arrays("cifar100", tmp_path)


@pytest.mark.slow
def test_real_cifar100(cifar100_arrays):
    assert cifar100_arrays.x_train.shape == (20000, 32, 32, 3)
    assert cifar100_arrays.x_test.shape == (10000, 32, 32, 3)
    np.testing.assert_array_equal(np.bincount(cifar100_arrays.y_train), 200)
    np.testing.assert_array_equal(np.bincount(cifar100_arrays.y_test), 100)
    mean = cifar100_arrays.x_train.mean(axis=(0, 1, 2)) / 255.0
    np.testing.assert_allclose(mean, [0.507, 0.487, 0.441], atol=0.01)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("dataset", "n_train", "shape"),
    [("mnist", 60000, (28, 28, 1)), ("cifar10", 10000, (32, 32, 3))],
)
def test_real_other_datasets(data_dir, dataset, n_train, shape):
    if not (data_dir / LOCAL_FILES[dataset]).is_file():
        pytest.skip(f"{data_dir / LOCAL_FILES[dataset]} is missing")
    arrays = load_arrays(dataset, data_dir)
    assert arrays.x_train.shape == (n_train, *shape)
    assert arrays.x_test.shape == (10000, *shape)
    assert arrays.y_train.dtype == np.int64
