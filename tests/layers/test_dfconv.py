"""Tests of `KnowledgeBase` and `DFConv2D` against the paper's Eq. 1-2.

See docs/method.md, section 'The DF-CNN layer'.

The reference below is written from the equations in NumPy (float64), without
TensorFlow:

- Eq. 1, transposed convolution: TF's `conv2d_transpose` with stride `s` and
  'SAME' padding is the adjoint of a SAME `conv2d` of a `k x k` input by a
  `p x p` filter. That conv pads `max((ceil(k / s) - 1) * s + p - k, 0)` in
  total, `pad_top = total // 2` before, so the transpose scatters
  `L[i, j, :] @ V[a, b]^T` to `(i * s + a - pad_top, j * s + b - pad_top)`.
- Eq. 2, stride-1 SAME convolution: zero-pad `(k - 1) // 2` before and the
  rest after, then sum over the kernel offsets.
"""

import math

import keras
import numpy as np
import pytest

from dfcnn_tf.layers import DFConv2D, KnowledgeBase

RTOL = 1e-5
ATOL = 1e-5
C_IN = 3
C_OUT = 4
C_KB = 3

# (variant, knowledge-base depth, transform_channels c)
VARIANTS = [
    ("dfcnn", 1, 4),
    ("direct", 1, None),
    ("tc2", 2, 4),
    ("tc2", 3, 5),
]
VARIANT_IDS = ["dfcnn", "direct", "tc2-d2", "tc2-d3"]

# (kb, deconv stride s, transform size p); the kernel size is (kb - 1) * s + 1
SIZES = [
    (2, 2, 3),  # the CIFAR layers: k = 3
    (2, 2, 5),  # filter wider than the output: padding 4, pad_top 2
    (3, 2, 5),  # k = 5, as Office-Home layer 2
    (6, 2, 3),  # k = 11, as Office-Home layer 1
    (2, 3, 3),  # k = 4: an even kernel, uneven SAME padding in Eq. 2
    (2, 2, 4),  # even filter: odd deconv padding 3, pad_top 1
    (3, 1, 2),  # stride 1: odd deconv padding 1, pad_top 0
]
SIZE_IDS = [f"kb{kb}-s{s}-p{p}" for kb, s, p in SIZES]


# ---------------------------------------------------------------- reference


def np_conv2d_transpose(kb, deconv_filter, stride, size):
    """Eq. 1 transposed conv as an explicit scatter.

    Args:
        kb: `(d, kb, kb, c_kb)` knowledge base.
        deconv_filter: `(p, p, c, c_kb)` filter `V` (out channel c, in c_kb).
        stride: deconvolution stride `s`.
        size: output size `k`.

    Returns:
        `(d, k, k, c)` array.
    """
    depth, kb_size, _, _ = kb.shape
    p = deconv_filter.shape[0]
    total = max((math.ceil(size / stride) - 1) * stride + p - size, 0)
    pad_top = total // 2
    out = np.zeros((depth, size, size, deconv_filter.shape[2]))
    for i in range(kb_size):
        for j in range(kb_size):
            for a in range(p):
                for b in range(p):
                    h = i * stride + a - pad_top
                    w = j * stride + b - pad_top
                    if 0 <= h < size and 0 <= w < size:
                        out[:, h, w, :] += kb[:, i, j, :] @ deconv_filter[a, b].T
    return out


def np_conv2d_same(x, kernel):
    """Stride-1 SAME conv: `x (n, h, w, c_in)`, `kernel (k, k, c_in, c_out)`."""
    k = kernel.shape[0]
    pad_top = (k - 1) // 2
    pad = (pad_top, k - 1 - pad_top)
    padded = np.pad(x, ((0, 0), pad, pad, (0, 0)))
    n, h, w, _ = x.shape
    out = np.zeros((n, h, w, kernel.shape[3]))
    for a in range(k):
        for b in range(k):
            patch = padded[:, a : a + h, b : b + w, :]
            out += np.einsum("nhwi,io->nhwo", patch, kernel[a, b])
    return out


