"""Tests of the ProgNN baseline (Rusu et al. 2016).

See docs/method.md, section 'Baselines'.
"""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from dfcnn_tf.config import ConvSpec, ModelConfig, ProgNNOptions
from dfcnn_tf.data import Task
from dfcnn_tf.errors import ConfigError
from dfcnn_tf.layers import LateralConv2D
from dfcnn_tf.models.prognn import ProgressiveNetwork
from dfcnn_tf.presets import get_preset
from dfcnn_tf.registry import build_model
from dfcnn_tf.training import train_lifelong

INPUT_SHAPE = (32, 32, 3)
CIFAR_PROGNN = get_preset("cifar100_10").experiment("prognn").model
SMOKE = get_preset("cifar100_10_smoke").experiment("prognn")
# A tiny model for the NumPy re-computation: odd sizes exercise SAME pooling.
TINY = ModelConfig(
    name="prognn",
    conv=(ConvSpec(4, 3, 2), ConvSpec(6, 3, 1), ConvSpec(5, 3, 2)),
    fc_hidden=(7,),
    prognn=ProgNNOptions(lateral_reduction=0.5),
)
TINY_INPUT = (6, 6, 2)


def count(variables):
    return int(sum(np.prod(v.shape) for v in variables))


def images(batch=4, shape=INPUT_SHAPE, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, *shape)).astype(np.float32)


def snapshot(variables):
    return [np.array(v.numpy(), copy=True) for v in variables]


def model_with_tasks(config, input_shape, classes, seed=0):
    keras.utils.set_random_seed(seed)
    model = build_model(config, input_shape)
    for num_classes in classes:
        model.add_task(num_classes)
    return model


def randomise(layer, seed):
    """Replaces every weight of `layer` by N(0, 0.5) values (alphas included)."""
    rng = np.random.default_rng(seed)
    for weight in layer.weights:
        weight.assign(rng.normal(scale=0.5, size=weight.shape).astype(np.float32))


# ---------------------------------------------------------- NumPy reference


def np_conv_same(x, kernel):
    """Stride-1 SAME convolution: explicit zero padding, loop over kernel offsets."""
    k = kernel.shape[0]
    pad = (k - 1) // 2
    padded = np.pad(x, ((0, 0), (pad, k - 1 - pad), (pad, k - 1 - pad), (0, 0)))
    height, width = x.shape[1:3]
    out = np.zeros((*x.shape[:3], kernel.shape[-1]), np.float64)
    for dy in range(k):
        for dx in range(k):
            window = padded[:, dy : dy + height, dx : dx + width, :]
            out += np.einsum("bhwi,io->bhwo", window, kernel[dy, dx])
    return out


