"""The built-in data sets: one registry for the CLI, the tuner and the learner.

Each entry says where the data comes from (local file, TFDS name), what its
images look like, which function cuts it into the lifelong task set of
section 4 (docs/method.md, section 'Data protocols'), which `DataConfig`
fields that task set reads, and the learning rates the tuner tries.
`data.source` (your own data, `task_sources.py`) is the one other door;
its fields are `SOURCE_FIELDS`.

Task builders are named as ``"module:function"`` and imported on use, so
this table sits below every module that reads it.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass

from dfcnn_tf.data.task_sources import unknown_name
from dfcnn_tf.errors import ConfigError

# Fields every data set reads (what to load, how many tasks, which seed).
COMMON_FIELDS = ("dataset", "num_tasks", "task_order", "resample_per_seed", "data_dir")
SOURCE_FIELDS = (
    "source",
    "num_tasks",
    "task_order",
    "resample_per_seed",
    "classes_per_task",
    "train_per_class",
    "valid_per_class",
    "partition",
    "test_fraction",
    "class_groups",
)


@dataclass(frozen=True)
class DatasetSpec:
    """What one data set's arrays must look like.

    Attributes:
        local_file: File name of the local ``.npz`` copy inside the data folder.
        tfds_name: Name of the data set in ``tensorflow_datasets``.
        image_shape: ``(height, width, channels)`` of one image.
        num_classes: Labels lie in ``[0, num_classes)``.
    """

    local_file: str
    tfds_name: str
    image_shape: tuple[int, int, int]
    num_classes: int


@dataclass(frozen=True)
class BuiltinDataset:
    """One built-in data set and its lifelong task set.

    Attributes:
        name: the `data.dataset` value.
        builder: ``"module:function"``; ``function(data, seed)`` returns the
            tasks a `DataConfig` describes.
        fields: the `DataConfig` fields its task set reads besides
            `COMMON_FIELDS`.
        learning_rates: the rates the tuner tries (the preset's own first).
        arrays: the form of its `.npz` / TFDS arrays, or None (image folder).
    """

    name: str
    builder: str
    fields: tuple[str, ...]
    learning_rates: tuple[float, ...]
    arrays: DatasetSpec | None = None

    @property
    def reads(self) -> tuple[str, ...]:
        """Every `DataConfig` field its task set reads."""
        return COMMON_FIELDS + self.fields

    def build_tasks(self, data, seed):
        """The tasks `data` describes, drawn with `seed`."""
        module, _, function = self.builder.partition(":")
        return getattr(importlib.import_module(module), function)(data, seed)


_BINARY_FIELDS = ("task_set", "percent")
BUILTIN_DATASETS: dict[str, BuiltinDataset] = {
    entry.name: entry
    for entry in (
        BuiltinDataset(
            "cifar100",
            "dfcnn_tf.data.cifar100:cifar100_tasks",
            ("classes_per_task", "train_per_class", "valid_per_class", "partition"),
            (1e-4, 3e-4, 1e-3),
            DatasetSpec("cifar100.npz", "cifar100", (32, 32, 3), 100),
        ),
        BuiltinDataset(
            "cifar10",
            "dfcnn_tf.data.binary_tasks:binary_tasks",
            _BINARY_FIELDS,
            (1e-4, 2.5e-4, 1e-3),
            DatasetSpec("cifar10.npz", "cifar10", (32, 32, 3), 10),
        ),
        BuiltinDataset(
            "mnist",
            "dfcnn_tf.data.binary_tasks:binary_tasks",
            _BINARY_FIELDS,
            (3e-4, 1e-3, 3e-3),
            DatasetSpec("mnist.npz", "mnist", (28, 28, 1), 10),
        ),
        BuiltinDataset(
            "officehome",
            "dfcnn_tf.data.officehome_tasks:officehome_tasks",
            ("domains", "classes_per_task"),
            (1e-6, 5e-6, 2e-5),
        ),
    )
}
# The data sets read from arrays (a local .npz file or tensorflow-datasets).
DATASETS: dict[str, DatasetSpec] = {
    name: entry.arrays for name, entry in BUILTIN_DATASETS.items() if entry.arrays
}


def builtin_dataset(name: str) -> BuiltinDataset:
    """The registry entry of `name`.

    Raises:
        ConfigError: one line with close matches and a pointer to `--data`.
    """
    if name not in BUILTIN_DATASETS:
        error = unknown_name("data set", name, BUILTIN_DATASETS)
        raise ConfigError(
            f"{error} (any other: --data tfds:{name}, folder:PATH or npz:FILE)"
        )
    return BUILTIN_DATASETS[name]


def fields_read(data) -> tuple[str, str]:
    """``(what, fields)``: the data set or source `data` names, and every
    `DataConfig` field it reads.

    Raises:
        ConfigError: for an unknown `data.dataset` (without a source).
    """
    if data.source:
        return f"source {data.source}", SOURCE_FIELDS + ("data_dir",)
    return f"data set {data.dataset}", builtin_dataset(data.dataset).reads


def check_fields_read(data, default):
    """The `DataConfig` fields the chosen data set or source reads.

    `DataConfig` holds every data set's fields; a field the chosen one does
    not read must stay at its value in `default` (a `DataConfig()`), so
    that it is never silently ignored.

    Raises:
        ConfigError: naming the field, the data set and the fields it reads.
    """
    what, reads = fields_read(data)
    for item in dataclasses.fields(default):
        value = getattr(data, item.name)
        if item.name not in reads and _plain(value) != _plain(
            getattr(default, item.name)
        ):
            raise ConfigError(
                f"data.{item.name}={value!r} is not read by {what}; it reads "
                f"{', '.join(f for f in reads if f != 'dataset')}"
            )
    return reads


def _plain(value):
    """Tuples as lists, nested (a configuration file gives lists)."""
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
