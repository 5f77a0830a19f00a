"""The transposed convolution as matrix products equals `tf.nn.conv2d_transpose`
(and, through `test_dfconv.py`, the NumPy scatter of Eq. 1)."""

import numpy as np
import pytest
import tensorflow as tf

from dfcnn_tf.layers.deconv import scatter_matrix, transposed_conv

# (kb, stride s, filter p, depth d): the sizes of every preset and odd cases
SIZES = [(2, 2, 3, 1), (2, 2, 5, 1), (3, 2, 5, 2), (6, 2, 3, 1), (2, 3, 3, 1)]
SIZES += [(2, 2, 4, 3), (3, 1, 2, 1)]


@pytest.mark.parametrize(("kb", "stride", "p", "depth"), SIZES)
def test_matches_conv2d_transpose(kb, stride, p, depth):
    k = (kb - 1) * stride + 1
    rng = np.random.default_rng(kb * 100 + stride * 10 + p)
    knowledge = rng.normal(size=(depth, kb, kb, 5)).astype("float32")
    deconv_filter = rng.normal(size=(p, p, 7, 5)).astype("float32")
    expected = tf.nn.conv2d_transpose(
        knowledge, deconv_filter, (depth, k, k, 7), stride, padding="SAME"
    )
    scatter = scatter_matrix(kb, k, stride, p)
    actual = transposed_conv(knowledge, deconv_filter, scatter)
    np.testing.assert_allclose(
        np.reshape(actual, (depth, k, k, 7)), expected, rtol=1e-5, atol=1e-5
    )


def test_scatter_matrix_of_the_cifar_layers():
    # kb 2 -> k 3 with a 3x3 filter, stride 2, pad 1: output row h takes input
    # row i through tap a = h - 2 i + 1; the centre (1, 1) gets all four inputs
    scatter = scatter_matrix(2, 3, 2, 3).reshape(3, 3, 3, 3, 2, 2)
    assert scatter.sum() == 4 * 4  # each input reaches 2 x 2 outputs in range
    centre = scatter[1, 1]  # (a, b, i, j)
    assert set(zip(*np.nonzero(centre), strict=True)) == {
        (2, 2, 0, 0),
        (2, 0, 0, 1),
        (0, 2, 1, 0),
        (0, 0, 1, 1),
    }
