"""The multi-task protocol: random task per epoch, persistent optimizers, rows."""

import dataclasses

import keras
import numpy as np
import pytest

from dfcnn_tf.data import Task
from dfcnn_tf.presets import get_preset
from dfcnn_tf.registry import build_model
from dfcnn_tf.training import multitask
from dfcnn_tf.training.multitask import train_multitask

EXPERIMENT = get_preset("mnist_hetero_smoke").experiment("dfcnn")
TRAIN = dataclasses.replace(EXPERIMENT.train, epochs_per_task=4, eval_all_every=2)


def synthetic_task(task_id, rng, n_train=20):
    def split(n):
        x = rng.normal(size=(n, 28, 28, 1)).astype("float32")
        return x, rng.integers(0, 2, n).astype("int64")

    return Task(
        task_id, (2 * task_id, 2 * task_id + 1), *split(n_train), *split(6), *split(8)
    )


def tasks(count=3, seed=0):
    rng = np.random.default_rng(seed)
    return [synthetic_task(t, rng) for t in range(count)]


def run(train=TRAIN, seed=0, count=3):
    keras.utils.set_random_seed(seed)
    model = build_model(EXPERIMENT.model, (28, 28, 1))
    return model, train_multitask(model, tasks(count), train, seed=seed)


def test_total_epochs_and_evaluation_of_every_task():
    model, rows = run()
    assert model.num_tasks == 3
    epochs = sorted({r["epoch"] for r in rows})
    assert epochs == list(range(2, 13, 2))  # 4 epochs x 3 tasks, every 2nd
    for epoch in epochs:
        evaluated = {(r["task"], r["split"]) for r in rows if r["epoch"] == epoch}
        assert evaluated == {
            (t, s) for t in range(3) for s in ("train", "valid", "test")
        }
    assert all(r["task_epoch"] == r["epoch"] for r in rows)


def test_draws_are_uniform_and_seeded(monkeypatch):
    drawn = []
    original = multitask.TaskLearner.train_epoch

    def spy(self, *args):
        drawn.append(self.task_id)
        return original(self, *args)

    monkeypatch.setattr(multitask.TaskLearner, "train_epoch", spy)
    train = dataclasses.replace(TRAIN, epochs_per_task=10, eval_all_every=30)
    run(train, seed=3)
    first = list(drawn)
    drawn.clear()
    run(train, seed=3)
    assert drawn == first  # same seed, same draws
    counts = np.bincount(first, minlength=3)
    assert counts.sum() == 30 and counts.min() >= 4  # every task drawn


def test_each_task_keeps_one_optimizer(monkeypatch):
    created = []
    original = multitask.make_optimizer

    def spy(train):
        created.append(original(train))
        return created[-1]

    monkeypatch.setattr(multitask, "make_optimizer", spy)
    run()
    assert len(created) == 3
    assert all(int(opt.iterations.numpy()) > 0 for opt in created)


def test_other_tasks_heads_untouched_by_a_draw(monkeypatch):
    """An epoch on task t changes no other task's own variables."""
    keras.utils.set_random_seed(0)
    model = build_model(EXPERIMENT.model, (28, 28, 1))
    snapshots = []
    original = multitask.TaskLearner.train_epoch

    def spy(self, *args):
        before = {
            t: [v.numpy().copy() for v in model.task_variables(t)]
            for t in range(model.num_tasks)
        }
        loss = original(self, *args)
        snapshots.append((self.task_id, before))
        for other, values in before.items():
            if other != self.task_id:
                for old, var in zip(values, model.task_variables(other), strict=True):
                    np.testing.assert_array_equal(old, var.numpy())
        return loss

    monkeypatch.setattr(multitask.TaskLearner, "train_epoch", spy)
    train_multitask(model, tasks(), TRAIN)
    assert len(snapshots) == 12


@pytest.mark.parametrize("name", ["den", "prognn"])
def test_lifelong_only_models_refuse_mtl(name, tmp_path):
    from dfcnn_tf.errors import ConfigError
    from dfcnn_tf.fit_checks import check_protocol

    model = build_model(get_preset("cifar100_10").models[name], (32, 32, 3))
    with pytest.raises(ConfigError, match="supports only --protocol lifelong"):
        check_protocol(model, "mtl")