def np_max_pool_same(x, pool):
    """Max-pool with window = stride = `pool`, SAME: pads the end with -inf."""
    b, h, w, c = x.shape
    out_h, out_w = -(-h // pool), -(-w // pool)
    pad = ((0, 0), (0, out_h * pool - h), (0, out_w * pool - w), (0, 0))
    padded = np.pad(x, pad, constant_values=-np.inf)
    return padded.reshape(b, out_h, pool, out_w, pool, c).max(axis=(2, 4))


def relu(x):
    return np.maximum(x, 0.0)


def np_lateral_conv(layer, own, laterals):
    """relu(conv(h, W) + b + sum_j U_j * relu(V_j * (alpha_j * h_j) + c_j))."""
    out = np_conv_same(own, layer.kernel.numpy()) + layer.bias.numpy()
    for j, features in enumerate(laterals):
        scaled = layer.alphas[j].numpy() * features
        adapter = np_conv_same(scaled, layer.adapter_kernels[j].numpy())
        adapter = relu(adapter + layer.adapter_biases[j].numpy())
        out += np_conv_same(adapter, layer.lateral_kernels[j].numpy())
    return relu(out)


def np_prognn_logits(model, x, task_id):
    """Task `task_id`'s logits: columns 0..task_id, laterals after pooling."""
    features = []
    for column in range(task_id + 1):
        h, outputs = x, []
        for i, (spec, layer) in enumerate(
            zip(model.config.conv, model.columns[column], strict=True)
        ):
            laterals = [features[j][i - 1] for j in range(column)] if i > 0 else []
            h = np_lateral_conv(layer, h, laterals)
            if spec.pool > 1:
                h = np_max_pool_same(h, spec.pool)
            outputs.append(h)
        features.append(outputs)
    h = features[task_id][-1].reshape(len(x), -1)
    dense = [la for la in model.heads[task_id].layers if la.weights]
    for n, layer in enumerate(dense):
        h = h @ layer.kernel.numpy() + layer.bias.numpy()
        h = h if n == len(dense) - 1 else relu(h)
    return h


# ------------------------------------------------------------------ sizes


def test_parameter_count_matches_paper():
    """3,508,637 parameters for 10 tasks of 10 classes (paper: 3.51M).

    A column without laterals is the STL network: convs 896 + 9,248 + 18,496
    + 36,928 = 65,568, FC 4096*64 + 64 = 262,208, output 64*10 + 10 = 650;
    328,426 in all. Column t (0-based) adds, per earlier column j < t and
    conv layer l = 2, 3, 4 (c_in -> c_out = 32->32, 32->64, 64->64), an adapter
    of `1 + c_in*nic + nic + 3*3*nic*c_out` parameters with
    `nic = int(c_in / (2 * (t + 1)))`:

        t  nic(l2,l3,l4)  per earlier column          x t    column total
        1  8, 8, 16       2569 + 4873 + 10257 = 17699  17,699  346,125
        2  5, 5, 10       1606 + 3046 +  6411 = 11063  22,126  350,552
        3  4, 4, 8        1285 + 2437 +  5129 =  8851  26,553  354,979
        4  3, 3, 6         964 + 1828 +  3847 =  6639  26,556  354,982
        5  2, 2, 5         643 + 1219 +  3206 =  5068  25,340  353,766
        6  2, 2, 4         643 + 1219 +  2565 =  4427  26,562  354,988
        7  2, 2, 4         643 + 1219 +  2565 =  4427  30,989  359,415
        8  1, 1, 3         322 +  610 +  1924 =  2856  22,848  351,274
        9  1, 1, 3         322 +  610 +  1924 =  2856  25,704  354,130

    Laterals: 224,377; total 10 * 328,426 + 224,377 = 3,508,637.
    """
    model = model_with_tasks(CIFAR_PROGNN, INPUT_SHAPE, [10] * 10)
    assert model.shared_variables == []
    assert count(model.task_variables(0)) == 328_426
    assert count(model.task_variables(1)) == 346_125
    assert count(model.task_variables(9)) == 354_130
    assert model.count_params() == 3_508_637
    assert 10 * 328_426 + 224_377 == 3_508_637


def test_registry_builds_progressive_network():
    model = build_model(CIFAR_PROGNN, INPUT_SHAPE)
    assert isinstance(model, ProgressiveNetwork)
    assert model.num_tasks == 0


# ------------------------------------------------------------ forward pass


def test_output_shapes_finite_and_compiled_call_matches():
    model = model_with_tasks(CIFAR_PROGNN, INPUT_SHAPE, (10, 5, 2))
    x = images()
    for task_id, classes in enumerate((10, 5, 2)):
        for training in (False, True):
            logits = model(x, task_id, training=training).numpy()
            assert logits.shape == (4, classes)
            assert np.all(np.isfinite(logits))
        compiled = tf.function(lambda x, t=task_id: model(x, t))
        np.testing.assert_allclose(
            compiled(x).numpy(), model(x, task_id).numpy(), rtol=1e-5, atol=1e-5
        )


def test_lateral_layer_matches_numpy_with_two_earlier_columns():
    layer = LateralConv2D(5, 3, num_laterals=2, lateral_channels=2)
    own, first, second = (images(2, (6, 7, 4), seed) for seed in (1, 2, 3))
    layer.build([own.shape, first.shape, second.shape])
    randomise(layer, seed=4)
    got = layer([own, first, second]).numpy()
    want = np_lateral_conv(layer, own, [first, second])
    assert got.shape == (2, 6, 7, 5)
    assert 0 < np.mean(want > 0) < 1  # the ReLUs are exercised
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_model_logits_match_numpy_wiring():
    model = model_with_tasks(TINY, TINY_INPUT, (3, 4, 2))
    for seed, column in enumerate(model.columns):
        for i, layer in enumerate(column):
            randomise(layer, seed=10 * seed + i)
    x = images(3, TINY_INPUT, seed=5)
    for task_id in range(3):
        got = model(x, task_id).numpy()
        np.testing.assert_allclose(
            got, np_prognn_logits(model, x, task_id), rtol=1e-4, atol=1e-4
        )


def test_earlier_logits_unchanged_when_columns_are_added():
    model = model_with_tasks(CIFAR_PROGNN, INPUT_SHAPE, (10, 5))
    x = images()
    before = [model(x, t).numpy() for t in range(2)]
    model.add_task(10)
    model.add_task(3)
    for task_id in range(2):
        assert np.array_equal(model(x, task_id).numpy(), before[task_id])


# ------------------------------------------------------------ gradients


def test_every_trained_variable_gets_a_gradient_and_no_earlier_column():
    model = model_with_tasks(CIFAR_PROGNN, INPUT_SHAPE, (10, 5, 4))
    labels = tf.constant([0, 1, 2, 3], tf.int64)
    x = images()
    for task_id in range(3):
        variables = model.training_variables(task_id)
        earlier = [v for t in range(task_id) for v in model.task_variables(t)]
        with tf.GradientTape(persistent=True) as tape:
            logits = model(x, task_id, training=False)
            loss = tf.reduce_sum(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
            )
        for variable, gradient in zip(
            variables, tape.gradient(loss, variables), strict=True
        ):
            assert gradient is not None, variable.path
            assert np.any(gradient.numpy() != 0), variable.path
        assert all(g is None for g in tape.gradient(loss, earlier))
        del tape


def test_task_variables_are_disjoint_columns():
    model = model_with_tasks(TINY, TINY_INPUT, (3, 3, 3))
    ids = [{id(v) for v in model.task_variables(t)} for t in range(3)]
    assert not ids[0] & ids[1] and not ids[0] & ids[2] and not ids[1] & ids[2]
    assert model.training_variables(2) == model.task_variables(2)


# ------------------------------------------------------------ lifelong


def synthetic_task(task_id, num_classes=3, n_train=20, seed=0):
    rng = np.random.default_rng(seed + task_id)

    def split(n):
        x = rng.normal(size=(n, *INPUT_SHAPE)).astype("float32")
        return x, rng.integers(0, num_classes, n).astype("int64")

    x_train, y_train = split(n_train)
    x_valid, y_valid = split(6)
    x_test, y_test = split(9)
    classes = tuple(range(task_id * num_classes, (task_id + 1) * num_classes))
    return Task(task_id, classes, x_train, y_train, x_valid, y_valid, x_test, y_test)


def test_training_task_1_leaves_column_0_and_its_logits_bit_identical():
    keras.utils.set_random_seed(0)
    model = build_model(SMOKE.model, INPUT_SHAPE)
    x, initial, saved = images(), {}, {}
    add_task = model.add_task

    def add_and_snapshot(num_classes):
        task_id = add_task(num_classes)
        initial[task_id] = snapshot(model.task_variables(task_id))
        return task_id

    def on_task_end(task_id, rows):
        saved[task_id] = (snapshot(model.task_variables(0)), model(x, 0).numpy())

    model.add_task = add_and_snapshot
    train = dataclasses.replace(
        SMOKE.train, epochs_per_task=2, batch_size=10, learning_rate=1e-3
    )
    train_lifelong(
        model, [synthetic_task(0), synthetic_task(1)], train, on_task_end=on_task_end
    )
    for before, after in zip(saved[0][0], saved[1][0], strict=True):
        assert np.array_equal(before, after)
    assert np.array_equal(saved[0][1], saved[1][1])
    for start, now in zip(initial[1], snapshot(model.task_variables(1)), strict=True):
        assert not np.array_equal(start, now)  # column 1 did train


# ------------------------------------------------------------ configuration


def test_lateral_layer_config_round_trip():
    layer = LateralConv2D(5, 3, num_laterals=2, lateral_channels=2, name="lateral")
    config = layer.get_config()
    clone = LateralConv2D.from_config(config)
    assert clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer)
    )
    assert isinstance(restored, LateralConv2D)
    assert restored.get_config() == config
    inputs = [images(2, (5, 5, 4), seed) for seed in range(3)]
    layer.build([a.shape for a in inputs])
    restored.build([a.shape for a in inputs])
    restored.set_weights(layer.get_weights())
    np.testing.assert_array_equal(layer(inputs).numpy(), restored(inputs).numpy())


