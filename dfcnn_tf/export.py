"""One task of a trained lifelong model as a plain Keras model.

After lifelong training, a task's network is fixed: its conv kernels can be
generated once (paper Eq. 1-2 for the DF-CNN, the Tucker product for TF)
and stored as ordinary `Conv2D` kernels. The exported model is then a
single-task CNN with the size of one (328,426 parameters for a CIFAR-100
DF-CNN task), built from Keras' own layers only, so it loads with
`keras.saving.load_model` or `tf.saved_model.load` where `dfcnn_tf` is not
installed:

    raw images (float, the task's raw range, e.g. 0-255)
      -> keras.layers.Normalization   the task's `Normalization`, as constants
      -> Conv2D (+ bias, ReLU) / MaxPooling2D ...   the task's kernels
      -> Flatten -> Dense ...         the task's head (Dropout is left out)
      -> Softmax                      class probabilities

ProgNN is exported as its functional graph: the task's column and every
earlier column it reads through its lateral adapters. DEN is exported with
the units the task uses (its timestamped blocks, resolved once).
"""

import collections
import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

import keras
import numpy as np

from dfcnn_tf.models.den import DynamicallyExpandableNetwork
from dfcnn_tf.models.generated import GeneratedKernelModel
from dfcnn_tf.models.hps import HardParameterSharing
from dfcnn_tf.models.prognn import ProgressiveNetwork
from dfcnn_tf.models.stl import SingleTaskCNN

KERAS_SUFFIX = ".keras"


def export_task_model(model, task_id, normalization=None, name=None):
    """Task `task_id` of `model` as a Keras model of built-in layers only.

    Args:
        model: a trained `LifelongModel` (dfcnn and its variants, tf, stl,
            stl_large, hps, prognn, den, and the HPS-based ewc, si, lwf,
            agem, er: their memory and estimates are not exported).
        task_id: the task to export.
        normalization: the task's `Normalization`; the exported model then
            takes raw images (e.g. 0-255). `None`: it takes the model's inputs
            as they are (already normalised).
        name: name of the Keras model (default `<method>_task<task_id>`).

    Returns:
        A `keras.Model` mapping images `(batch, height, width, channels)` to
        class probabilities `(batch, num_classes)`; its weights are copies.

    Raises:
        ValueError: if `task_id` is not a task of `model`, the method cannot
            be exported, or `normalization` has another number of channels.
    """
    if not 0 <= task_id < model.num_tasks:
        raise ValueError(
            f"task_id must be in [0, {model.num_tasks}) (the model's tasks). "
            f"Received: task_id={task_id}"
        )
    graph = _task_graph(model)
    shape = tuple(int(d) for d in model.input_shape)[-3:]  # (height, width, c)
    inputs = keras.Input(shape, name="images")
    features = inputs
    if normalization is not None:
        features = normalization_layer(normalization, shape[-1])(inputs)
    logits = graph(model, task_id, features, _Namer())
    probabilities = keras.layers.Softmax(name="probabilities")(logits)
    name = name or f"{model.config.name}_task{task_id}"
    return keras.Model(inputs, probabilities, name=name)


def save_task_model(model, task_id, path, normalization=None):
    """Exports task `task_id` (`export_task_model`) and writes it atomically.

    The file or folder is first written under a temporary name in the same
    folder, then renamed: a reader never sees a half-written model, and a
    failed export leaves an earlier one at `path` intact (a rename within
    one file system is atomic).

    Args:
        model: a trained `LifelongModel`.
        task_id: the task to export.
        path: a `.keras` file (Keras' own format, loads with
            `keras.saving.load_model`); any other path is a SavedModel folder
            for serving (`Model.export`, loads with `tf.saved_model.load`,
            called through its `serve` function).
        normalization: the task's `Normalization` (see `export_task_model`).

    Returns:
        The exported `keras.Model`.

    Raises:
        ValueError: as `export_task_model`.
        OSError: if the file or folder cannot be written.
    """
    exported = export_task_model(model, task_id, normalization)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == KERAS_SUFFIX:
        _write_keras_file(exported, path)
    else:
        _write_saved_model(exported, path)
    return exported


def _write_keras_file(exported, path):
    """`exported.save` to a temporary `.keras` file beside `path`, renamed."""
    handle, temporary = tempfile.mkstemp(
        suffix=KERAS_SUFFIX, prefix=f".{path.stem}.", dir=path.parent
    )
    os.close(handle)
    try:
        exported.save(temporary)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)


