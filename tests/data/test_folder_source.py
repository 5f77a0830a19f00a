"""`folder:PATH` task source on generated image folders."""

import numpy as np
import pytest
import tensorflow as tf

from dfcnn_tf.data import load_source, source_identity, tasks_from_source
from dfcnn_tf.errors import ConfigError, DataError


def write_png(path, image):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(image).numpy())


def make_folder(root, classes=4, per_class=12, size=(10, 10), channels=3, seed=0):
    """`root/<class>/<i>.png` with random pixels; returns `root`."""
    rng = np.random.default_rng(seed)
    for c in range(classes):
        for i in range(per_class):
            image = rng.integers(0, 256, (*size, channels), dtype=np.uint8)
            write_png(root / f"class{c}" / f"{i}.png", image)
    return root


def test_class_folders_become_tasks(tmp_path):
    root = make_folder(tmp_path / "imgs")
    tasks = tasks_from_source(
        f"folder:{root}",
        num_tasks=2,
        classes_per_task=2,
        train_per_class=6,
        valid_per_class=2,
    )
    assert {n for t in tasks for n in t.class_names} == {f"class{c}" for c in range(4)}
    assert tasks[0].x_train.shape == (12, 10, 10, 3)
    assert len(tasks[0].y_test) == 2 * 2  # 20% of 12 held out per class, rounded


def test_domain_folders_give_one_task_each(tmp_path):
    make_folder(tmp_path / "d" / "Art", classes=3)
    make_folder(tmp_path / "d" / "Photo", classes=2, seed=1)
    tasks = tasks_from_source(
        f"folder:{tmp_path / 'd'}",
        num_tasks=2,
        partition="domain",
        train_per_class=6,
        valid_per_class=2,
    )
    assert [t.name for t in tasks] == ["Art", "Photo"]
    assert [t.num_classes for t in tasks] == [3, 2]


def test_mixed_grey_colour_and_sizes_are_converted_and_said(tmp_path):
    root = make_folder(tmp_path / "m", classes=2)
    write_png(root / "class0" / "grey.png", np.zeros((10, 10, 1), np.uint8))
    write_png(root / "class1" / "big.png", np.zeros((20, 16, 3), np.uint8))
    with pytest.warns(UserWarning) as said:
        images = load_source(f"folder:{root}")
    messages = " ".join(str(w.message) for w in said)
    assert "grey and colour" in messages and "resized to 10x10" in messages
    assert images.x_train.shape == (26, 10, 10, 3)


def test_corrupt_image_names_its_path(tmp_path):
    root = make_folder(tmp_path / "c", classes=2, per_class=2)
    bad = root / "class1" / "broken.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(DataError, match="broken.png: not a readable image"):
        load_source(f"folder:{root}")


def test_empty_or_missing_folder(tmp_path):
    (tmp_path / "empty" / "class0").mkdir(parents=True)
    with pytest.raises(DataError, match="no images found"):
        load_source(f"folder:{tmp_path / 'empty'}")
    with pytest.raises(DataError, match="no such folder"):
        load_source(f"folder:{tmp_path / 'nowhere'}")


def test_identity_follows_the_listing(tmp_path):
    root = make_folder(tmp_path / "i", classes=2, per_class=2)
    before = source_identity(f"folder:{root}")
    write_png(root / "class0" / "new.png", np.zeros((10, 10, 3), np.uint8))
    assert source_identity(f"folder:{root}") != before


def test_unknown_scheme_lists_the_sources():
    with pytest.raises(ConfigError, match="Valid: folder, npz, tfds"):
        load_source("fodler:x")
    with pytest.raises(ConfigError, match="SCHEME:ARGUMENT"):
        load_source("just_a_name")


def test_decoded_folder_is_cached_once(tmp_path):
    from dfcnn_tf.data.folder_source import cache_dir, load_folder

    root = make_folder(tmp_path / "k", classes=2, per_class=3)
    first = load_folder(str(root))
    [cached] = cache_dir().glob("*.npy")
    np.save(cached, first.x_train[::-1])  # the cache, not the files, is read
    np.testing.assert_array_equal(load_folder(str(root)).x_train, first.x_train[::-1])
