"""Tests of the Office-Home builder, loader and task sequence.

See docs/method.md, section 'Data protocols'.

No copy of Office-Home is needed: a small image-folder tree with the same
layout is written to a temporary folder. Every image is one flat colour whose
red channel encodes the domain, green the class and blue the image number, so
labels and file order can be checked from the pixels (a flat colour stays flat
through the bilinear resize; JPEG moves it by a unit or two).
"""

import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image

from dfcnn_tf.data.officehome import OfficeHome, check_domains, load_officehome
from dfcnn_tf.data.officehome_source import (
    ARCHIVE_FOLDER,
    ARCHIVE_NAME,
    CLASSES,
    DOMAINS,
    IMAGE_SHAPE,
    find_source_root,
    scan_source,
)
from dfcnn_tf.data.officehome_tasks import build_officehome_tasks, class_split_sizes
from dfcnn_tf.data.sources import DATA_DIR_ENV
from dfcnn_tf.data.tasks import Task
from dfcnn_tf.errors import ConfigError, DataError

FIXTURE_DOMAINS = {"Product": "Product", "Real World": "Real World"}
FIXTURE_CLASSES = CLASSES[::4][:15]  # 15 classes, spread over the sorted list.
IMAGES_PER_CLASS = 6
SIZES = ((40, 30), (50, 70), (64, 48), (33, 90))  # (width, height), PIL order.
TOLERANCE = 4  # Largest pixel change expected from JPEG on a flat colour.


def _colour(domain: str, class_slot: int, image_number: int) -> tuple[int, int, int]:
    """The flat colour of one fixture image."""
    return (
        60 + 120 * DOMAINS.index(domain) // 3,
        8 + 16 * class_slot,
        20 + 30 * image_number,
    )


def _write_image(path: Path, colour, size, mode: str = "RGB") -> None:
    """Write one flat-colour image; the file suffix picks JPEG or PNG."""
    image = Image.new("RGB", size, colour).convert(mode)
    if path.suffix.lower() == ".jpg":
        image.save(path, format="JPEG", quality=95)
    else:
        image.save(path, format="PNG")


def write_fixture(root: Path, folders: dict[str, str] = FIXTURE_DOMAINS) -> Path:
    """Write an Office-Home-like tree: domain/class/image, JPEG and PNG.

    Args:
        root: Folder to create.
        folders: Canonical domain name to the folder name to use for it.

    Returns:
        ``root``.
    """
    for domain, folder in folders.items():
        for slot, class_name in enumerate(FIXTURE_CLASSES):
            class_dir = root / folder / class_name
            class_dir.mkdir(parents=True)
            for number in range(IMAGES_PER_CLASS):
                suffix = (".jpg", ".png", ".JPG")[number % 3]
                mode = "RGBA" if number == 1 else "RGB"  # Alpha must be dropped.
                size = SIZES[(slot + number) % len(SIZES)]
                colour = _colour(domain, slot, number)
                _write_image(class_dir / f"{number:05d}{suffix}", colour, size, mode)
            (class_dir / "Thumbs.db").write_bytes(b"not an image")  # Ignored.
    (root / "ImageInfo.csv").write_text("ignored\n")
    return root


def _decode(image: np.ndarray) -> tuple[str, int, int]:
    """Read back (domain, class name, image number) from a fixture image."""
    red, green, blue = (int(round(v)) for v in image.reshape(-1, 3).mean(axis=0))
    domain = min(FIXTURE_DOMAINS, key=lambda d: abs(_colour(d, 0, 0)[0] - red))
    return domain, FIXTURE_CLASSES[round((green - 8) / 16)], round((blue - 20) / 30)


@pytest.fixture(scope="module")
def fixture_root(tmp_path_factory) -> Path:
    """The fixture tree (2 domains x 15 classes x 6 images)."""
    return write_fixture(tmp_path_factory.mktemp("officehome") / "images")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    """TFDS data folder shared by the tests of this module."""
    return tmp_path_factory.mktemp("tfds")


