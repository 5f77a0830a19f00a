"""The lifelong loop (Algorithm 1): what it updates, what it records, how it fails."""

import dataclasses
import math

import keras
import numpy as np
import pytest

from dfcnn_tf.data import Task
from dfcnn_tf.errors import TrainingError
from dfcnn_tf.presets import get_preset
from dfcnn_tf.presets.base import eval_every
from dfcnn_tf.registry import build_model
from dfcnn_tf.training import loop, train_lifelong

EXPERIMENT = get_preset("cifar100_10_smoke").experiment("dfcnn")


def synthetic_task(task_id, num_classes=3, n_train=20, seed=0):
    rng = np.random.default_rng(seed + task_id)

    def split(n):
        x = rng.normal(size=(n, 32, 32, 3)).astype("float32")
        return x, rng.integers(0, num_classes, n).astype("int64")

    x_train, y_train = split(n_train)
    x_valid, y_valid = split(6)
    x_test, y_test = split(9)
    classes = tuple(range(task_id * num_classes, (task_id + 1) * num_classes))
    return Task(task_id, classes, x_train, y_train, x_valid, y_valid, x_test, y_test)


def train_config(**changes):
    base = dict(epochs_per_task=2, batch_size=10, learning_rate=1e-3)
    base |= eval_every(1)
    return dataclasses.replace(EXPERIMENT.train, **(base | changes))


def snapshot(variables):
    return [np.array(v.numpy(), copy=True) for v in variables]


def test_other_tasks_frozen_bit_identical_and_kb_moves():
    keras.utils.set_random_seed(0)
    model = build_model(EXPERIMENT.model, (32, 32, 3))
    saved = {}

    def on_task_end(task_id, rows):
        saved[task_id] = {
            "task0": snapshot(model.task_variables(0)),
            "shared": snapshot(model.shared_variables),
            "task_vars": [
                snapshot(model.task_variables(t)) for t in range(task_id + 1)
            ],
        }

    tasks = [synthetic_task(0), synthetic_task(1), synthetic_task(2)]
    train_lifelong(model, tasks, train_config(), on_task_end=on_task_end)
    # Task 0's own variables: bit-identical after tasks 1 and 2 were trained.
    for after in (1, 2):
        for before, now in zip(saved[0]["task0"], saved[after]["task0"], strict=True):
            assert np.array_equal(before, now)
    # Task 1's own variables: untouched while task 2 trains.
    for before, now in zip(
        saved[1]["task_vars"][1], saved[2]["task_vars"][1], strict=True
    ):
        assert np.array_equal(before, now)
    # The shared knowledge bases did change while task 1 and task 2 trained.
    for after in (1, 2):
        changed = [
            not np.array_equal(a, b)
            for a, b in zip(
                saved[after - 1]["shared"], saved[after]["shared"], strict=True
            )
        ]
        assert all(changed)


def test_current_task_variables_move():
    keras.utils.set_random_seed(1)
    model = build_model(EXPERIMENT.model, (32, 32, 3))
    model.add_task(3)
    before = snapshot(model.task_variables(0))
    keras.utils.set_random_seed(1)
    model2 = build_model(EXPERIMENT.model, (32, 32, 3))
    train_lifelong(model2, [synthetic_task(0)], train_config())
    after = snapshot(model2.task_variables(0))
    assert all(b.shape == a.shape for b, a in zip(before, after, strict=True))
    assert all(not np.array_equal(b, a) for b, a in zip(before, after, strict=True))


def test_history_rows_cover_seen_tasks_and_eval_schedule():
    keras.utils.set_random_seed(0)
    model = build_model(EXPERIMENT.model, (32, 32, 3))
    tasks = [synthetic_task(0), synthetic_task(1)]
    train = train_config(epochs_per_task=5, **eval_every(2))
    rows = train_lifelong(model, tasks, train)
    evaluated = sorted({(r["training_task"], r["task_epoch"]) for r in rows})
    # every 2nd epoch plus the last epoch of every task
    assert evaluated == [(0, 2), (0, 4), (0, 5), (1, 2), (1, 4), (1, 5)]
    for row in rows:
        assert row["task"] <= row["training_task"]
        assert row["epoch"] == row["training_task"] * 5 + row["task_epoch"]
        assert 0.0 <= row["accuracy"] <= 1.0
    per_point = {}
    for row in rows:
        key = (row["training_task"], row["task_epoch"])
        per_point.setdefault(key, set()).add((row["task"], row["split"]))
    assert per_point[(1, 5)] == {
        (t, s) for t in (0, 1) for s in ("train", "valid", "test")
    }
    times = [r["time"] for r in rows]
    assert times == sorted(times)


def test_accuracy_matches_direct_prediction():
    keras.utils.set_random_seed(0)
    model = build_model(EXPERIMENT.model, (32, 32, 3))
    task = synthetic_task(0, n_train=23)  # a partial last batch
    rows = train_lifelong(model, [task], train_config(epochs_per_task=1))
    for split in ("train", "valid", "test"):
        x, y = task.split(split)
        predicted = np.argmax(model(x, 0, training=False).numpy(), axis=-1)
        recorded = [r["accuracy"] for r in rows if r["split"] == split]
        assert recorded == [pytest.approx(np.mean(predicted == y))]


def test_diverging_loss_stops_with_task_and_epoch(monkeypatch):
    # A learning rate of 1e30 from the second task on makes the loss overflow.
    monkeypatch.setattr(loop, "learning_rate", lambda train, e: 1e-3 if e < 2 else 1e30)
    keras.utils.set_random_seed(0)
    model = build_model(EXPERIMENT.model, (32, 32, 3))
    tasks = [synthetic_task(0), synthetic_task(1)]
    with pytest.raises(TrainingError) as info:
        train_lifelong(model, tasks, train_config())
    message = str(info.value)
    assert "task 2" in message and "epoch" in message
    assert {r["training_task"] for r in info.value.rows} == {0}
    assert len(info.value.rows) == 2 * 3  # task 1's two evaluations are kept
    assert all(math.isfinite(r["accuracy"]) for r in info.value.rows)


def test_same_seed_same_history():
    histories = []
    for _ in range(2):
        keras.utils.set_random_seed(5)
        model = build_model(EXPERIMENT.model, (32, 32, 3))
        rows = train_lifelong(model, [synthetic_task(0)], train_config(), seed=5)
        histories.append([(r["split"], r["accuracy"]) for r in rows])
    assert histories[0] == histories[1]


def test_a_model_with_tasks_is_refused_not_retrained():
    from dfcnn_tf.errors import ConfigError
    from dfcnn_tf.registry import build_model

    from ..reliability.tiny import INPUT_SHAPE, tiny_experiment
    from ..reliability.tiny import tiny_tasks as make_tasks

    experiment = tiny_experiment()
    model = build_model(experiment.model, INPUT_SHAPE)
    model.add_task(3)
    before = [v.numpy() for v in model.task_variables(0)]
    with pytest.raises(ConfigError, match="has 1.*LifelongLearner.learn"):
        train_lifelong(model, make_tasks(2), experiment.train)
    for old, now in zip(before, model.task_variables(0), strict=True):
        np.testing.assert_array_equal(old, now.numpy())
