"""Tests of the tensor-factorisation baseline "TF" (Yang & Hospedales 2017).

The references are written in NumPy (float64), without TensorFlow: the
Tucker reconstruction as a chain of n-mode products and as one `np.einsum`,
and the stride-1 SAME convolution as an explicit zero-pad plus a loop over
the kernel offsets.
"""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from dfcnn_tf.config import ConvSpec, ModelConfig, TuckerOptions
from dfcnn_tf.data import Task
from dfcnn_tf.errors import ConfigError
from dfcnn_tf.layers import TuckerConv2D, TuckerFactors
from dfcnn_tf.models import tucker
from dfcnn_tf.models.stl import SingleTaskCNN
from dfcnn_tf.models.tucker import TensorFactorisedCNN
from dfcnn_tf.models.tucker_decomposition import (
    mode_product,
    truncation_rank,
    tucker_decompose,
    tucker_reconstruct,
    unfold,
)
from dfcnn_tf.presets import get_preset
from dfcnn_tf.registry import get_model_class
from dfcnn_tf.training import train_lifelong

RTOL = 1e-5
ATOL = 1e-5
SMALL_SHAPE = (8, 8, 3)
SMALL = ModelConfig(
    name="tf", conv=(ConvSpec(4, 3, 1), ConvSpec(6, 3, 2)), fc_hidden=(8,)
)


def relative_error(approx, exact):
    return np.linalg.norm(np.asarray(approx) - exact) / np.linalg.norm(exact)


def orthonormal(rows, cols, rng):
    return np.linalg.qr(rng.normal(size=(rows, cols)))[0]


def low_rank_tensor(dims, ranks, seed=0):
    rng = np.random.default_rng(seed)
    core = rng.normal(size=ranks)
    return tucker_reconstruct(
        core, [orthonormal(d, r, rng) for d, r in zip(dims, ranks, strict=True)]
    )