@pytest.fixture(scope="module")
def loaded(fixture_root, cache_dir) -> dict:
    """The fixture loaded through the builder (prepared once per module)."""
    return load_officehome(fixture_root, cache_dir=cache_dir)


# --- builder ---------------------------------------------------------------


def test_builder_prepares_every_image_with_its_labels(loaded, cache_dir):
    builder = OfficeHome(data_dir=cache_dir)
    assert builder.is_prepared()
    assert builder.name not in ("office_home",)
    assert builder.info.splits["train"].num_examples == 2 * 15 * IMAGES_PER_CLASS
    assert builder.info.features["label"].names == list(CLASSES)
    assert builder.info.features["domain"].names == list(DOMAINS)
    seen = set()
    for example in tfds.as_numpy(builder.as_dataset(split="train")):
        image, filename = example["image"], example["image/filename"].decode()
        assert image.shape == IMAGE_SHAPE and image.dtype == np.uint8
        domain, class_name, number = _decode(image)
        assert np.ptp(image.reshape(-1, 3), axis=0).max() <= TOLERANCE
        assert example["label"] == CLASSES.index(class_name)
        assert DOMAINS[example["domain"]] == domain
        assert filename.split("/")[:2] == [domain, class_name]
        assert Path(filename).stem == f"{number:05d}"
        seen.add(filename)
    assert len(seen) == 2 * 15 * IMAGES_PER_CLASS


def test_builder_prepares_through_the_tfds_api(fixture_root, tmp_path, monkeypatch):
    assert tfds.builder_cls(OfficeHome.name) is OfficeHome
    assert OfficeHome.name != "office_home"
    builder = OfficeHome(data_dir=tmp_path)
    config = tfds.download.DownloadConfig(manual_dir=str(fixture_root))
    builder.download_and_prepare(download_config=config)
    assert builder.info.splits["train"].num_examples == 2 * 15 * IMAGES_PER_CLASS
    monkeypatch.setattr(OfficeHome, "download_and_prepare", None)  # Not called.
    arrays = load_officehome(fixture_root, ["Product"], cache_dir=tmp_path)
    assert arrays["Product"][0].shape == (15 * IMAGES_PER_CLASS, *IMAGE_SHAPE)


def test_classes_are_the_65_sorted_office_home_classes():
    assert len(CLASSES) == len(set(CLASSES)) == 65
    assert list(CLASSES) == sorted(CLASSES)
    assert {"Alarm_Clock", "Real World"} & set(CLASSES) == {"Alarm_Clock"}


# --- loading ---------------------------------------------------------------


def test_load_returns_sorted_uint8_arrays_per_domain(loaded):
    assert list(loaded) == ["Product", "Real World"]
    for domain, (images, labels) in loaded.items():
        assert images.shape == (15 * IMAGES_PER_CLASS, *IMAGE_SHAPE)
        assert images.dtype == np.uint8 and labels.dtype == np.int64
        assert np.all(np.diff(labels) >= 0)
        expected = np.repeat([CLASSES.index(c) for c in FIXTURE_CLASSES], 6)
        np.testing.assert_array_equal(labels, expected)
        decoded = [_decode(image) for image in images]
        assert [d for d, _, _ in decoded] == [domain] * len(images)
        assert [CLASSES.index(c) for _, c, _ in decoded] == labels.tolist()
        assert [n for _, _, n in decoded] == list(range(IMAGES_PER_CLASS)) * 15


def test_second_load_reads_the_cache_without_rebuilding(
    loaded, fixture_root, cache_dir, monkeypatch
):
    def fail(*args, **kwargs):
        raise AssertionError("the cache was rebuilt")

    monkeypatch.setattr(OfficeHome, "_generate_examples", fail)
    monkeypatch.setattr(OfficeHome, "download_and_prepare", fail)
    again = load_officehome(fixture_root, domains=["Real_World"], cache_dir=cache_dir)
    assert list(again) == ["Real World"]
    np.testing.assert_array_equal(again["Real World"][0], loaded["Real World"][0])
    np.testing.assert_array_equal(again["Real World"][1], loaded["Real World"][1])


