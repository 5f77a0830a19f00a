"""Tensor-factorisation baseline "TF" (docs/method.md, section 'Baselines').

Yang & Hospedales, "Deep Multi-task Representation Learning: A Tensor
Factorisation Approach", ICLR 2017 (section 3, Tucker variant). Per conv layer
the kernels of all tasks, stacked on a last axis, form a 5-way tensor
`W (k, k, c_in, c_out, T) = G x_1 U1 x_2 U2 x_3 U3 x_4 U4 x_5 U5`. The core
`G (r1, r2, r3, r4, r5)` and `U1 (k, r1)`, `U2 (k, r2)`, `U3 (c_in, r3)`,
`U4 (c_out, r4)` are shared by every task and owned by one
`TuckerFactors` layer per conv layer; task t owns the row `u5_t (r5,)` of
`U5`, its conv biases and its FC head. Its kernel is

    W_t[i,j,k,l] = sum_abcde G[a,b,c,d,e] U1[i,a] U2[j,b] U3[k,c] U4[l,d] u5_t[e]

Ranks come from a truncated HOSVD (`tucker_decomposition`) of an initial
stacked tensor, the smallest that keep its relative reconstruction error
below `config.tucker.error_threshold` (released code: 1e-3):

- `TensorFactorisedCNN(config, input_shape)` decomposes a random
  truncated-normal (stddev 0.05, as every baseline kernel) tensor with
  `TASK_SLOTS` task slots; task t takes row t of its `U5`. Tasks beyond the
  slots start from the mean row of the earlier tasks plus N(0, 0.01^2) noise.
- "TF (distillation)" decomposes the trained kernels of a `SingleTaskCNN`
  instead, and task t starts from the STL's task t biases and head:
  `model.tucker.init_from` names a saved STL learner (the released code
  loads its STL run's saved parameters the same way), or
  `TensorFactorisedCNN.from_stl(...)` takes a model in memory.
"""

from pathlib import Path

import keras
import numpy as np

from dfcnn_tf.errors import ConfigError
from dfcnn_tf.layers.tucker_conv import SHARED_MODES, TuckerConv2D, TuckerFactors
from dfcnn_tf.models.blocks import build_sequential
from dfcnn_tf.models.generated import GeneratedKernelModel
from dfcnn_tf.models.heads import DENSE_STDDEV, task_head
from dfcnn_tf.models.stl import SingleTaskCNN
from dfcnn_tf.models.tucker_decomposition import tucker_decompose
from dfcnn_tf.registry import register_model
from dfcnn_tf.stl_source import load_stl_source, register_copy

TASK_SLOTS = 10  # T0: task rows of the random initial tensor (10 CIFAR tasks)
NEW_TASK_NOISE = 0.01  # stddev of the noise on rows added beyond TASK_SLOTS