def _write_saved_model(exported, path):
    """`exported.export` to a temporary folder beside `path`, renamed.

    A folder cannot be renamed over a non-empty one, so an existing `path`
    is first renamed into the temporary folder and deleted with it; between
    those two renames (not during the export) `path` is briefly absent.
    """
    temporary = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        exported.export(str(temporary / "new"), verbose=False)
        if path.exists():
            os.replace(path, temporary / "old")
        os.replace(temporary / "new", path)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def normalization_layer(normalization, channels):
    """A `keras.layers.Normalization` computing `normalization.apply`.

    `(raw / scale - mean) / std == (raw - scale * mean) / (scale * std)`, so
    the layer gets `mean * scale` and variance `(std * scale) ** 2` as
    constants: it adds no weights and needs no `adapt`.

    Args:
        normalization: a `dfcnn_tf.data.normalization.Normalization`.
        channels: the model's input channels.

    Returns:
        The (unbuilt) layer, named "normalization".

    Raises:
        ValueError: if `normalization` describes another number of channels.
    """
    if normalization.channels != channels:
        raise ValueError(
            f"The normalization has {normalization.channels} channels, the "
            f"model's inputs {channels}. Received: normalization={normalization}"
        )
    scale = np.float64(normalization.scale)
    mean = np.asarray(normalization.mean, np.float64) * scale
    variance = (np.asarray(normalization.std, np.float64) * scale) ** 2
    return keras.layers.Normalization(
        mean=mean.tolist(), variance=variance.tolist(), name="normalization"
    )


class _Namer:
    """Names the exported layers `<kind>_<count>`, e.g. conv2d_0, dense_1."""

    def __init__(self):
        self.counts = collections.Counter()

    def __call__(self, kind):
        name = f"{kind}_{self.counts[kind]}"
        self.counts[kind] += 1
        return name


def _snake_case(class_name):
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", class_name).lower()


def _task_graph(model):
    """The function building `model`'s exported graph (see `_GRAPHS`)."""
    for cls in type(model).__mro__:
        if cls in _GRAPHS:
            return _GRAPHS[cls]
    raise ValueError(
        f"Export is not supported for {type(model).__name__} "
        f"({model.config.name!r}): no exporter is registered for it."
    )


def _copy_layer(layer, inputs, namer):
    """`layer`'s built-in copy (same config and weights) applied to `inputs`.

    Raises:
        ValueError: if `layer` is not one of Keras' own layers.
    """
    if not type(layer).__module__.startswith("keras."):
        raise ValueError(
            f"Cannot export layer {layer.name!r} of class {type(layer).__name__}: "
            "only Keras' own layers are copied."
        )
    kind = _snake_case(type(layer).__name__)
    copy = type(layer).from_config({**layer.get_config(), "name": namer(kind)})
    outputs = copy(inputs)
    copy.set_weights(layer.get_weights())
    return outputs


def _baked_conv(kernel, bias, activation, inputs, namer):
    """A SAME, stride-1 `Conv2D` with a fixed `kernel (k, k, c_in, c_out)`."""
    kernel = keras.ops.convert_to_numpy(kernel)
    conv = keras.layers.Conv2D(
        kernel.shape[-1],
        kernel.shape[:2],
        padding="same",
        activation=activation,
        use_bias=bias is not None,
        name=namer("conv2d"),
    )
    outputs = conv(inputs)
    weights = [kernel] if bias is None else [kernel, keras.ops.convert_to_numpy(bias)]
    conv.set_weights(weights)
    return outputs


def _chain(layers, inputs, namer, kernels=None):
    """`inputs` through copies of `layers`, skipping Dropout (inference).

    `kernels` maps a generating conv layer (by id) to its generated kernel;
    such a layer becomes a `Conv2D` holding that kernel and the layer's bias
    and activation (its `convolve` is `act(conv2d(x, W, SAME) + bias)`).
    """
    kernels = kernels or {}
    outputs = inputs
    for layer in layers:
        if isinstance(layer, keras.layers.Dropout):
            continue
        if id(layer) in kernels:
            outputs = _baked_conv(
                kernels[id(layer)], layer.bias, layer.activation, outputs, namer
            )
        else:
            outputs = _copy_layer(layer, outputs, namer)
    return outputs


def _generated_graph(model, task_id, inputs, namer):
    """DF-CNN and TF: the task's tower with its kernels generated once."""
    convs, kernels = model.conv_layers(task_id), model.task_kernels(task_id)
    baked = {id(layer): kernel for layer, kernel in zip(convs, kernels, strict=True)}
    return _chain(model.towers[task_id].layers, inputs, namer, baked)