def test_cache_from_other_files_is_refused(loaded, fixture_root, cache_dir, tmp_path):
    other = shutil.copytree(fixture_root, tmp_path / "other")
    extra = other / "Product" / FIXTURE_CLASSES[0] / "extra.png"
    _write_image(extra, (1, 2, 3), (20, 20))
    with pytest.raises(DataError, match="prepared from other image files") as info:
        load_officehome(other, cache_dir=cache_dir)
    assert str(cache_dir) in str(info.value)


def test_archive_folder_and_real_world_spellings_are_found(tmp_path):
    write_fixture(tmp_path / ARCHIVE_FOLDER, {"Real World": "Real_World"})
    source = find_source_root(tmp_path)
    assert source == tmp_path / ARCHIVE_FOLDER
    images = scan_source(source)
    assert list(images) == ["Real World"]
    assert len(images["Real World"]) == 15 * IMAGES_PER_CLASS
    assert images["Real World"][0].relpath.startswith("Real_World/")


# --- loading errors --------------------------------------------------------


@pytest.mark.parametrize("make", [False, True], ids=["missing", "empty"])
def test_missing_root_says_where_to_put_the_data(tmp_path, make):
    root = tmp_path / "nowhere"
    if make:
        root.mkdir()
    with pytest.raises(DataError) as info:
        load_officehome(root, cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert str(root) in message and str(root / ARCHIVE_FOLDER) in message
    assert "Real World/Alarm_Clock/00001.jpg" in message  # The layout.
    assert ARCHIVE_NAME in message and "hemanthdv.github.io" in message
    assert "--data-dir" in message
    assert not (tmp_path / "cache" / OfficeHome.name).exists()


def test_no_root_searches_the_data_dir_env_then_the_tfds_manual_dir(
    tmp_path, monkeypatch
):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    with pytest.raises(DataError) as info:
        load_officehome(None, cache_dir=tmp_path)
    assert str(tmp_path / "downloads" / "manual") in str(info.value)
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "env"))
    with pytest.raises(DataError, match=str(tmp_path / "env")):
        load_officehome(None, cache_dir=tmp_path)


def test_missing_domain_is_named_with_those_found(fixture_root, tmp_path):
    with pytest.raises(DataError, match=r"\['Art'\].*\['Product', 'Real World'\]"):
        load_officehome(fixture_root, domains=("Art", "Product"), cache_dir=tmp_path)


def test_corrupt_image_is_named(tmp_path):
    class_dir = tmp_path / "images" / "Real_World" / "Alarm_Clock"
    class_dir.mkdir(parents=True)
    _write_image(class_dir / "good.png", (9, 9, 9), (10, 12))
    broken = class_dir / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 truncated jpeg")
    with pytest.raises(DataError, match="broken.jpg") as info:
        load_officehome(tmp_path / "images", ["Real World"], tmp_path / "cache")
    assert str(broken) in str(info.value)
    assert not OfficeHome(data_dir=tmp_path / "cache").is_prepared()


def test_unknown_class_folder_is_named(tmp_path):
    (tmp_path / "Product" / "Unicorn").mkdir(parents=True)
    with pytest.raises(DataError, match="Unicorn.*not an Office-Home class"):
        scan_source(tmp_path)


@pytest.mark.parametrize(
    "domains", [(), "Product", ("Product", "Sketch"), ("Real World", "Real_World")]
)
def test_bad_domains_raise_config_error_naming_the_field(domains):
    with pytest.raises(ConfigError, match="domains"):
        check_domains(domains)


# --- tasks -----------------------------------------------------------------


def synthetic_arrays(classes=15, per_class=10, domains=("Product", "Real World")):
    """Tiny 2x2 images whose first pixel holds a unique image number."""
    arrays = {}
    for d, domain in enumerate(domains):
        labels = np.repeat(np.arange(classes) * 4, per_class)  # Not 0..n-1.
        count = len(labels)
        images = np.zeros((count, 2, 2, 3), dtype=np.uint8)
        images[:, 0, 0, 0] = np.arange(count) % 256
        images[:, 0, 0, 1] = np.arange(count) // 256 + 100 * d
        images[:, 1, 1, :] = 255
        arrays[domain] = (images, labels)
    return arrays