@register_model("tf")
class TensorFactorisedCNN(GeneratedKernelModel):
    """TF: per-layer Tucker factors shared by all tasks, task rows and heads.

    Args:
        config: the `ModelConfig` (`conv`, `fc_hidden`, `dropout`,
            `tucker.error_threshold`).
        input_shape: shape of one image, `(height, width, channels)`.
        initial_kernels: one stacked kernel tensor `(k, k, c_in, c_out, T)`
            per conv layer to decompose, the same `T` for all; by default a
            random truncated-normal tensor with `TASK_SLOTS` slots.
        source: a trained `SingleTaskCNN` to start from (`from_stl`).
        source_file: where to read the saved STL learner that
            `config.tucker.init_from` names, if not from that path: a loaded
            learner file's own copy of it (`dfcnn_tf.saved_learner`).

    Raises:
        ConfigError: if the threshold is outside `[0, 1)`, there is no conv
            layer, or an initial tensor does not fit its conv layer.
    """

    option_record = "tucker"

    kernel_layer = TuckerConv2D

    def __init__(
        self, config, input_shape, initial_kernels=None, source=None, source_file=None
    ):
        super().__init__(config, input_shape)
        shapes = _kernel_shapes(config, self.input_shape)
        if source is None and config.tucker.init_from:
            path = source_file or config.tucker.init_from
            source, self.source_tasks = load_stl_source(path)
            self.source_file_bytes = Path(path).read_bytes()
            if source_file is not None:
                register_copy(config.tucker.init_from, self.source_file_bytes)
        # The STL tasks' biases and heads as arrays: holding the STL model
        # itself would make its variables part of this model's.
        self._source_values = _stl_task_values(_checked_source(source))
        if source is not None:
            initial_kernels = _stl_kernels(source)
        elif initial_kernels is None:
            initial_kernels = [_random_kernels(shape) for shape in shapes]
        _check_initial_kernels(initial_kernels, shapes)
        self.factors, self._initial_rows, self.towers = [], [], []
        for i, stacked in enumerate(initial_kernels):
            core, factors = tucker_decompose(stacked, config.tucker.error_threshold)
            owner = TuckerFactors(*shapes[i][1:], ranks=core.shape, name=f"tucker_{i}")
            owner.build()
            owner.assign_decomposition(core, factors[:SHARED_MODES])
            self.factors.append(owner)
            self._initial_rows.append(factors[SHARED_MODES])  # U5 (T, r5)

    @classmethod
    def from_stl(cls, config, input_shape, stl_model):
        """The "TF (distillation)" variant: factorises a trained STL model.

        A model built with `config.tucker.init_from` (a saved STL learner)
        is the same, with no tasks added yet: each task added takes the
        STL's task of the same index.

        Args:
            config: the TF `ModelConfig`, with the STL model's conv and FC sizes.
            input_shape: shape of one image, as the STL model's.
            stl_model: a `SingleTaskCNN` with at least one task.

        Returns:
            A `TensorFactorisedCNN` with one task per STL task, whose logits
            equal the STL model's up to the Tucker reconstruction error.

        Raises:
            ConfigError: if `stl_model` is not a `SingleTaskCNN` with tasks,
                or its sizes differ from `config`.
        """
        model = cls(config, input_shape, source=stl_model)
        for tower in stl_model.towers:
            model.add_task(_layers_of(tower, keras.layers.Dense)[-1].units)
        return model

    def add_task(self, num_classes):
        """Adds a task; from an STL, its task of this index's biases and head."""
        task_id = super().add_task(num_classes)
        if task_id < len(self._source_values):
            self._copy_stl_task(task_id)
        return task_id

    def _copy_stl_task(self, task_id):
        """Task `task_id` takes the source STL task's conv biases and head."""
        biases, dense = self._source_values[task_id]
        for layer, bias in zip(self.conv_layers(task_id), biases, strict=True):
            layer.bias.assign(bias)
        targets = _layers_of(self.towers[task_id], keras.layers.Dense)
        units = [[k.shape[1] for k, _ in dense], [t.units for t in targets]]
        if units[0] != units[1]:
            raise ConfigError(
                f"TF from STL: task {task_id + 1} has FC units {units[1]}; the "
                f"STL's has {units[0]}"
            )
        for target, (kernel, bias) in zip(targets, dense, strict=True):
            target.kernel.assign(kernel)
            target.bias.assign(bias)

    def _build_task(self, task_id, num_classes):
        layers = []
        for i, conv in enumerate(self.config.conv):
            layers.append(
                TuckerConv2D(self.factors[i], name=f"task{task_id}_tfconv_{i}")
            )
            if conv.pool > 1:
                layers.append(
                    keras.layers.MaxPooling2D(
                        conv.pool, padding="same", name=f"task{task_id}_pool_{i}"
                    )
                )
        layers += task_head(
            self.config.fc_hidden, num_classes, self.config.dropout, f"task{task_id}"
        )
        tower = build_sequential(layers, self.input_shape, f"task{task_id}")
        for i, layer in enumerate(_layers_of(tower, TuckerConv2D)):
            layer.task_factor.assign(self._new_task_row(i, task_id))
        self.towers.append(tower)

    def _new_task_row(self, layer_index, task_id):
        """Row `task_id` of the initial `U5`, or the earlier rows' mean + noise."""
        rows = self._initial_rows[layer_index]
        if task_id < len(rows):
            return rows[task_id].astype("float32")
        earlier = [
            self.conv_layers(t)[layer_index].task_factor.numpy() for t in range(task_id)
        ]
        noise = keras.random.normal((rows.shape[1],), stddev=NEW_TASK_NOISE)
        return np.mean(earlier, axis=0) + keras.ops.convert_to_numpy(noise)

    @property
    def shared_variables(self):
        return [v for owner in self.factors for v in (owner.core, *owner.factors)]

    def task_variables(self, task_id):
        self._check_task(task_id)
        shared = {id(v) for v in self.shared_variables}
        variables = self.towers[task_id].trainable_variables
        return [v for v in variables if id(v) not in shared]


