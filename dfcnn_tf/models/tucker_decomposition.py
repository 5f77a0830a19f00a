"""Truncated higher-order SVD (Tucker decomposition) in NumPy.

Used by the tensor-factorisation baseline "TF" (Yang & Hospedales, "Deep
Multi-task Representation Learning: A Tensor Factorisation Approach", ICLR
2017, section 3; docs/method.md, section 'Baselines') to choose the Tucker
ranks of each layer's stacked per-task weights and to initialise its factors.

For an N-way tensor `W` (De Lathauwer et al. 2000):

    U_n  = leading left singular vectors of the mode-n unfolding W_(n)
           (computed as eigenvectors of the small Gram matrix W_(n) W_(n)^T,
           whose eigenvalues are the squared singular values)
    G    = W x_1 U_1^T x_2 U_2^T ... x_N U_N^T
    W   ~= G x_1 U_1 x_2 U_2 ... x_N U_N

Rank rule. Truncated HOSVD satisfies
`||W - W_hat||^2 <= sum_n (energy of the singular values discarded in mode n)`.
To keep the relative Frobenius error `||W - W_hat|| / ||W||` below
`error_threshold`, each mode gets an equal share `threshold^2 ||W||^2 / N` of
the squared error and keeps the smallest rank whose discarded energy fits in
it. The guarantee holds for the whole tensor, not only per mode.
"""

import numpy as np


def unfold(tensor, mode):
    """Mode-n matricization.

    Args:
        tensor: an N-way array of shape `(I_1, ..., I_N)`.
        mode: the axis `n` whose fibres become the rows.

    Returns:
        An array of shape `(I_n, prod of the other I)`.
    """
    # (I_1, ..., I_N) -> (I_n, I_1, ..., I_N without I_n) -> (I_n, rest)
    return np.moveaxis(tensor, mode, 0).reshape(tensor.shape[mode], -1)


def mode_product(tensor, matrix, mode):
    """The n-mode product `tensor x_n matrix`.

    Args:
        tensor: an N-way array with `tensor.shape[mode] == J`.
        matrix: an array of shape `(I, J)`.
        mode: the axis `n` to contract.

    Returns:
        The tensor with axis `mode` of size `I`:
        `out[..., i, ...] = sum_j matrix[i, j] * tensor[..., j, ...]`.
    """
    # matrix (I, J) . tensor (..., J, ...) -> (I, ...) -> (..., I, ...)
    product = np.tensordot(matrix, tensor, axes=([1], [mode]))
    return np.moveaxis(product, 0, mode)


def left_singular(matrix):
    """Left singular vectors and squared singular values of a matrix.

    Args:
        matrix: an array of shape `(I, J)`.

    Returns:
        `(vectors, energy)`: `(I, I)` orthonormal columns and the `I` squared
        singular values, both in non-increasing order of the energy.
    """
    # (I, J) @ (J, I) -> (I, I): its eigenpairs are (sigma^2, u); I is small
    energy, vectors = np.linalg.eigh(matrix @ matrix.T)
    order = np.argsort(energy)[::-1]
    return vectors[:, order], np.maximum(energy[order], 0.0)


def truncation_rank(energy, budget):
    """Smallest rank whose discarded squared singular values sum to <= `budget`.

    Args:
        energy: non-increasing squared singular values of one unfolding.
        budget: the squared error this mode may discard.

    Returns:
        A rank in `[1, len(energy)]`.
    """
    energy = np.asarray(energy, dtype=np.float64)
    # tail[r] = energy discarded when keeping the first r singular values
    tail = np.concatenate([np.cumsum(energy[::-1])[::-1], [0.0]])
    fits = np.nonzero(tail <= budget)[0]
    return max(int(fits[0]), 1)


def tucker_decompose(tensor, error_threshold):
    """Truncated HOSVD with ranks chosen by a relative error threshold.

    Args:
        tensor: an N-way array (N >= 1), converted to float64.
        error_threshold: the largest relative Frobenius reconstruction error
            `||W - W_hat|| / ||W||` allowed, in `[0, 1)`; 0 keeps full ranks.

    Returns:
        `(core, factors)`: the core of shape `(r_1, ..., r_N)` and one factor
        `U_n` of shape `(I_n, r_n)` with orthonormal columns per mode.

    Raises:
        ValueError: if the tensor has no axes or a zero-sized axis, or the
            threshold is outside `[0, 1)`.
    """
    tensor = np.asarray(tensor, dtype=np.float64)
    if tensor.ndim == 0 or tensor.size == 0:
        raise ValueError(
            "tucker_decompose needs a tensor with at least one axis and no empty "
            f"axis. Received: tensor.shape={tensor.shape}"
        )
    if not 0 <= error_threshold < 1:
        raise ValueError(
            "tucker_decompose error_threshold must be in [0, 1). "
            f"Received: error_threshold={error_threshold}"
        )
    budget = error_threshold**2 * np.sum(tensor**2) / tensor.ndim
    factors = []
    for mode in range(tensor.ndim):
        vectors, energy = left_singular(unfold(tensor, mode))
        factors.append(vectors[:, : truncation_rank(energy, budget)])  # (I_n, r_n)
    core = tensor
    for mode, factor in enumerate(factors):
        core = mode_product(core, factor.T, mode)  # axis n: I_n -> r_n
    return core, factors


def tucker_reconstruct(core, factors):
    """The full tensor `G x_1 U_1 ... x_N U_N` of a Tucker decomposition.

    Args:
        core: the core, shape `(r_1, ..., r_N)`.
        factors: `N` matrices, `U_n` of shape `(I_n, r_n)`.

    Returns:
        An array of shape `(I_1, ..., I_N)`.

    Raises:
        ValueError: if the number of factors or a factor's rank does not
            match the core.
    """
    core = np.asarray(core)
    if len(factors) != core.ndim:
        raise ValueError(
            f"tucker_reconstruct needs one factor per core axis ({core.ndim}). "
            f"Received: {len(factors)} factors"
        )
    tensor = core
    for mode, factor in enumerate(factors):
        factor = np.asarray(factor)
        if factor.ndim != 2 or factor.shape[1] != core.shape[mode]:
            raise ValueError(
                f"tucker_reconstruct factor {mode} must have shape "
                f"(I, {core.shape[mode]}). Received: shape={factor.shape}"
            )
        tensor = mode_product(tensor, factor, mode)  # axis n: r_n -> I_n
    return tensor