def test_weights_initialised_like_the_baselines():
    layer = LateralConv2D(8, 3, num_laterals=2, lateral_channels=4)
    layer.build([(None, 5, 5, 16)] * 3)
    assert np.all(layer.bias.numpy() == np.float32(0.2))
    assert all(np.all(b.numpy() == np.float32(0.2)) for b in layer.adapter_biases)
    kernels = [layer.kernel, *layer.alphas, *layer.adapter_kernels]
    kernels += layer.lateral_kernels
    for kernel in kernels:
        assert np.all(np.abs(kernel.numpy()) <= 2 * 0.05 + 1e-6)
    # Each lateral has its own random values.
    first, second = (k.numpy() for k in layer.adapter_kernels)
    assert not np.array_equal(first, second)


def test_no_adapter_channels_is_a_config_error():
    config = ModelConfig(
        name="prognn",
        conv=(ConvSpec(4), ConvSpec(4)),
        fc_hidden=(8,),
        prognn=ProgNNOptions(lateral_reduction=4.0),
    )
    model = model_with_tasks(config, (8, 8, 3), (2,))
    with pytest.raises(ConfigError, match="no channels"):
        model.add_task(2)  # int(4 / (4.0 * 2)) = 0
    assert model.num_tasks == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(filters=0, kernel_size=3),
        dict(filters=4, kernel_size=0),
        dict(filters=4, kernel_size=3, num_laterals=-1),
        dict(filters=4, kernel_size=3, num_laterals=1, lateral_channels=0),
        dict(filters=4, kernel_size=3, num_laterals=1),
    ],
)
def test_lateral_layer_rejects_bad_sizes(kwargs):
    with pytest.raises(ValueError, match="Received"):
        LateralConv2D(**kwargs)


def test_lateral_layer_rejects_wrong_number_of_inputs():
    layer = LateralConv2D(4, 3, num_laterals=2, lateral_channels=2)
    with pytest.raises(ValueError, match="1 \\+ num_laterals = 3"):
        layer.build([(None, 5, 5, 3)] * 2)
