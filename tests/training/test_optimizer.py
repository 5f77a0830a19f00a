"""Tests of TF1-style RMSProp and the learning-rate schedule.

See docs/method.md, section 'Optimizer'.

Reference update (as `tf.compat.v1.train.RMSPropOptimizer` computes it):
    ms  = rho * ms + (1 - rho) * g**2      (ms starts at 1.0 in TF1, 0 in Keras)
    var = var - lr * g / sqrt(ms + eps)    (eps 1e-10 in TF1, 1e-7 in Keras)
"""

import dataclasses

import keras
import numpy as np
import pytest

from dfcnn_tf.config import TrainConfig
from dfcnn_tf.errors import ConfigError
from dfcnn_tf.training import TF1RMSprop, learning_rate, make_optimizer

LR, RHO = 0.01, 0.9
START = np.array([1.0, -2.0, 0.5, 3.0], np.float32)
GRADIENTS = (
    np.array([0.1, -0.3, 2.0, 0.0], np.float32),
    np.array([-0.5, 0.2, 1.0, 1e-3], np.float32),
)


def _velocities(optimizer):
    return [v for v in optimizer.variables if v.name.endswith("velocity")]


def _numpy_rmsprop(var, gradients, ms0, eps, lr=LR, rho=RHO):
    """Applies the reference update for each gradient in float64."""
    var, ms = var.astype(np.float64), np.full(var.shape, ms0, np.float64)
    for g in gradients:
        g = g.astype(np.float64)
        ms = rho * ms + (1 - rho) * g**2
        var = var - lr * g / np.sqrt(ms + eps)
    return var, ms


def _apply(optimizer, gradients, start=START):
    variable = keras.Variable(start.copy(), name="w")
    for g in gradients:
        optimizer.apply_gradients([(g, variable)])
    return variable.numpy(), _velocities(optimizer)[0].numpy()


def test_tf1_defaults():
    optimizer = TF1RMSprop()
    assert optimizer.epsilon == 1e-10
    assert optimizer.initial_accumulator_value == 1.0
    assert optimizer.rho == 0.9


def test_tf1_accumulators_start_at_one():
    optimizer = TF1RMSprop(learning_rate=LR)
    optimizer.build([keras.Variable(np.zeros((2, 3), np.float32), name="a")])
    velocities = _velocities(optimizer)
    assert len(velocities) == 1
    np.testing.assert_array_equal(velocities[0].numpy(), np.ones((2, 3)))


@pytest.mark.parametrize("steps", [1, 2])
def test_tf1_update_matches_numpy(steps):
    gradients = GRADIENTS[:steps]
    var, ms = _apply(TF1RMSprop(learning_rate=LR, rho=RHO), gradients)
    expected_var, expected_ms = _numpy_rmsprop(START, gradients, ms0=1.0, eps=1e-10)
    np.testing.assert_allclose(ms, expected_ms, rtol=1e-6)
    np.testing.assert_allclose(var, expected_var, rtol=1e-6, atol=1e-7)


def test_keras_update_matches_numpy_from_zero():
    var, ms = _apply(keras.optimizers.RMSprop(learning_rate=LR, rho=RHO), GRADIENTS)
    expected_var, expected_ms = _numpy_rmsprop(START, GRADIENTS, ms0=0.0, eps=1e-7)
    np.testing.assert_allclose(ms, expected_ms, rtol=1e-6)
    np.testing.assert_allclose(var, expected_var, rtol=1e-5, atol=1e-7)


def test_first_keras_step_is_much_larger_for_small_gradient():
    start, gradient = np.zeros(1, np.float32), np.full(1, 0.05, np.float32)
    steps = {}
    for name in ("tf1", "keras"):
        optimizer = make_optimizer(TrainConfig(learning_rate=LR, optimizer=name))
        var, _ = _apply(optimizer, [gradient], start=start)
        steps[name] = abs(float(var[0]))
    # tf1: lr * g / sqrt(0.9 + 0.1 g^2) ~ 0.05 lr;  keras: ~ lr / sqrt(0.1) ~ 3.2 lr.
    np.testing.assert_allclose(steps["tf1"], LR * 0.05 / np.sqrt(0.90025), rtol=1e-5)
    assert steps["keras"] > 5 * steps["tf1"]


def test_make_optimizer_uses_train_config():
    train = TrainConfig(learning_rate=3e-3, rho=0.8)
    tf1 = make_optimizer(train)
    assert type(tf1) is TF1RMSprop
    keras_rmsprop = make_optimizer(dataclasses.replace(train, optimizer="keras"))
    assert type(keras_rmsprop) is keras.optimizers.RMSprop
    for optimizer in (tf1, keras_rmsprop):
        assert float(optimizer.learning_rate) == pytest.approx(3e-3)
        assert optimizer.rho == 0.8
    assert make_optimizer(train) is not tf1  # a fresh one per task


def test_unknown_optimizer_lists_valid_names():
    train = dataclasses.replace(TrainConfig(), optimizer="adam")
    with pytest.raises(ConfigError, match="Unknown optimizer 'adam'") as info:
        make_optimizer(train)
    assert "Valid optimizers: keras, tf1" in str(info.value)


def test_tf1_config_round_trip():
    optimizer = TF1RMSprop(learning_rate=0.5, rho=0.7, initial_accumulator_value=0.3)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(optimizer)
    )
    assert type(restored) is TF1RMSprop
    assert restored.initial_accumulator_value == 0.3
    assert restored.epsilon == 1e-10
    assert restored.rho == 0.7
    assert float(restored.learning_rate) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [(0, 1e-3), (1, 1e-3 / (1 + 1 / 4000)), (4000, 5e-4), (12000, 2.5e-4)],
)
def test_learning_rate_schedule(epoch, expected):
    train = TrainConfig(learning_rate=1e-3, lr_decay=1 / 4000)
    assert learning_rate(train, epoch) == pytest.approx(expected, rel=1e-12)


def test_learning_rate_without_decay_is_constant():
    train = TrainConfig(learning_rate=2e-3, lr_decay=0.0)
    assert [learning_rate(train, e) for e in (0, 10, 10_000)] == [2e-3] * 3
