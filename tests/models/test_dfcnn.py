"""Tests of the DF-CNN lifelong model (paper section 3).

See docs/method.md, sections 'The DF-CNN layer' and 'Architectures and sizes'.
"""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from dfcnn_tf.errors import ConfigError
from dfcnn_tf.layers import DFConv2D
from dfcnn_tf.models import DFCNN
from dfcnn_tf.presets import CIFAR_DFCNN, get_preset
from dfcnn_tf.registry import build_model, get_model_class, model_names

INPUT_SHAPE = (32, 32, 3)
NUM_TASKS = 10
NUM_CLASSES = 10


def count(variables):
    return int(sum(np.prod(v.shape) for v in variables))


def images(batch=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, *INPUT_SHAPE)).astype(np.float32)


def dfconv_layers(model, task_id):
    return [
        layer for layer in model.towers[task_id].layers if isinstance(layer, DFConv2D)
    ]


@pytest.fixture(scope="module")
def cifar_model():
    """The `cifar100_10` DF-CNN with its 10 tasks of 10 classes."""
    keras.utils.set_random_seed(0)
    config = get_preset("cifar100_10").experiment("dfcnn").model
    model = build_model(config, INPUT_SHAPE)
    for _ in range(NUM_TASKS):
        model.add_task(NUM_CLASSES)
    return model


@pytest.fixture(scope="module")
def mixed_model():
    """The same architecture with tasks of 10, 5 and 2 classes."""
    keras.utils.set_random_seed(1)
    model = build_model(CIFAR_DFCNN, INPUT_SHAPE)
    for num_classes in (10, 5, 2):
        model.add_task(num_classes)
    return model


# ---------------------------------------------------------------- sizes


def test_parameter_count_matches_paper(cifar_model):
    """7,963,252 parameters: 432 shared + 10 x 796,282 (docs/method.md, section
    'Architectures and sizes').

    Knowledge bases `(kb, kb, c_kb)`: 2*2*(16 + 24 + 32 + 36) = 432, shared.
    Per task and conv layer: V `p*p*c*c_kb` + b_D `c` + U `c*c_in*c_out` + b `c_out`:

        layer 1 (3 -> 32,  c 24, c_kb 16): 3456 + 24 + 2304 + 32     =   5,816
        layer 2 (32 -> 32, c 48, c_kb 24): 10368 + 48 + 49152 + 32   =  59,600
        layer 3 (32 -> 64, c 64, c_kb 32): 18432 + 64 + 131072 + 64  = 149,632
        layer 4 (64 -> 64, c 72, c_kb 36): 23328 + 72 + 294912 + 64  = 318,376

    Two SAME 2x2 pools: 32 -> 16 -> 8, so the head sees 8*8*64 = 4096 features:
    FC 4096*64 + 64 = 262,208 and output 64*10 + 10 = 650.
    Per task: 533,424 conv + 262,858 FC = 796,282.
    """
    assert count(cifar_model.shared_variables) == 432
    for task_id in range(NUM_TASKS):
        assert count(cifar_model.task_variables(task_id)) == 796_282
    assert cifar_model.count_params() == 7_963_252
    assert 432 + NUM_TASKS * 796_282 == 7_963_252


def test_per_layer_task_parameters(cifar_model):
    expected = [5_816, 59_600, 149_632, 318_376]
    layers = dfconv_layers(cifar_model, 0)
    assert [count(layer.task_weights) for layer in layers] == expected


# ---------------------------------------------------------------- sharing


def test_knowledge_bases_are_shared_by_reference(cifar_model):
    shared = cifar_model.shared_variables
    assert len(shared) == 4
    assert [tuple(v.shape) for v in shared] == [
        (1, 2, 2, 16),
        (1, 2, 2, 24),
        (1, 2, 2, 32),
        (1, 2, 2, 36),
    ]
    for task_id in range(NUM_TASKS):
        layers = dfconv_layers(cifar_model, task_id)
        assert len(layers) == 4
        for i, layer in enumerate(layers):
            assert layer.knowledge_base.kernel is shared[i]


def test_task_variables_are_disjoint_and_exclude_kb(cifar_model):
    shared_ids = {id(v) for v in cifar_model.shared_variables}
    seen = set()
    for task_id in range(NUM_TASKS):
        ids = {id(v) for v in cifar_model.task_variables(task_id)}
        assert len(ids) == len(cifar_model.task_variables(task_id))
        assert not ids & shared_ids
        assert not ids & seen
        seen |= ids


def test_training_variables_are_shared_plus_task(cifar_model):
    variables = cifar_model.training_variables(3)
    expected = cifar_model.shared_variables + cifar_model.task_variables(3)
    assert [id(v) for v in variables] == [id(v) for v in expected]


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize(("task_id", "num_classes"), [(0, 10), (1, 5), (2, 2)])
def test_output_shape_per_task(mixed_model, task_id, num_classes):
    x = images(batch=3)
    for training in (False, True):
        logits = mixed_model(x, task_id, training=training)
        assert tuple(logits.shape) == (3, num_classes)
        assert np.isfinite(logits).all()


def test_dropout_only_in_training(mixed_model):
    x = images(seed=2)
    train_a = mixed_model(x, 0, training=True)
    train_b = mixed_model(x, 0, training=True)
    assert not np.allclose(train_a, train_b)
    eval_a = mixed_model(x, 0, training=False)
    eval_b = mixed_model(x, 0)
    np.testing.assert_array_equal(eval_a, eval_b)


