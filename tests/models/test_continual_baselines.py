"""Each continual-learning baseline's defining mechanism, on a tiny model
(docs/method.md, section 'Continual-learning baselines'); expected values
are computed here, independently of the code under test."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dfcnn_tf.models.agem import project
from dfcnn_tf.registry import build_model
from dfcnn_tf.training.step import TaskLearner

from ..reliability.tiny import INPUT_SHAPE, tiny_experiment, tiny_tasks


def tiny_model(name, tasks=1):
    keras.utils.set_random_seed(0)
    model = build_model(tiny_experiment(name).model, INPUT_SHAPE)
    for _ in range(tasks):
        model.add_task(3)
    return model


def sgd_steps(model, task_id, x, y, steps=3, rate=0.05):
    """Plain SGD through the method's hook; returns the gradients applied."""
    optimizer = keras.optimizers.SGD(rate)
    experiment = tiny_experiment("hps")
    learner = TaskLearner.for_task(
        model,
        task_id,
        optimizer,
        experiment.train,
        model.training_stages(task_id, 1)[0],
    )
    for _ in range(steps):
        learner._step(tf.constant(x), tf.constant(y))


def test_ewc_penalty_is_half_lambda_fisher_weighted_distance():
    model = tiny_model("ewc")
    task = tiny_tasks(1)[0]
    model.finish_task(0, task.x_train, task.y_train)
    shared = model.shared_variables
    squares = [np.zeros(v.shape, "float32") for v in shared]
    for i in range(len(task.x_train)):  # one example at a time
        with tf.GradientTape() as tape:
            logits = model(task.x_train[i : i + 1], 0)
            log_p = tf.nn.log_softmax(logits)[0, int(task.y_train[i])]
        for k, g in enumerate(tape.gradient(log_p, shared)):
            squares[k] += g.numpy() ** 2
    fisher = [s / len(task.x_train) for s in squares]
    for expected, stored in zip(fisher, model.fishers[0], strict=True):
        np.testing.assert_allclose(stored.numpy(), expected, rtol=1e-4, atol=1e-9)
    anchors = [v.numpy() for v in shared]
    model.add_task(3)
    for v in shared:
        v.assign(v + 0.01)
    expected = (
        0.5
        * model.strength
        * sum(
            np.sum(f * (v.numpy() - a) ** 2)
            for f, v, a in zip(fisher, shared, anchors, strict=True)
        )
    )
    assert expected > 0
    np.testing.assert_allclose(model.penalty(1).numpy(), expected, rtol=1e-4)
    assert model.step_hook(0) is None


def test_si_importance_is_the_normalised_path_integral():
    model = tiny_model("si")
    task = tiny_tasks(1)[0]
    x, y = task.x_train[:5], task.y_train[:5]
    start = [v.numpy() for v in model.shared_variables]
    path = [np.zeros_like(s) for s in start]
    rate = 0.05
    _dropout_off(model)
    for _ in range(3):  # the same SGD steps, by hand
        with tf.GradientTape() as tape:
            logits = model(x, 0, training=False)
            loss = tf.reduce_sum(
                tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits)
            )
        variables = model.training_variables(0)  # shared first, then the head
        grads = tape.gradient(loss, variables)
        for k, (g, v) in enumerate(zip(grads, variables, strict=True)):
            before = v.numpy()
            v.assign(before - rate * g.numpy())
            if k < len(path):
                path[k] += -g.numpy() * (v.numpy() - before)
    end = [v.numpy() for v in model.shared_variables]
    model2 = tiny_model("si")  # same seed: same start; trained through the hook
    _dropout_off(model2)
    sgd_steps(model2, 0, x, y, steps=3, rate=rate)
    for k, v in enumerate(model2.shared_variables):
        np.testing.assert_allclose(v.numpy(), end[k], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            model2.path_integral[k].numpy(), path[k], rtol=1e-3, atol=1e-9
        )
    model2.finish_task(0, x, y)
    for k, big in enumerate(model2.importance):
        delta = model2.shared_variables[k].numpy() - start[k]
        expected = model2.path_integral[k].numpy() / (delta**2 + model2.damping)
        np.testing.assert_allclose(big.numpy(), expected, rtol=1e-5)
    assert sum(np.sum(p) for p in path) > 0  # the loss went down


def _dropout_off(model):
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0


def test_lwf_targets_are_the_frozen_models_softened_outputs():
    model = tiny_model("lwf")
    old, new = tiny_tasks(2)
    before = model(new.x_train, 0).numpy()  # the model before task 1
    model.add_task(3)
    sgd_steps(model, 1, new.x_train[:5], new.y_train[:5], steps=2, rate=0.5)
    softened = np.exp(before / 2.0) / np.exp(before / 2.0).sum(1, keepdims=True)
    (targets,) = model.distillation_targets(new.x_train)
    np.testing.assert_allclose(targets.numpy(), softened, rtol=1e-5, atol=1e-7)
    now = model(new.x_train, 0).numpy()
    assert np.abs(now - before).max() > 1e-4  # the live model moved on
    log_q = now / 2.0 - np.log(np.exp(now / 2.0).sum(1, keepdims=True))
    expected = model.strength * np.sum(-(softened * log_q).sum(1))
    loss = model.distillation_loss(new.x_train, tf.reduce_sum, training=False)
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-4)


@pytest.mark.parametrize("seed", range(5))
def test_agem_projection(seed):
    rng = np.random.default_rng(seed)
    g = [
        tf.constant(rng.normal(size=(3, 2)), tf.float32),
        tf.constant(rng.normal(size=4), tf.float32),
    ]
    r = [tf.constant(rng.normal(size=(3, 2)), tf.float32), None]
    flat = lambda ts: np.concatenate([np.ravel(t) for t in ts])  # noqa: E731
    r_flat = np.concatenate([np.ravel(r[0]), np.zeros(4, "float32")])
    projected = project(g, r)
    dot = flat(g) @ r_flat
    if dot >= 0:
        for a, b in zip(projected, g, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    else:
        expected = flat(g) - dot / (r_flat @ r_flat) * r_flat
        np.testing.assert_allclose(flat(projected), expected, rtol=1e-5, atol=1e-6)
    assert flat(projected) @ r_flat >= -1e-5
    negative = project([-t for t in g[:1]] + g[1:], [g[0], None])  # g.g_ref < 0
    assert np.sum(negative[0].numpy() * g[0].numpy()) == pytest.approx(0, abs=1e-5)


@pytest.mark.parametrize("name", ["er", "agem"])
def test_memory_is_a_class_balanced_sample_of_training_images(name):
    model = tiny_model(name)
    task = tiny_tasks(1)[0]
    model.finish_task(0, task.x_train, task.y_train)
    images, labels = (v.numpy() for v in model.memory[0])
    per_class = model.per_class
    assert images.shape == (3 * per_class, *INPUT_SHAPE)
    assert list(labels) == sorted(list(range(3)) * per_class)
    for image, label in zip(images, labels, strict=True):
        rows = np.flatnonzero((task.x_train == image).all(axis=(1, 2, 3)))
        assert len(rows) == 1 and task.y_train[rows[0]] == label
    picks = set()
    for seed in range(8):  # a uniform draw: not always the same image
        keras.utils.set_random_seed(seed)
        other = build_model(tiny_experiment(name).model, INPUT_SHAPE)
        other.add_task(3)
        other.finish_task(0, task.x_train, task.y_train)
        picks.add(other.memory[0][0].numpy().tobytes())
    assert len(picks) > 1