def _ids(x: np.ndarray) -> np.ndarray:
    """Image numbers of scaled synthetic images (inverse of the encoding)."""
    raw = np.rint(x[:, 0, 0, :2] * 255).astype(int)
    return raw[:, 0] + 256 * (raw[:, 1] % 100)


def test_tasks_have_stratified_disjoint_splits_and_relabelled_classes():
    arrays = synthetic_arrays()
    tasks = build_officehome_tasks(arrays, tasks_per_domain=1, classes_per_task=13)
    assert [t.task_id for t in tasks] == [0, 1]
    for task, domain in zip(tasks, ("Product", "Real World"), strict=True):
        images, labels = arrays[domain]
        assert isinstance(task, Task) and task.num_classes == 13
        assert len(set(task.classes)) == 13 and set(task.classes) <= set(labels)
        ids = {}
        for name, size in (("train", 6), ("valid", 1), ("test", 3)):
            x, y = task.split(name)
            assert x.dtype == np.float32 and x.min() >= 0.0 and x.max() == 1.0
            assert np.array_equal(np.bincount(y, minlength=13), [size] * 13)
            ids[name] = _ids(x)
            original = labels[ids[name]]
            np.testing.assert_array_equal(np.asarray(task.classes)[y], original)
            np.testing.assert_array_equal(x, images[ids[name]] / np.float32(255))
        assert len(set().union(*map(set, ids.values()))) == 13 * 10


def test_classes_do_not_repeat_within_a_domain():
    tasks = build_officehome_tasks(
        synthetic_arrays(), tasks_per_domain=3, classes_per_task=5
    )
    assert [t.name for t in tasks] == [
        *(f"Product-{i}" for i in (1, 2, 3)),
        *(f"Real World-{i}" for i in (4, 5, 6)),
    ]
    for domain_tasks in (tasks[:3], tasks[3:]):
        drawn = [c for task in domain_tasks for c in task.classes]
        assert sorted(drawn) == list(range(0, 60, 4))


def _drawn(tasks):
    """Classes and train / test image numbers of every task."""
    return [
        (t.classes, _ids(t.x_train).tolist(), _ids(t.x_test).tolist()) for t in tasks
    ]


def test_tasks_are_deterministic_per_seed_and_differ_across_seeds():
    arrays = synthetic_arrays()

    def drawn(**kwargs):
        return _drawn(build_officehome_tasks(arrays, tasks_per_domain=1, **kwargs))

    assert drawn(seed=3) == drawn(seed=3)
    assert drawn(seed=3) != drawn(seed=4)
    product_only = drawn(domains=["Product"], seed=3)
    assert product_only[0] == drawn(seed=3)[0]  # Own stream per domain.


def test_permuted_order_mixes_domains_and_keeps_the_tasks():
    kwargs = {"tasks_per_domain": 3, "classes_per_task": 5, "seed": 1}
    fixed = build_officehome_tasks(synthetic_arrays(), **kwargs)
    permuted = build_officehome_tasks(
        synthetic_arrays(), task_order="permuted", **kwargs
    )
    assert [t.task_id for t in permuted] == list(range(6))
    key = _drawn(fixed)
    assert sorted(key) == sorted(_drawn(permuted)) and key != _drawn(permuted)
    assert all(t.name.endswith(f"-{t.task_id + 1}") for t in permuted)


