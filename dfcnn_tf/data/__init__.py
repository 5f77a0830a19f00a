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
from dfcnn_tf.data.sources import (
    DATA_DIR_ENV,
    DATASETS,
    LOCAL_FILES,
    DatasetSpec,
    ImageArrays,
    dataset_spec,
    load_arrays,
    resolve_data_dir,
)
from dfcnn_tf.data.tasks import TASK_SPLITS, Task, channel_stats, standardise

__all__ = [
    "DATA_DIR_ENV",
    "DATASETS",
    "LOCAL_FILES",
    "PAPER_PARTITION",
    "PAPER_PERCENTS",
    "PARTITIONS",
    "TASK_ORDERS",
    "TASK_SPLITS",
    "DatasetSpec",
    "ImageArrays",
    "Task",
    "build_binary_tasks",
    "build_cifar100_tasks",
    "channel_stats",
    "dataset_spec",
    "load_arrays",
    "resolve_data_dir",
    "standardise",
]