def np_deconvolve(w, stride, size, relu=False):
    """Eq. 1: `D = act(deconv(L, V) + b_D)`, shape `(d, k, k, c)`."""
    deconv = np_conv2d_transpose(w["kb"], w["deconv_filter"], stride, size)
    deconv = deconv + w["deconv_bias"]
    return np.maximum(deconv, 0.0) if relu else deconv


def np_kernel(w, variant, deconv):
    """Eq. 2 contraction of `D (d, k, k, c)` into `W (k, k, c_in, c_out)`."""
    if variant == "dfcnn":
        return np.einsum("hwk,kio->hwio", deconv[0], w["contraction"])
    if variant == "direct":
        k = deconv.shape[1]
        return deconv[0].reshape(k, k, C_IN, C_OUT)
    return np.einsum(
        "dhwc,di,co->hwio", deconv, w["depth_contraction"], w["channel_contraction"]
    )


def np_layer(w, x, kernel):
    """Eq. 2: `relu(conv2d(x, W) + b)`."""
    return np.maximum(np_conv2d_same(x, kernel) + w["bias"], 0.0)


# ---------------------------------------------------------------- helpers


def make_layer(variant, depth, channels, kb=2, stride=2, p=3, **kwargs):
    """A built `DFConv2D` (input channels C_IN) on a fresh knowledge base."""
    base = KnowledgeBase(kb, C_KB, depth=depth, name="kb")
    layer = DFConv2D(
        C_OUT,
        (kb - 1) * stride + 1,
        base,
        transform_size=p,
        transform_channels=channels,
        variant=variant,
        deconv_stride=stride,
        name="dfconv",
        **kwargs,
    )
    layer.build((None, 9, 8, C_IN))
    return layer


def named_weights(layer):
    """The layer's variables by role, the shared knowledge base included."""
    names = ["deconv_filter", "deconv_bias", "bias"]
    names += {
        "dfcnn": ["contraction"],
        "direct": [],
        "tc2": ["depth_contraction", "channel_contraction"],
    }[layer.variant]
    variables = {name: getattr(layer, name) for name in names}
    variables["kb"] = layer.knowledge_base.kernel
    return variables


def randomize(layer, seed=0):
    """Assigns random values to every weight; returns them as float64 arrays."""
    rng = np.random.default_rng(seed)
    variables = named_weights(layer)
    assert {id(v) for v in variables.values()} == {id(v) for v in layer.weights}
    values = {}
    for name, variable in variables.items():
        value = rng.uniform(-1.0, 1.0, size=variable.shape).astype(np.float32)
        variable.assign(value)
        values[name] = value.astype(np.float64)
    return values


def random_input(seed=1, shape=(2, 9, 8, C_IN)):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


# ---------------------------------------------------------------- Eq. 1-2


