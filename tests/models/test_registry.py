"""Registry-wide checks: every registered model through the same interface."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dfcnn_tf.presets import get_preset
from dfcnn_tf.registry import build_model, model_names

PRESET = get_preset("cifar100_10")
INPUT_SHAPE = (32, 32, 3)


def test_every_registered_model_has_a_cifar100_config():
    assert set(model_names()) <= set(PRESET.models)


@pytest.fixture(scope="module", params=model_names())
def two_task_model(request):
    keras.utils.set_random_seed(0)
    model = build_model(PRESET.models[request.param], INPUT_SHAPE)
    model.add_task(10)
    model.add_task(5)
    return model


def batch(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, *INPUT_SHAPE)).astype("float32")


def test_output_shapes_and_finite(two_task_model):
    for task_id, classes in ((0, 10), (1, 5)):
        for training in (False, True):
            logits = two_task_model(batch(), task_id, training=training).numpy()
            assert logits.shape == (4, classes)
            assert np.all(np.isfinite(logits))


def test_every_trained_variable_gets_a_gradient(two_task_model):
    labels = tf.constant([0, 1, 2, 3], tf.int64)
    variables = two_task_model.training_variables(1)
    assert variables
    with tf.GradientTape() as tape:
        logits = two_task_model(batch(), 1, training=False)
        loss = tf.reduce_sum(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
        )
    for variable, gradient in zip(
        variables, tape.gradient(loss, variables), strict=True
    ):
        assert gradient is not None, variable.path
        assert np.any(gradient.numpy() != 0), variable.path


def test_task_variables_disjoint_and_not_shared(two_task_model):
    shared = {id(v) for v in two_task_model.shared_variables}
    first = {id(v) for v in two_task_model.task_variables(0)}
    second = {id(v) for v in two_task_model.task_variables(1)}
    assert first and second
    assert not first & second
    assert not (first | second) & shared


def test_task_outputs_depend_only_on_their_own_task(two_task_model):
    before = two_task_model(batch(), 0).numpy()
    for variable in two_task_model.task_variables(1):
        variable.assign(variable + 0.5)
    after = two_task_model(batch(), 0).numpy()
    np.testing.assert_array_equal(before, after)