def test_standardise_scaling_uses_training_statistics():
    tasks = build_officehome_tasks(
        synthetic_arrays(), tasks_per_domain=1, scaling="standardise"
    )
    x = tasks[0].x_train.astype(np.float64)
    np.testing.assert_allclose(x.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(x.std(axis=(0, 1, 2)), 1.0, atol=1e-4)


def test_tasks_from_the_loaded_fixture(loaded):
    tasks = build_officehome_tasks(loaded, tasks_per_domain=1, classes_per_task=13)
    assert len(tasks) == 2
    for task in tasks:
        assert task.x_train.shape == (13 * 3, *IMAGE_SHAPE)
        assert len(task.x_valid) == 13 and len(task.x_test) == 13 * 2
        for name in ("train", "valid", "test"):
            x, y = task.split(name)
            decoded = [_decode(np.rint(image * 255)) for image in x]
            assert [CLASSES.index(c) for _, c, _ in decoded] == [
                task.classes[label] for label in y
            ]


@pytest.mark.parametrize(
    ("n", "sizes"),
    [(1, (1, 0, 0)), (2, (1, 0, 1)), (3, (1, 1, 1)), (6, (3, 1, 2)),
     (10, (6, 1, 3)), (47, (28, 5, 14)), (99, (59, 10, 30))],
)  # fmt: skip
def test_class_split_sizes(n, sizes):
    assert class_split_sizes(n, (0.6, 0.1, 0.3)) == sizes


def test_class_split_sizes_keep_every_split_filled():
    for split in ((0.6, 0.1, 0.3), (0.1, 0.1, 0.8), (0.98, 0.01, 0.01)):
        for n in range(3, 60):
            sizes = class_split_sizes(n, split)
            assert sum(sizes) == n and min(sizes) >= 1, (n, split, sizes)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"tasks_per_domain": 0}, "tasks_per_domain"),
        ({"classes_per_task": 1}, "classes_per_task"),
        ({"classes_per_task": 2.0}, "classes_per_task"),
        ({"split": (0.6, 0.1)}, "split"),
        ({"split": (0.6, 0.2, 0.3)}, "split"),
        ({"split": (0.0, 0.5, 0.5)}, "split"),
        ({"seed": -1}, "seed"),
        ({"task_order": "random"}, "task_order"),
        ({"domains": ("Sketch",)}, "domains"),
        ({"scaling": "none"}, "scaling"),
    ],
)
def test_bad_task_arguments_raise_config_error_naming_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        build_officehome_tasks(synthetic_arrays(), **kwargs)


def test_too_few_classes_gives_needed_and_available_counts():
    with pytest.raises(DataError, match=r"'Product'.*need 65 .*only 15 are available"):
        build_officehome_tasks(synthetic_arrays())


def test_missing_domain_in_arrays_is_named():
    arrays = synthetic_arrays(domains=("Product",))
    with pytest.raises(DataError, match=r"'Real World'.*\['Product'\]"):
        build_officehome_tasks(arrays, tasks_per_domain=1)


def test_two_images_per_class_give_one_train_and_one_test_image():
    arrays = {"Product": synthetic_arrays(classes=4, per_class=2)["Product"]}
    task = build_officehome_tasks(
        arrays, domains=["Product"], tasks_per_domain=2, classes_per_task=2
    )[1]
    assert (len(task.y_train), len(task.y_valid), len(task.y_test)) == (2, 0, 2)


def test_two_folders_for_one_domain_are_refused(tmp_path):
    (tmp_path / "Real World" / "Alarm_Clock").mkdir(parents=True)
    (tmp_path / "Real_World" / "Alarm_Clock").mkdir(parents=True)
    with pytest.raises(DataError, match="two folders for domain 'Real World'"):
        find_source_root(tmp_path)


# --- the command line, end to end on the fixture -------------------------------


@pytest.mark.slow
def test_cli_runs_the_officehome_preset_on_the_fixture(
    fixture_root, tmp_path, monkeypatch
):
    from dfcnn_tf.lifelong import main
    from dfcnn_tf.results import read_history

    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    argv = ["--preset", "officehome_smoke", "--model", "stl", "--quiet"]
    argv += ["--data-dir", str(fixture_root), "--out", str(tmp_path / "out")]
    argv += ["--epochs-per-task", "1", "--set", "data.num_tasks=2"]
    argv += ["--set", "train.batch_size=8"]
    assert main(argv) == 0
    # the overrides change the preset: the folder name carries a config hash
    [run_dir] = (tmp_path / "out").glob("officehome_smoke-stl-seed0-*")
    history = read_history(run_dir)
    assert set(history.task) == {0, 1}  # one task from each domain