@pytest.mark.parametrize(("kb", "stride", "p"), SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize(("variant", "depth", "channels"), VARIANTS, ids=VARIANT_IDS)
def test_matches_numpy_reference(variant, depth, channels, kb, stride, p):
    layer = make_layer(variant, depth, channels, kb, stride, p)
    w = randomize(layer)
    x = random_input()
    k = (kb - 1) * stride + 1

    deconv = np_deconvolve(w, stride, k)
    c = C_IN * C_OUT if variant == "direct" else channels
    assert deconv.shape == (depth, k, k, c)
    np.testing.assert_allclose(layer.deconvolve(), deconv, rtol=RTOL, atol=ATOL)

    kernel = np_kernel(w, variant, deconv)
    assert kernel.shape == (k, k, C_IN, C_OUT)
    np.testing.assert_allclose(layer.generate_kernel(), kernel, rtol=RTOL, atol=ATOL)

    expected = np_layer(w, x.astype(np.float64), kernel)
    np.testing.assert_allclose(layer(x), expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(("kb", "stride", "p"), SIZES[:3], ids=SIZE_IDS[:3])
@pytest.mark.parametrize(("variant", "depth", "channels"), VARIANTS, ids=VARIANT_IDS)
def test_deconv_activation_matches_numpy(variant, depth, channels, kb, stride, p):
    layer = make_layer(
        variant, depth, channels, kb, stride, p, deconv_activation="relu"
    )
    w = randomize(layer, seed=3)
    k = (kb - 1) * stride + 1
    linear = np_deconvolve(w, stride, k)
    assert (linear < 0).any()  # otherwise the activation would change nothing

    deconv = np_deconvolve(w, stride, k, relu=True)
    np.testing.assert_allclose(layer.deconvolve(), deconv, rtol=RTOL, atol=ATOL)
    kernel = np_kernel(w, variant, deconv)
    np.testing.assert_allclose(layer.generate_kernel(), kernel, rtol=RTOL, atol=ATOL)
    x = random_input(seed=4)
    expected = np_layer(w, x.astype(np.float64), kernel)
    np.testing.assert_allclose(layer(x), expected, rtol=RTOL, atol=ATOL)


def test_reference_transpose_is_adjoint_of_same_conv():
    """Checks the reference itself: <deconv(L), X> == <L, conv_s(X)>."""
    rng = np.random.default_rng(5)
    kb, stride, p, k = 3, 2, 5, 5
    base = rng.normal(size=(1, kb, kb, 2))
    filt = rng.normal(size=(p, p, 3, 2))
    x = rng.normal(size=(1, k, k, 3))
    pad_top = (max((math.ceil(k / stride) - 1) * stride + p - k, 0)) // 2
    padded = np.pad(x, ((0, 0), (pad_top, p), (pad_top, p), (0, 0)))
    conv = np.zeros((1, kb, kb, 2))
    for i in range(kb):
        for j in range(kb):
            patch = padded[0, i * stride : i * stride + p, j * stride : j * stride + p]
            conv[0, i, j] = np.einsum("abc,abck->k", patch, filt)
    lhs = np.sum(np_conv2d_transpose(base, filt, stride, k) * x)
    np.testing.assert_allclose(lhs, np.sum(base * conv), rtol=1e-10)


# ---------------------------------------------------------------- weights


@pytest.mark.parametrize(("variant", "depth", "channels"), VARIANTS, ids=VARIANT_IDS)
def test_weight_shapes(variant, depth, channels):
    layer = make_layer(variant, depth, channels, kb=2, stride=2, p=3)
    c = C_IN * C_OUT if variant == "direct" else channels
    expected = {
        "kb": (depth, 2, 2, C_KB),
        "deconv_filter": (3, 3, c, C_KB),
        "deconv_bias": (c,),
        "bias": (C_OUT,),
        "contraction": (channels, C_IN, C_OUT),
        "depth_contraction": (depth, C_IN),
        "channel_contraction": (channels, C_OUT),
    }
    shapes = {name: tuple(v.shape) for name, v in named_weights(layer).items()}
    assert shapes == {name: expected[name] for name in shapes}
    assert len(layer.weights) == len(shapes)


@pytest.mark.parametrize(("variant", "depth", "channels"), VARIANTS, ids=VARIANT_IDS)
def test_task_weights_exclude_knowledge_base(variant, depth, channels):
    layer = make_layer(variant, depth, channels)
    kb_kernel = layer.knowledge_base.kernel
    task_ids = {id(w) for w in layer.task_weights}
    assert id(kb_kernel) not in task_ids
    assert task_ids | {id(kb_kernel)} == {id(w) for w in layer.weights}
    assert len(task_ids) == len(layer.weights) - 1


def test_layers_share_one_knowledge_base_variable():
    base = KnowledgeBase(2, C_KB, name="kb")
    first = DFConv2D(C_OUT, 3, base, transform_channels=4, name="task0")
    second = DFConv2D(5, 3, base, transform_channels=6, name="task1")
    first.build((None, 8, 8, C_IN))
    kernel = base.kernel
    second.build((None, 8, 8, 2))

    assert first.knowledge_base is base and second.knowledge_base is base
    assert base.kernel is kernel  # not re-created by the second build
    assert len(base.weights) == 1
    assert first.knowledge_base.kernel is second.knowledge_base.kernel
    shared = [w for w in second.weights if w is kernel]
    assert len(shared) == 1
    assert not {id(w) for w in first.task_weights} & {
        id(w) for w in second.task_weights
    }

    # an update through one layer is seen by the other
    kernel.assign(np.full(kernel.shape, 0.5, dtype=np.float32))
    np.testing.assert_array_equal(second.knowledge_base.kernel, 0.5)


def released_limit(n):
    """TF1 Glorot-uniform limit of a `(1, 1, 1, n)` variable, from its fans.

    TF1 `_compute_fans` of a 4-D shape multiplies the leading dims into a
    receptive field (1 here): fan_in = shape[-2] = 1, fan_out = shape[-1] = n;
    the limit is sqrt(6 / (fan_in + fan_out)).
    """
    fan_in, fan_out = 1 * 1 * 1, 1 * 1 * n
    return math.sqrt(6.0 / (fan_in + fan_out))


def test_released_limits_are_the_quoted_values():
    assert released_limit(32) == pytest.approx(0.4264, abs=1e-4)
    assert released_limit(64) == pytest.approx(0.3038, abs=1e-4)


@pytest.mark.parametrize(("variant", "depth", "channels"), VARIANTS, ids=VARIANT_IDS)
def test_biases_start_glorot_uniform_as_released(variant, depth, channels):
    layer = make_layer(variant, depth, channels)
    for weight in (layer.bias, layer.deconv_bias):
        values = np.asarray(weight)
        limit = released_limit(values.size)
        assert np.all(np.abs(values) <= limit)
        assert np.ptp(values) > 0  # drawn, not a constant


def test_released_bias_distribution_is_uniform_over_its_limit():
    # Many channels, so that the sample fills its range: U(-a, a) has mean 0,
    # variance a^2 / 3, and its extremes near +-a.
    keras.utils.set_random_seed(3)
    filters, channels = 4000, 3000
    base = KnowledgeBase(2, C_KB)
    layer = DFConv2D(filters, 3, base, transform_channels=channels)
    layer.build((None, 4, 4, 1))
    for values, n in ((layer.bias, filters), (layer.deconv_bias, channels)):
        values = np.asarray(values, dtype=np.float64)
        limit = released_limit(n)
        assert np.abs(values).max() <= limit
        assert np.abs(values).max() > 0.99 * limit
        assert values.mean() == pytest.approx(0.0, abs=0.05 * limit)
        assert values.var() == pytest.approx(limit**2 / 3, rel=0.1)
        # Not the limit Glorot-uniform gives a (n,) shape (sqrt(3 / n)).
        assert np.abs(values).max() > math.sqrt(3.0 / n) * 1.2


def test_biases_of_one_layer_are_independent_draws():
    layer = make_layer("dfcnn", 1, C_OUT)  # bias and deconv bias both (4,)
    assert not np.array_equal(layer.bias, layer.deconv_bias)


def test_constant_bias_initializers_still_reachable():
    layer = make_layer(
        "dfcnn",
        1,
        4,
        bias_initializer=keras.initializers.Constant(0.2),
        deconv_bias_initializer="glorot_uniform",
    )
    np.testing.assert_array_equal(layer.bias, np.full(C_OUT, 0.2, dtype=np.float32))
    assert np.all(np.abs(np.asarray(layer.deconv_bias)) <= math.sqrt(3.0 / 4))


# ---------------------------------------------------------------- validation


def test_kernel_size_mismatch_names_fields():
    base = KnowledgeBase(2, C_KB)
    with pytest.raises(ValueError, match="kernel_size") as info:
        DFConv2D(C_OUT, 5, base, transform_channels=4, deconv_stride=2)
    message = str(info.value)
    assert "knowledge_base.size" in message and "deconv_stride" in message
    assert "kernel_size=5" in message


def test_unknown_variant_lists_valid_ones():
    base = KnowledgeBase(2, C_KB)
    with pytest.raises(ValueError, match="variant") as info:
        DFConv2D(C_OUT, 3, base, transform_channels=4, variant="tc3")
    for name in ("dfcnn", "direct", "tc2", "tc3"):
        assert name in str(info.value)


@pytest.mark.parametrize(
    "field",
    ["filters", "kernel_size", "transform_size", "deconv_stride", "transform_channels"],
)
@pytest.mark.parametrize("value", [0, -1])
def test_non_positive_sizes_raise(field, value):
    kwargs = {
        "filters": C_OUT,
        "kernel_size": 3,
        "transform_size": 3,
        "deconv_stride": 2,
        "transform_channels": 4,
    }
    kwargs[field] = value
    with pytest.raises(ValueError, match=f"{field}={value}"):
        DFConv2D(knowledge_base=KnowledgeBase(2, C_KB), **kwargs)


def test_direct_rejects_transform_channels():
    base = KnowledgeBase(2, C_KB)
    with pytest.raises(ValueError, match="transform_channels=4"):
        DFConv2D(C_OUT, 3, base, transform_channels=4, variant="direct")


@pytest.mark.parametrize("variant", ["dfcnn", "direct"])
def test_depth_needs_tc2(variant):
    base = KnowledgeBase(2, C_KB, depth=2)
    channels = None if variant == "direct" else 4
    with pytest.raises(ValueError, match=r"knowledge_base\.depth=2"):
        DFConv2D(C_OUT, 3, base, transform_channels=channels, variant=variant)


def test_knowledge_base_argument_must_be_a_knowledge_base():
    with pytest.raises(ValueError, match="knowledge_base"):
        DFConv2D(C_OUT, 3, np.zeros((1, 2, 2, 3)), transform_channels=4)


@pytest.mark.parametrize("field", ["size", "channels", "depth"])
@pytest.mark.parametrize("value", [0, -2])
def test_knowledge_base_non_positive_sizes_raise(field, value):
    kwargs = {"size": 2, "channels": C_KB, "depth": 1, field: value}
    with pytest.raises(ValueError, match=f"{field}={value}"):
        KnowledgeBase(**kwargs)


# ---------------------------------------------------------------- serialization


def test_knowledge_base_config_round_trip():
    base = KnowledgeBase(3, 5, depth=2, initializer="he_normal", name="kb")
    base.build()
    config = base.get_config()
    rebuilt = KnowledgeBase.from_config(config)
    assert rebuilt.get_config() == config
    assert (rebuilt.size, rebuilt.channels, rebuilt.depth) == (3, 5, 2)
    rebuilt.build()
    assert rebuilt.kernel.shape == base.kernel.shape
    rebuilt.kernel.assign(base.kernel)
    np.testing.assert_array_equal(rebuilt.call(), base.call())

    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(base)
    )
    assert isinstance(restored, KnowledgeBase)
    assert restored.get_config() == config


@pytest.mark.parametrize(("variant", "depth", "channels"), VARIANTS, ids=VARIANT_IDS)
def test_dfconv_config_round_trip(variant, depth, channels):
    layer = make_layer(
        variant, depth, channels, kb=3, stride=2, p=3, deconv_activation="relu"
    )
    randomize(layer)
    config = layer.get_config()
    rebuilt = DFConv2D.from_config(config)
    assert rebuilt.get_config() == config
    assert isinstance(rebuilt.knowledge_base, KnowledgeBase)
    assert rebuilt.knowledge_base.shape == layer.knowledge_base.shape

    rebuilt.build((None, 9, 8, C_IN))
    assert [w.name for w in rebuilt.weights] == [w.name for w in layer.weights]
    for target, source in zip(rebuilt.weights, layer.weights, strict=True):
        target.assign(source)
    x = random_input(seed=7)
    np.testing.assert_array_equal(rebuilt(x), layer(x))
    np.testing.assert_array_equal(rebuilt.deconvolve(), layer.deconvolve())
