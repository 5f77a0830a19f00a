"""Data sets and lifelong task sequences of section 4.

See docs/method.md, section 'Data protocols'.
"""

from dfcnn_tf.data.binary_tasks import PAPER_PERCENTS, build_binary_tasks
from dfcnn_tf.data.cifar100 import (
    PAPER_PARTITION,
    PARTITIONS,
    TASK_ORDERS,
    build_cifar100_tasks,
)
from dfcnn_tf.data.datasets import (
    BUILTIN_DATASETS,
    DATASETS,
    BuiltinDataset,
    DatasetSpec,
    builtin_dataset,
)
from dfcnn_tf.data.own_tasks import (
    tasks_from_arrays,
    tasks_from_pairs,
    tasks_from_source,
)
from dfcnn_tf.data.sources import (
    DATA_DIR_ENV,
    LOCAL_FILES,
    ImageArrays,
    dataset_spec,
    load_arrays,
    resolve_data_dir,
)
from dfcnn_tf.data.splitting import LabelledImages, Split, split_into_tasks
from dfcnn_tf.data.task_sources import load_source, source_identity, source_names
from dfcnn_tf.data.tasks import TASK_SPLITS, Task, channel_stats, standardise

__all__ = [
    "BUILTIN_DATASETS",
    "BuiltinDataset",
    "builtin_dataset",
    "DATA_DIR_ENV",
    "DATASETS",
    "LOCAL_FILES",
    "PAPER_PARTITION",
    "PAPER_PERCENTS",
    "PARTITIONS",
    "TASK_ORDERS",
    "TASK_SPLITS",
    "DatasetSpec",
    "LabelledImages",
    "Split",
    "ImageArrays",
    "Task",
    "build_binary_tasks",
    "build_cifar100_tasks",
    "channel_stats",
    "dataset_spec",
    "load_arrays",
    "resolve_data_dir",
    "load_source",
    "source_identity",
    "source_names",
    "split_into_tasks",
    "standardise",
    "tasks_from_arrays",
    "tasks_from_pairs",
    "tasks_from_source",
]
