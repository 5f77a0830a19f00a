"""Tiny experiments and tasks for the reliability tests (checkpoints, resume).

Models are the registry's, shrunk to two conv layers of 4 channels on 8x8
images, so a test spends its time in what it checks, not in training.
"""

import dataclasses

import numpy as np

from dfcnn_tf.data import Task
from dfcnn_tf.overrides import apply_overrides
from dfcnn_tf.presets import get_preset
from dfcnn_tf.presets.base import eval_every

TINY = [
    "model.conv=[[4, 3, 1], [4, 3, 2]]",
    "model.fc_hidden=[8]",
]
TINY_DFCNN = [  # only the DF-CNN reads them
    "model.knowledge_bases=[[2, 4], [2, 4]]",
    "model.transforms=[[3, 4], [3, 4]]",
]
TINY_DEN = ["model.den.expansion_units=2"]  # only DEN reads its record
INPUT_SHAPE = (8, 8, 3)


def tiny_experiment(model="dfcnn", **train):
    """The smoke preset's `model`, tiny; 3 epochs per task unless `train` says."""
    experiment = get_preset("cifar100_10_smoke").experiment(model)
    method = experiment.model.registry_name
    extra = {"den": TINY_DEN, "dfcnn": TINY_DFCNN}.get(method, [])
    experiment = apply_overrides(experiment, TINY + extra)
    changes = dict(epochs_per_task=3, batch_size=5, learning_rate=1e-2)
    changes |= eval_every(1)
    train_config = dataclasses.replace(experiment.train, **(changes | train))
    return dataclasses.replace(experiment, train=train_config)


def tiny_tasks(count=2, num_classes=3, n_train=20, seed=0):
    """`count` tasks of random 8x8 images with `num_classes` labels each."""
    rng = np.random.default_rng(seed)

    def split(n):
        x = rng.normal(size=(n, *INPUT_SHAPE)).astype("float32")
        return x, rng.integers(0, num_classes, n).astype("int64")

    tasks = []
    for task_id in range(count):
        classes = tuple(range(task_id * num_classes, (task_id + 1) * num_classes))
        tasks.append(Task(task_id, classes, *split(n_train), *split(6), *split(9)))
    return tasks


def fake_cifar100(folder, nan=False):
    """Writes a small well-formed `cifar100.npz` (20 train and 2 test images
    per class, random pixels; one NaN pixel in `x_test` if `nan`) to `folder`.
    """
    rng = np.random.default_rng(0)
    arrays = {}
    for split, per_class in (("train", 20), ("test", 2)):
        labels = np.repeat(np.arange(100, dtype=np.int64), per_class)
        images = rng.integers(0, 256, (len(labels), 32, 32, 3)).astype(np.uint8)
        arrays[f"x_{split}"], arrays[f"y_{split}"] = images, labels
    if nan:
        arrays["x_test"] = arrays["x_test"].astype(np.float32)
        arrays["x_test"][0, 0, 0, 0] = np.nan
    np.savez(folder / "cifar100.npz", **arrays)
    return folder
