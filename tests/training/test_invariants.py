"""Lifelong invariants of every registered model after training a second task.

What a method keeps must be bit-identical: task 1's own variables for every
model; for models that share nothing (STL, ProgNN), task 1's outputs too.
"""

import dataclasses

import keras
import numpy as np
import pytest

from dfcnn_tf.data import Task
from dfcnn_tf.presets import get_preset
from dfcnn_tf.presets.base import eval_every
from dfcnn_tf.registry import build_model, model_names
from dfcnn_tf.training import train_lifelong

EXPERIMENT = get_preset("cifar100_10_smoke").experiment("dfcnn")
TRAIN = dataclasses.replace(
    EXPERIMENT.train, epochs_per_task=2, **eval_every(2), learning_rate=1e-3
)


def synthetic_task(task_id, rng):
    def split(n):
        x = rng.normal(size=(n, 32, 32, 3)).astype("float32")
        return x, rng.integers(0, 3, n).astype("int64")

    return Task(task_id, (0, 1, 2), *split(20), *split(6), *split(9))


@pytest.mark.parametrize("name", model_names())
def test_task_one_kept_after_task_two(name):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    model = build_model(get_preset("cifar100_10").models[name], (32, 32, 3))
    probe = rng.normal(size=(5, 32, 32, 3)).astype("float32")
    saved = {}

    def on_task_end(task_id, rows):
        if task_id == 0:
            saved["variables"] = [v.numpy().copy() for v in model.task_variables(0)]
            saved["shared"] = [v.numpy().copy() for v in model.shared_variables]
            saved["logits"] = model(probe, 0).numpy()

    tasks = [synthetic_task(0, rng), synthetic_task(1, rng)]
    train_lifelong(model, tasks, TRAIN, on_task_end=on_task_end)
    now = [v.numpy() for v in model.task_variables(0)]
    assert len(now) == len(saved["variables"])
    for before, after in zip(saved["variables"], now, strict=True):
        np.testing.assert_array_equal(before, after)
    if not saved["shared"]:  # nothing shared: task 1 is untouched entirely
        np.testing.assert_array_equal(saved["logits"], model(probe, 0).numpy())