def np_conv2d_same(x, kernel):
    """Stride-1 SAME conv: `x (n, h, w, c_in)`, `kernel (k, k, c_in, c_out)`."""
    k = kernel.shape[0]
    pad = ((k - 1) // 2, k - 1 - (k - 1) // 2)
    padded = np.pad(x, ((0, 0), pad, pad, (0, 0)))
    n, h, w, _ = x.shape
    out = np.zeros((n, h, w, kernel.shape[3]))
    for a in range(k):
        for b in range(k):
            out += np.einsum(
                "nhwi,io->nhwo", padded[:, a : a + h, b : b + w], kernel[a, b]
            )
    return out


def numpy_factors(owner):
    return [np.asarray(owner.core, np.float64)] + [
        np.asarray(u, np.float64) for u in owner.factors
    ]


def snapshot(variables):
    return [np.array(v.numpy(), copy=True) for v in variables]


# ---------------------------------------------------------------- HOSVD


def test_unfold_and_mode_product_match_einsum():
    rng = np.random.default_rng(0)
    tensor, matrix = rng.normal(size=(2, 3, 4)), rng.normal(size=(5, 3))
    assert unfold(tensor, 1).shape == (3, 8)
    np.testing.assert_allclose(unfold(tensor, 1)[:, 0], tensor[0, :, 0])
    expected = np.einsum("ajc,ij->aic", tensor, matrix)
    np.testing.assert_allclose(mode_product(tensor, matrix, 1), expected)


def test_full_ranks_reconstruct_exactly():
    tensor = np.random.default_rng(1).normal(size=(3, 4, 2, 5, 6))
    core, factors = tucker_decompose(tensor, 0.0)
    assert core.shape == (3, 4, 2, 5, 6)
    for factor in factors:
        np.testing.assert_allclose(
            factor.T @ factor, np.eye(factor.shape[1]), atol=1e-12
        )
    np.testing.assert_allclose(tucker_reconstruct(core, factors), tensor, atol=1e-12)


def test_known_multilinear_ranks_are_recovered():
    dims, ranks = (5, 6, 4, 7, 5), (2, 3, 2, 4, 3)
    tensor = low_rank_tensor(dims, ranks)
    core, factors = tucker_decompose(tensor, 1e-6)
    assert core.shape == ranks
    assert [f.shape for f in factors] == list(zip(dims, ranks, strict=True))
    assert relative_error(tucker_reconstruct(core, factors), tensor) < 1e-10


def decaying_tensor(seed=2):
    """A full-rank tensor whose mode spectra decay geometrically."""
    rng = np.random.default_rng(seed)
    dims = (6, 5, 7, 6)
    core = rng.normal(size=dims)
    scaled = [orthonormal(d, d, rng) * 0.6 ** np.arange(d) for d in dims]
    return tucker_reconstruct(core, scaled)


def test_truncation_respects_threshold_and_is_monotone():
    tensor = decaying_tensor()
    thresholds = [0.0, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8]
    ranks, errors = [], []
    for threshold in thresholds:
        core, factors = tucker_decompose(tensor, threshold)
        errors.append(relative_error(tucker_reconstruct(core, factors), tensor))
        ranks.append(core.shape)
        assert errors[-1] <= threshold + 1e-12
    assert ranks[0] == tensor.shape and ranks[-1] != ranks[0]
    for bigger, smaller in zip(ranks, ranks[1:], strict=False):
        assert all(s <= b for b, s in zip(bigger, smaller, strict=True))
    assert errors == sorted(errors)
    assert len(set(ranks)) > 3  # the thresholds really select different ranks


@pytest.mark.parametrize(
    ("budget", "rank"), [(0, 3), (1, 2), (4.9, 2), (5, 1), (99, 1)]
)
def test_truncation_rank(budget, rank):
    assert truncation_rank(np.array([9.0, 4.0, 1.0]), budget) == rank


@pytest.mark.parametrize("threshold", [-0.1, 1.0])
def test_decompose_rejects_bad_threshold(threshold):
    with pytest.raises(ValueError, match=f"error_threshold={threshold}"):
        tucker_decompose(np.ones((2, 2)), threshold)


def test_reconstruct_rejects_mismatched_factors():
    with pytest.raises(ValueError, match="one factor per core axis"):
        tucker_reconstruct(np.ones((2, 2)), [np.ones((3, 2))])
    with pytest.raises(ValueError, match=r"factor 1 must have shape \(I, 2\)"):
        tucker_reconstruct(np.ones((2, 2)), [np.ones((3, 2)), np.ones((3, 3))])


# ---------------------------------------------------------------- layers


def make_layer(k, c_in=3, c_out=4, ranks=None, seed=0):
    """A built `TuckerConv2D` on fresh factors, every weight random."""
    ranks = ranks or (min(k, 2), min(k, 3), 2, 3, 2)
    owner = TuckerFactors(k, c_in, c_out, ranks, name="factors")
    layer = TuckerConv2D(owner, name="tfconv")
    layer.build((None, 7, 6, c_in))
    rng = np.random.default_rng(seed)
    for variable in layer.weights:
        variable.assign(rng.uniform(-1, 1, variable.shape).astype(np.float32))
    return layer


@pytest.mark.parametrize("k", [1, 3, 4, 5])
def test_layer_matches_numpy(k):
    layer = make_layer(k)
    core, u1, u2, u3, u4 = numpy_factors(layer.factors)
    u5 = np.asarray(layer.task_factor, np.float64)
    kernel = np.einsum("abcde,ia,jb,kc,ld,e->ijkl", core, u1, u2, u3, u4, u5)
    chained = tucker_reconstruct(core, [u1, u2, u3, u4, u5[None]])[..., 0]
    np.testing.assert_allclose(kernel, chained, atol=1e-12)
    assert kernel.shape == (k, k, 3, 4)
    np.testing.assert_allclose(layer.generate_kernel(), kernel, rtol=RTOL, atol=ATOL)

    x = np.random.default_rng(1).normal(size=(2, 7, 6, 3)).astype(np.float32)
    bias = np.asarray(layer.bias, np.float64)
    expected = np.maximum(np_conv2d_same(x.astype(np.float64), kernel) + bias, 0)
    assert (expected == 0).any() and (expected > 0).any()
    np.testing.assert_allclose(layer(x), expected, rtol=RTOL, atol=ATOL)


def test_weight_shapes_and_ownership():
    layer = make_layer(3, ranks=(2, 3, 2, 4, 5))
    owner = layer.factors
    assert tuple(owner.core.shape) == (2, 3, 2, 4, 5)
    assert [tuple(u.shape) for u in owner.factors] == [(3, 2), (3, 3), (3, 2), (4, 4)]
    assert tuple(layer.task_factor.shape) == (5,) and tuple(layer.bias.shape) == (4,)
    other = TuckerConv2D(owner, name="other")
    other.build((None, 5, 5, 3))
    assert other.factors is owner and owner.core is layer.factors.core
    assert not {id(w) for w in layer.task_weights} & {id(w) for w in other.task_weights}
    np.testing.assert_array_equal(other.bias, np.full(4, 0.2, np.float32))


def test_layer_validation():
    with pytest.raises(ValueError, match="TuckerFactors layer"):
        TuckerConv2D(np.zeros(3))
    with pytest.raises(ValueError, match=r"ranks=\(4, 3, 2, 3, 2\)"):
        TuckerFactors(3, 3, 4, (4, 3, 2, 3, 2))
    with pytest.raises(ValueError, match="needs 5 ranks"):
        TuckerFactors(3, 3, 4, (2, 2, 2, 2))
    with pytest.raises(ValueError, match="filters=0"):
        TuckerFactors(3, 3, 0, (2, 2, 2, 2, 2))
    with pytest.raises(ValueError, match="3 input channels"):
        TuckerConv2D(TuckerFactors(3, 3, 4, (2, 2, 2, 2, 2))).build((None, 5, 5, 2))


def test_config_round_trip():
    layer = make_layer(3)
    config = layer.get_config()
    rebuilt = TuckerConv2D.from_config(config)
    assert rebuilt.get_config() == config
    assert rebuilt.factors.get_config() == layer.factors.get_config()
    rebuilt.build((None, 7, 6, 3))
    for target, source in zip(rebuilt.weights, layer.weights, strict=True):
        target.assign(source)
    x = np.random.default_rng(2).normal(size=(1, 7, 6, 3)).astype(np.float32)
    np.testing.assert_array_equal(rebuilt(x), layer(x))
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer.factors)
    )
    assert isinstance(restored, TuckerFactors) and restored.ranks == layer.factors.ranks