def _stl_graph(model, task_id, inputs, namer):
    """STL: the task's own tower."""
    return _chain(model.towers[task_id].layers, inputs, namer)


def _hps_graph(model, task_id, inputs, namer):
    """HPS: the shared trunk, then the task's head."""
    features = _chain(model.trunk.layers, inputs, namer)
    return _chain(model.heads[task_id].layers, features, namer)


def _prognn_graph(model, task_id, inputs, namer):
    """ProgNN: columns 0..task_id, each conv layer reading the earlier columns."""
    features = []  # features[c][i]: column c's conv layer i output, after pooling
    for column in range(task_id + 1):
        hidden, outputs = inputs, []
        for i, layer in enumerate(model.columns[column]):
            laterals = [features[j][i - 1] for j in range(layer.num_laterals)]
            hidden = _lateral_conv(layer, hidden, laterals, namer)
            if model.pools[i] is not None:
                hidden = _copy_layer(model.pools[i], hidden, namer)
            outputs.append(hidden)
        features.append(outputs)
    return _chain(model.heads[task_id].layers, features[task_id][-1], namer)


def _lateral_conv(layer, inputs, laterals, namer):
    """A `LateralConv2D` as built-in layers.

    `relu(conv(h, W) + b + sum_j conv(relu(conv(h_j, alpha_j V_j) + c_j), U_j))`:
    the scalar `alpha_j` is folded into the 1x1 kernel `V_j`, since
    `conv(alpha h, V) = conv(h, alpha V)`.
    """
    terms = [_baked_conv(layer.kernel, layer.bias, None, inputs, namer)]
    for j, features in enumerate(laterals):
        alpha = keras.ops.convert_to_numpy(layer.alphas[j])  # (1,)
        adapter = keras.ops.convert_to_numpy(layer.adapter_kernels[j]) * alpha
        reduced = _baked_conv(adapter, layer.adapter_biases[j], "relu", features, namer)
        terms.append(_baked_conv(layer.lateral_kernels[j], None, None, reduced, namer))
    summed = terms[0] if len(terms) == 1 else keras.layers.Add(name=namer("add"))(terms)
    return keras.layers.ReLU(name=namer("re_lu"))(summed)


def _den_graph(model, task_id, inputs, namer):
    """DEN: every expandable layer restricted to the units task `task_id` uses.

    The kernels are the ones `DynamicallyExpandableNetwork.call` computes
    (`ExpandableLayer.live_kernel`: the task's blocks, split copies applied,
    dead units left out), taken once.
    """
    hidden, index = inputs, None
    for i, layer in enumerate(model.expandable_layers):
        kernel, bias, index = layer.live_kernel(task_id, index)
        if i >= model.num_conv:
            hidden = _baked_dense(kernel, bias, "relu", hidden, namer)
            continue
        hidden = _baked_conv(kernel, bias, "relu", hidden, namer)
        pool = model.config.conv[i].pool
        if pool > 1:
            max_pool = keras.layers.MaxPooling2D(
                pool, padding="same", name=namer("max_pooling2d")
            )
            hidden = max_pool(hidden)
    kernel, bias = model.heads[task_id]
    if index is not None:  # the head reads the last layer's live units only
        kernel = keras.ops.take(kernel, index, axis=-2)
    return _baked_dense(kernel, bias, None, hidden, namer)


def _baked_dense(kernel, bias, activation, inputs, namer):
    """A `Dense` with a fixed `kernel ([h, w,] c, units)` on `inputs`.

    A map `(batch, h, w, c)` is flattened first; `Flatten` orders it as
    `(h, w, c)`, the order of the kernel's leading axes.
    """
    kernel = keras.ops.convert_to_numpy(kernel)
    if len(inputs.shape) > 2:
        inputs = keras.layers.Flatten(name=namer("flatten"))(inputs)
    dense = keras.layers.Dense(
        kernel.shape[-1], activation=activation, name=namer("dense")
    )
    outputs = dense(inputs)
    units = kernel.shape[-1]
    dense.set_weights([kernel.reshape(-1, units), keras.ops.convert_to_numpy(bias)])
    return outputs


_GRAPHS = {  # model class -> builder(model, task_id, inputs, namer) -> logits
    GeneratedKernelModel: _generated_graph,
    SingleTaskCNN: _stl_graph,
    HardParameterSharing: _hps_graph,
    ProgressiveNetwork: _prognn_graph,
    DynamicallyExpandableNetwork: _den_graph,
}