def _layers_of(tower, layer_type):
    return [layer for layer in tower.layers if isinstance(layer, layer_type)]


def _checked_source(source):
    """`source` if None or a `SingleTaskCNN` with tasks; else `ConfigError`."""
    if source is not None and (
        not isinstance(source, SingleTaskCNN) or source.num_tasks == 0
    ):
        raise ConfigError(
            "TF from STL needs a SingleTaskCNN with at least one task. "
            f"Received: {source!r}"
        )
    return source


def _stl_task_values(stl_model):
    """Per STL task: its conv biases, and (kernel, bias) of its FC layers."""
    if stl_model is None:
        return ()
    values = []
    for tower in stl_model.towers:
        convs = _layers_of(tower, keras.layers.Conv2D)
        dense = _layers_of(tower, keras.layers.Dense)
        values.append(
            (
                tuple(c.bias.numpy() for c in convs),
                tuple((d.kernel.numpy(), d.bias.numpy()) for d in dense),
            )
        )
    return tuple(values)


def _stl_kernels(stl_model):
    """The STL tasks' kernels, stacked per layer: `(k, k, c_in, c_out, T)`."""
    convs = [_layers_of(t, keras.layers.Conv2D) for t in stl_model.towers]
    return [
        np.stack([keras.ops.convert_to_numpy(c.kernel) for c in layer], axis=-1)
        for layer in zip(*convs, strict=True)
    ]


def _kernel_shapes(config, input_shape):
    """`(k, k, c_in, c_out)` per conv layer; checks the TF options."""
    threshold = config.tucker.error_threshold
    if not 0 <= threshold < 1:
        raise ConfigError(
            f"model.tucker.error_threshold must be in [0, 1). Received: {threshold}"
        )
    if not config.conv:
        raise ConfigError("The TF model needs at least one conv layer (model.conv).")
    shapes, channels = [], input_shape[-1]
    for spec in config.conv:
        shapes.append((spec.kernel, spec.kernel, channels, spec.filters))
        channels = spec.filters
    return shapes


def _random_kernels(shape):
    """`TASK_SLOTS` truncated-normal (stddev 0.05) kernels stacked on a last axis."""
    kernels = keras.random.truncated_normal((*shape, TASK_SLOTS), stddev=DENSE_STDDEV)
    return keras.ops.convert_to_numpy(kernels)


def _check_initial_kernels(initial_kernels, shapes):
    found = [tuple(np.shape(stacked)) for stacked in initial_kernels]
    slots = found[0][-1:] if found else ()  # (T,)
    if not slots or found != [(*shape, *slots) for shape in shapes]:
        raise ConfigError(
            "TF needs one initial kernel tensor (k, k, c_in, c_out, T) per conv "
            f"layer, one T for all: {[(*shape, 'T') for shape in shapes]}. "
            f"Received shapes: {found}"
        )