# ---------------------------------------------------------------- model


def small_model(num_tasks=3, seed=0, config=SMALL):
    keras.utils.set_random_seed(seed)
    model = TensorFactorisedCNN(config, SMALL_SHAPE)
    for num_classes in (3, 5, 2, 4)[:num_tasks]:
        model.add_task(num_classes)
    return model


def test_registered_as_tf():
    assert get_model_class("tf") is TensorFactorisedCNN


def test_cifar100_parameter_count():
    keras.utils.set_random_seed(0)
    model = TensorFactorisedCNN(
        get_preset("cifar100_10").experiment("tf").model, (32, 32, 3)
    )
    for _ in range(10):
        model.add_task(10)
    shapes = [(3, 3, 3, 32), (3, 3, 32, 32), (3, 3, 32, 64), (3, 3, 64, 64)]
    # a random tensor has full multilinear rank: the core is as big as W
    assert [f.ranks for f in model.factors] == [(*s, 10) for s in shapes]
    core = sum(int(np.prod(s)) * 10 for s in shapes)
    factors = sum(sum(d * d for d in s) for s in shapes)
    per_task = 4 * 10 + (32 + 32 + 64 + 64) + (8 * 8 * 64 * 64 + 64) + (64 * 10 + 10)
    assert model.count_params() == core + factors + 10 * per_task == 3_301_125


def test_initial_kernels_look_like_baseline_init():
    model = small_model()
    for task_id in range(3):
        for kernel in model.task_kernels(task_id):
            assert 0.035 < float(np.std(kernel)) < 0.05  # truncated normal 0.05
            assert float(np.max(np.abs(kernel))) <= 0.1 + 1e-4