def test_task_kernels_are_generated_per_task(cifar_model):
    kernels = [cifar_model.task_kernels(t) for t in (0, 1)]
    shapes = [(3, 3, 3, 32), (3, 3, 32, 32), (3, 3, 32, 64), (3, 3, 64, 64)]
    for task_id, task_kernels in zip((0, 1), kernels, strict=True):
        assert [tuple(k.shape) for k in task_kernels] == shapes
        layers = dfconv_layers(cifar_model, task_id)
        for kernel, layer in zip(task_kernels, layers, strict=True):
            np.testing.assert_array_equal(kernel, layer.generate_kernel())
    for first, second in zip(*kernels, strict=True):
        assert not np.allclose(first, second)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("task_id", [-1, NUM_TASKS, 100])
def test_invalid_task_id_raises(cifar_model, task_id):
    with pytest.raises(ValueError, match=f"task_id={task_id}"):
        cifar_model(images(batch=1), task_id)
    with pytest.raises(ValueError, match="task_id"):
        cifar_model.task_variables(task_id)
    with pytest.raises(ValueError, match="task_id"):
        cifar_model.task_kernels(task_id)


def test_no_task_before_add_task():
    model = build_model(CIFAR_DFCNN, INPUT_SHAPE)
    assert model.num_tasks == 0
    with pytest.raises(ValueError, match="task_id=0"):
        model(images(batch=1), 0)


@pytest.mark.parametrize("field", ["conv", "knowledge_bases", "transforms"])
def test_mismatched_layer_counts_raise(field):
    config = dataclasses.replace(
        CIFAR_DFCNN, **{field: getattr(CIFAR_DFCNN, field)[:3]}
    )
    with pytest.raises(ConfigError, match=f"model.{field} has 3") as info:
        build_model(config, INPUT_SHAPE)
    for other in ("conv", "knowledge_bases", "transforms"):
        assert f"model.{other}" in str(info.value)


# ---------------------------------------------------------------- registry


def test_registry_builds_dfcnn():
    assert "dfcnn" in model_names()
    assert get_model_class("dfcnn") is DFCNN
    model = build_model(CIFAR_DFCNN, INPUT_SHAPE)
    assert isinstance(model, DFCNN)
    assert model.input_shape == INPUT_SHAPE


def test_unknown_model_lists_known_names():
    with pytest.raises(ConfigError, match="dfcnn") as info:
        get_model_class("no_such_model")
    assert "no_such_model" in str(info.value)
    config = dataclasses.replace(CIFAR_DFCNN, name="no_such_model")
    with pytest.raises(ConfigError, match="dfcnn"):
        build_model(config, INPUT_SHAPE)


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize("task_id", [0, NUM_TASKS - 1])
def test_every_trainable_variable_gets_a_gradient(cifar_model, task_id):
    rng = np.random.default_rng(task_id)
    x = images(batch=8, seed=task_id)
    labels = rng.integers(0, NUM_CLASSES, size=8)
    variables = cifar_model.training_variables(task_id)
    with tf.GradientTape() as tape:
        logits = cifar_model(x, task_id, training=False)
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
        )
    grads = tape.gradient(loss, variables)
    assert len(grads) == 4 + 4 * 4 + 4
    for variable, grad in zip(variables, grads, strict=True):
        assert grad is not None, variable.path
        assert np.isfinite(grad).all(), variable.path
        assert np.any(np.asarray(grad) != 0), variable.path


def test_gradient_of_one_task_skips_other_tasks(cifar_model):
    x = images(batch=2)
    others = cifar_model.task_variables(1)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(cifar_model(x, 0))
    assert all(g is None for g in tape.gradient(loss, others))


DFCNN_MODELS = ["dfcnn", "dfcnn_small", "dfcnn_tc2", "dfcnn_direct"]


def first_task_biases(name, bias_init):
    """Every DFConv2D of task 0 of preset `name`: (conv bias, deconv bias)."""
    keras.utils.set_random_seed(0)
    config = get_preset("cifar100_10").experiment(name).model
    config = dataclasses.replace(config, bias_init=bias_init)
    model = build_model(config, INPUT_SHAPE)
    model.add_task(NUM_CLASSES)
    return [
        (np.asarray(d.bias), np.asarray(d.deconv_bias)) for d in dfconv_layers(model, 0)
    ]


@pytest.mark.parametrize("name", DFCNN_MODELS)
def test_released_bias_init_is_the_default_and_in_range(name):
    config = get_preset("cifar100_10").experiment(name).model
    assert config.bias_init == "released"
    for bias, deconv_bias in first_task_biases(name, "released"):
        for values in (bias, deconv_bias):
            # Glorot-uniform of a (1, 1, 1, n) variable: fan_in 1, fan_out n.
            assert np.abs(values).max() <= np.sqrt(6.0 / (1 + values.size))
            assert np.ptp(values) > 0


@pytest.mark.parametrize("name", DFCNN_MODELS)
def test_constant_bias_init_keeps_the_earlier_biases(name):
    for bias, deconv_bias in first_task_biases(name, "constant"):
        np.testing.assert_array_equal(bias, np.full(bias.shape, 0.2, np.float32))
        # Glorot-uniform over the (c,) shape itself: fan_in = fan_out = c.
        assert np.abs(deconv_bias).max() <= np.sqrt(3.0 / deconv_bias.size)


def test_unknown_bias_init_raises():
    config = get_preset("cifar100_10").experiment("dfcnn").model
    with pytest.raises(ConfigError, match="bias_init"):
        build_model(dataclasses.replace(config, bias_init="zeros"), INPUT_SHAPE)
