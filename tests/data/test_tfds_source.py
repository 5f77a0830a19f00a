"""`tfds:NAME` task source, on a small local builder (no network)."""

import pytest

from dfcnn_tf.data import load_source, source_identity, tasks_from_source
from dfcnn_tf.errors import ConfigError
from tests.data import tfds_fixture


@pytest.fixture
def tfds_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    return tmp_path / "tfds"


def test_tfds_set_with_its_class_names(tfds_dir):
    spec = f"tfds:{tfds_fixture.NAME}"
    tasks = tasks_from_source(spec, num_tasks=3, classes_per_task=2)
    assert {n for t in tasks for n in t.class_names} == set(tfds_fixture.CLASS_NAMES)
    assert tasks[0].x_train.shape == (34, 8, 8, 1)
    assert len(tasks[0].y_test) == 10  # the builder's own test split
    identity = source_identity(spec)
    assert identity["version"] == "1.0.0" and identity["splits"] == ["train", "test"]


def test_unknown_tfds_name_lists_close_matches(tfds_dir):
    with pytest.raises(ConfigError, match="close matches: .*fashion_mnist"):
        load_source("tfds:fashion_mnst")


def test_tfds_images_of_several_sizes_are_resized_and_said(tfds_dir):
    with pytest.warns(UserWarning, match="resized to 8x8"):
        images = load_source(f"tfds:{tfds_fixture.PHOTOS}")
    assert images.x_train.shape == (150, 8, 8, 3)
    assert images.x_test.shape == (30, 8, 8, 3)