def test_task_kernels_match_reconstruction():
    model = small_model()
    for i, owner in enumerate(model.factors):
        core, *shared = numpy_factors(owner)
        rows = np.stack([model.conv_layers(t)[i].task_factor.numpy() for t in range(3)])
        stacked = tucker_reconstruct(core, [*shared, rows.astype(np.float64)])
        for task_id in range(3):
            kernel = model.task_kernels(task_id)[i]
            np.testing.assert_allclose(
                kernel, stacked[..., task_id], rtol=RTOL, atol=ATOL
            )


def test_shared_factors_are_one_object_per_layer():
    model = small_model()
    shared = {id(v) for v in model.shared_variables}
    owners = {id(w) for owner in model.factors for w in owner.weights}
    assert shared == owners and len(shared) == 2 * 5
    seen = []
    for task_id in range(3):
        for i, layer in enumerate(model.conv_layers(task_id)):
            assert layer.factors is model.factors[i]
        tower_ids = {id(v) for v in model.towers[task_id].trainable_variables}
        assert shared <= tower_ids
        own = model.task_variables(task_id)
        assert len(own) == 2 * 2 + 4  # (u5, bias) per conv + two Dense layers
        assert not {id(v) for v in own} & shared
        seen.append({id(v) for v in own})
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])


@pytest.mark.parametrize("task_id", [0, 2])
def test_every_trainable_variable_gets_a_gradient(task_id):
    model = small_model()
    x = np.random.default_rng(3).normal(size=(6, *SMALL_SHAPE)).astype(np.float32)
    y = np.arange(6) % 2
    variables = model.training_variables(task_id)
    with tf.GradientTape() as tape:
        logits = model(x, task_id, training=False)
        loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
    for variable, grad in zip(variables, tape.gradient(loss, variables), strict=True):
        assert grad is not None, variable.path
        assert np.any(np.asarray(grad) != 0), variable.path


def synthetic_task(task_id, num_classes=3, seed=0):
    rng = np.random.default_rng(seed + task_id)

    def split(n):
        x = rng.normal(size=(n, *SMALL_SHAPE)).astype("float32")
        return x, rng.integers(0, num_classes, n).astype("int64")

    classes = tuple(range(task_id * num_classes, (task_id + 1) * num_classes))
    return Task(task_id, classes, *split(20), *split(6), *split(6))


def test_lifelong_training_keeps_earlier_tasks_bit_identical():
    keras.utils.set_random_seed(0)
    model = TensorFactorisedCNN(SMALL, SMALL_SHAPE)
    saved = {}

    def on_task_end(task_id, rows):
        saved[task_id] = {
            "tasks": [snapshot(model.task_variables(t)) for t in range(task_id + 1)],
            "shared": snapshot(model.shared_variables),
        }

    train = dataclasses.replace(
        get_preset("cifar100_10_smoke").train, epochs_per_task=2, learning_rate=1e-3
    )
    tasks = [synthetic_task(t) for t in range(3)]
    train_lifelong(model, tasks, train, on_task_end=on_task_end)
    for earlier, later in ((0, 1), (0, 2), (1, 2)):
        before, after = saved[earlier]["tasks"][earlier], saved[later]["tasks"][earlier]
        assert all(np.array_equal(b, a) for b, a in zip(before, after, strict=True))
    for task_id in (1, 2):  # every shared core and factor moved with each task
        pairs = zip(saved[task_id - 1]["shared"], saved[task_id]["shared"], strict=True)
        assert all(not np.array_equal(b, a) for b, a in pairs)


def test_tasks_beyond_the_slots_start_from_the_mean_row(monkeypatch):
    monkeypatch.setattr(tucker, "TASK_SLOTS", 2)
    model = small_model(num_tasks=4)
    assert all(owner.ranks[-1] == 2 for owner in model.factors)
    for i in range(len(model.factors)):
        rows = [model.conv_layers(t)[i].task_factor.numpy() for t in range(4)]
        for task_id in (2, 3):
            mean = np.mean(rows[:task_id], axis=0)
            assert not np.array_equal(rows[task_id], mean)
            np.testing.assert_allclose(
                rows[task_id], mean, atol=6 * tucker.NEW_TASK_NOISE
            )


