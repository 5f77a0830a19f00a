"""Shared pytest fixtures: the local copy of the real data sets."""

import os
from pathlib import Path

import pytest

from dfcnn_tf.data import DATA_DIR_ENV, ImageArrays, load_arrays


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Folder with the real data files: $DFCNN_DATA_DIR, else ../shared/data."""
    repo_root = Path(__file__).resolve().parents[1]
    env = os.environ.get(DATA_DIR_ENV)
    folder = Path(env) if env else repo_root.parent / "shared" / "data"
    if not (folder / "cifar100.npz").is_file():
        pytest.skip(
            f"real data not found: {folder / 'cifar100.npz'} is missing "
            f"(set {DATA_DIR_ENV} to a folder holding it)"
        )
    return folder


@pytest.fixture(scope="session")
def cifar100_arrays(data_dir: Path) -> ImageArrays:
    """The real CIFAR-100 arrays, loaded once per test session."""
    return load_arrays("cifar100", data_dir)


@pytest.fixture(autouse=True)
def _folder_cache(tmp_path_factory, monkeypatch):
    """Decoded image folders are cached in a fresh folder per test, never ~."""
    monkeypatch.setenv("DFCNN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
