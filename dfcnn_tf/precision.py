"""Numeric precision of training and evaluation (`TrainConfig.precision`).

See docs/method.md, section 'Precision'.

- "float32" (the default): everything in float32, the faithful path.
- "mixed_bfloat16": Keras' "mixed_bfloat16" dtype policy for training and
  evaluation: layers compute in bfloat16; variables, gradients, the loss and
  the optimizer's state (TF1 RMSProp's accumulators) stay float32. The
  DF-CNN's kernels are generated in float32 from the float32 variables and
  cast to bfloat16 for the convolution, as a Keras `Conv2D` casts its kernel.
- "bfloat16_eval": training exactly as "float32"; evaluation under
  "mixed_bfloat16".

A model is always built, stored, checkpointed and exported in float32: a
policy is put on its layers only while a compiled training epoch or an
evaluation is traced (`layer_policy`) and taken off afterwards, so it never
leaks into another model, and Keras' process-wide policy is never touched.
"""

import contextlib

import tensorflow as tf

from dfcnn_tf.config import PRECISIONS  # noqa: F401  (the modes, re-exported)

FLOAT32 = "float32"
MIXED = "mixed_bfloat16"
_TRAINING = {"float32": FLOAT32, "mixed_bfloat16": MIXED, "bfloat16_eval": FLOAT32}
_EVALUATION = {"float32": FLOAT32, "mixed_bfloat16": MIXED, "bfloat16_eval": MIXED}


def training_policy(precision):
    """The Keras dtype policy training runs under for `precision`."""
    return _TRAINING[precision]


def evaluation_policy(precision):
    """The Keras dtype policy evaluation runs under for `precision`."""
    return _EVALUATION[precision]


@contextlib.contextmanager
def layer_policy(model, policy):
    """Puts dtype policy `policy` on every layer of `model` (itself included)
    for the duration of the block, then restores each layer's own.

    Use it around the tracing of a compiled function: the policy is read
    when the layers are called, so the traced graph keeps it. Under
    "float32" nothing is changed.
    """
    if policy == FLOAT32:
        yield
        return
    layers = model._flatten_layers(include_self=True, recursive=True)
    saved = [(layer, layer.dtype_policy) for layer in layers]
    try:
        for layer, _ in saved:
            layer.dtype_policy = policy
        yield
    finally:
        for layer, own in saved:
            layer.dtype_policy = own


def compute_cast(layer, *tensors):
    """`tensors` cast to `layer.compute_dtype` (unchanged under float32).

    For layers and models that run raw TensorFlow ops on their variables
    outside Keras' `Layer.__call__`, which would otherwise do the casting.
    """
    dtype = layer.compute_dtype
    if dtype == FLOAT32:
        return tensors
    return tuple(tf.cast(t, dtype) for t in tensors)