@pytest.mark.parametrize("threshold", [-0.5, 1.0])
def test_bad_threshold_is_a_config_error(threshold):
    config = dataclasses.replace(SMALL, tucker=TuckerOptions(threshold))
    with pytest.raises(ConfigError, match="error_threshold"):
        TensorFactorisedCNN(config, SMALL_SHAPE)


# ---------------------------------------------------------------- distillation


def random_stl(seed=0, conv=SMALL.conv):
    keras.utils.set_random_seed(seed)
    stl = SingleTaskCNN(dataclasses.replace(SMALL, name="stl", conv=conv), SMALL_SHAPE)
    for num_classes in (3, 5, 2):
        stl.add_task(num_classes)
    rng = np.random.default_rng(seed)
    for task_id in range(3):
        for variable in stl.task_variables(task_id):
            value = rng.normal(scale=0.3, size=variable.shape)
            variable.assign(value.astype(np.float32))
    return stl


def stl_kernels(stl, layer_index):
    convs = [
        [layer for layer in tower.layers if isinstance(layer, keras.layers.Conv2D)]
        for tower in stl.towers
    ]
    return np.stack([np.asarray(c[layer_index].kernel) for c in convs], axis=-1)


def test_from_stl_reproduces_stl_logits():
    stl = random_stl()
    model = TensorFactorisedCNN.from_stl(SMALL, SMALL_SHAPE, stl)
    assert model.num_tasks == 3
    x = np.random.default_rng(4).normal(size=(5, *SMALL_SHAPE)).astype(np.float32)
    for task_id in range(3):
        expected = np.asarray(stl(x, task_id))
        logits = np.asarray(model(x, task_id))
        assert logits.shape == expected.shape
        assert relative_error(logits, expected) < 1e-3
    assert model.count_params() > 0


def set_low_rank_kernels(stl, noise=0.05, seed=5):
    """Gives every STL conv layer stacked kernels of about half multilinear rank."""
    rng = np.random.default_rng(seed)
    for i in range(len(stl.config.conv)):
        shape = stl_kernels(stl, i).shape  # (k, k, c_in, c_out, T)
        ranks = tuple(max(d // 2, 1) for d in shape)
        stacked = low_rank_tensor(shape, ranks, seed=seed + i)
        stacked = stacked / np.std(stacked) * 0.3 + rng.normal(scale=noise, size=shape)
        for task_id, tower in enumerate(stl.towers):
            convs = [la for la in tower.layers if isinstance(la, keras.layers.Conv2D)]
            convs[i].kernel.assign(stacked[..., task_id].astype(np.float32))


def test_from_stl_truncated_ranks_respect_the_threshold():
    conv = (ConvSpec(8, 3, 1), ConvSpec(12, 3, 2))
    config = dataclasses.replace(SMALL, conv=conv, tucker=TuckerOptions(0.3))
    stl = random_stl(conv=conv)
    set_low_rank_kernels(stl)
    model = TensorFactorisedCNN.from_stl(config, SMALL_SHAPE, stl)
    full = [(3, 3, 3, 8, 3), (3, 3, 8, 12, 3)]
    for owner, shape in zip(model.factors, full, strict=True):
        assert all(r <= d for r, d in zip(owner.ranks, shape, strict=True))
        assert owner.ranks != shape
    for i in range(2):
        stacked = np.stack([model.task_kernels(t)[i] for t in range(3)], axis=-1)
        assert relative_error(stacked, stl_kernels(stl, i)) <= 0.3


def test_from_stl_rejects_other_models_and_sizes():
    with pytest.raises(ConfigError, match="SingleTaskCNN"):
        TensorFactorisedCNN.from_stl(SMALL, SMALL_SHAPE, small_model(1))
    wider = dataclasses.replace(SMALL, conv=(ConvSpec(5, 3, 1), ConvSpec(6, 3, 2)))
    with pytest.raises(ConfigError, match="initial kernel"):
        TensorFactorisedCNN.from_stl(wider, SMALL_SHAPE, random_stl())
