"""Eq. 1's transposed convolution of a knowledge base, as matrix products.

`conv2d_transpose(L, V, stride s, SAME)` with a `kb x kb` input `L`, a
`p x p` filter `V` and a `k x k` output scatters `L[i, j, :] @ V[a, b]^T` to
the output position `(h, w) = (s * i + a - pad, s * j + b - pad)`, where `pad`
is the top/left padding of the SAME convolution it is the adjoint of. Which
input reaches which output through which filter tap depends only on the
sizes, so it is a constant 0/1 matrix `G` of shape `(k*k*p*p, kb*kb)`:

    patches = G @ L          # (k*k*p*p, c_kb): L's entries, per output and tap
    D = patches' @ V'        # (k*k, p*p*c_kb) @ (p*p*c_kb, c) -> (k*k, c)

(batched over the `d` slices of a `tc2` knowledge base).

For a knowledge base of a few pixels this is far cheaper than a convolution
primitive (most of whose cost is fixed set-up), forward and backward, and it
gives the same numbers as `tf.nn.conv2d_transpose` (a test checks).
"""

import numpy as np
import tensorflow as tf


def scatter_matrix(kb_size, kernel_size, stride, transform_size):
    """The 0/1 matrix `G` of the transposed convolution.

    Args:
        kb_size: spatial size `kb` of the knowledge base (the input).
        kernel_size: spatial size `k` of the output.
        stride: stride `s` of the transposed convolution.
        transform_size: spatial size `p` of the filter `V`.

    Returns:
        A float32 array of shape `(k*k*p*p, kb*kb)`; row `(h, w, a, b)` has a
        1 in column `(i, j)` if output `(h, w)` receives input `(i, j)`
        through filter tap `(a, b)`.
    """
    k, p = kernel_size, transform_size
    pad = max((kb_size - 1) * stride + p - k, 0) // 2
    taps = np.zeros((k, kb_size, p), np.float32)  # one spatial axis: [h, i, a]
    for h in range(k):
        for i in range(kb_size):
            a = h - stride * i + pad
            if 0 <= a < p:
                taps[h, i, a] = 1.0
    grid = np.einsum("hia,wjb->hwabij", taps, taps)
    return grid.reshape(k * k * p * p, kb_size * kb_size)


def transposed_conv(kb, deconv_filter, scatter):
    """`conv2d_transpose(kb, deconv_filter, SAME)` through the scatter matrix.

    Args:
        kb: the knowledge base `L`, `(d, kb, kb, c_kb)`.
        deconv_filter: the filter `V`, `(p, p, c, c_kb)`.
        scatter: `scatter_matrix(...)` for these sizes, `(k*k*p*p, kb*kb)`.

    Returns:
        `D` before bias and activation: `(k*k, c)` if `d == 1` (plain matrix
        products, cheaper than batched ones), else `(d, k*k, c)`.
    """
    depth, size, _, kb_channels = kb.shape
    p, _, channels, _ = deconv_filter.shape
    batch = () if depth == 1 else (depth,)
    # L: (d, kb, kb, c_kb) -> ([d,] kb*kb, c_kb); G @ L: ([d,] k*k*p*p, c_kb)
    patches = tf.matmul(scatter, tf.reshape(kb, (*batch, size * size, kb_channels)))
    patches = tf.reshape(patches, (*batch, -1, p * p * kb_channels))
    # V: (p, p, c, c_kb) -> (p, p, c_kb, c) -> (p*p*c_kb, c)
    flat_filter = tf.reshape(
        tf.transpose(deconv_filter, (0, 1, 3, 2)), (p * p * kb_channels, channels)
    )
    return tf.matmul(patches, flat_filter)
