"""Dynamically Expandable Networks (Yoon et al., ICLR 2018, "DEN").

See docs/method.md, section 'Baselines'.

As the DF-CNN paper runs DEN, the network has the HPS shape: every conv layer
*and* the hidden FC layers are shared and expandable, and each task has its
own output layer. Units (conv channels, FC units) are stored as timestamped
blocks (`den_layer.ExpandableLayer`); task t computes with the units created
at or before task t, with the weights it last saw ("timestamped inference").

Training (`den_training.DENSchedule`, one loop `TrainingStage` per phase):
task 0 trains the whole network with L1; a task t >= 1 trains its output
layer alone, selectively retrains the subnetwork its outputs reach, expands
every layer if the loss stays above the threshold (then prunes dead new
units), splits the units that drifted most and retrains with a drift penalty.

How each `ModelConfig.den` option (`DENOptions`) is used:
- `l1_lambda`: L1 penalty `l1 * sum |w|` on the kernels trained in every
  stage (task 0, output, selective, expansion, split retraining).
- `l2_lambda`: L2 penalty `l2 * sum w^2` during selective retraining.
- `group_lasso_lambda`: `g * sum_u ||w_u||_2` over the incoming weights of
  each new unit `u` during expansion.
- `drift_lambda`: `d * ||W - W_before||^2` over every block older than task t
  (the units earlier tasks still read) during split retraining.
- `loss_threshold`: expand when selective retraining's last-epoch loss (the
  mean per-example cross-entropy) is above it.
- `sparsity_threshold`: quantile of the drift, per layer, that a unit must
  exceed to be split (0.98: at most the 2% that drifted most).
- `zero_threshold`: |w| below it is no connection when the subnetwork is
  selected; a new unit whose incoming-weight norm is below it is pruned; a
  unit must also drift more than it to be split.
- `expansion_units`: units added to every expandable layer per task t >= 1.

Counted parameters (`count_params`) are those of live units: base units,
alive expansion units, duplicated copies, and every task's output layer.
Units split at task t are shared from then on (later tasks may retrain the
copy), so `task_variables(t)` is task t's output layer alone; the older
version of a split unit is never trained again.
"""

import keras
import numpy as np
import tensorflow as tf

from dfcnn_tf.errors import ConfigError
from dfcnn_tf.models.base import LifelongModel
from dfcnn_tf.models.den_layer import ExpandableLayer
from dfcnn_tf.models.den_training import DENSchedule
from dfcnn_tf.models.heads import DEFAULT_BIAS, DENSE_STDDEV
from dfcnn_tf.precision import compute_cast
from dfcnn_tf.registry import register_model

DENSE_EQUATIONS = {2: "bi,iu->bu", 4: "bhwi,hwiu->bu"}  # FC on FC / on a map


@register_model("den")
class DynamicallyExpandableNetwork(LifelongModel):
    """DEN over an HPS-shaped conv net with per-task output layers.

    Attributes:
        expandable_layers: the `ExpandableLayer`s, conv layers first, then
            hidden FC (Keras' `layers` lists every sublayer).
        heads: per task, its output `(kernel, bias)`.
        growth: per task, `{"expanded": [...], "split": [...]}` units per layer.
    """

    option_record = "den"

    protocols = ("lifelong",)  # a method for tasks that arrive one by one

    def __init__(self, config, input_shape):
        super().__init__(config, input_shape)
        _validate(config.den)
        self.options = config.den
        self.num_conv = len(config.conv)
        self.expandable_layers, self.head_spatial = _expandable_layers(
            config, self.input_shape
        )
        self.dropout = keras.layers.Dropout(config.dropout, name="dropout")
        self.heads = []
        self.growth = []

    def _input_units(self, index, task_id):
        """Inputs task `task_id` feeds layer `index` (the head when past the end)."""
        if index == 0:
            return self.input_shape[-1]
        return self.expandable_layers[index - 1].units(task_id)

    def _build_task(self, task_id, num_classes):
        for i, layer in enumerate(self.expandable_layers):
            before = self._input_units(i, task_id - 1) if task_id else 0
            layer.add_task(task_id, self._input_units(i, task_id), before)
            layer.set_anchors(task_id)
        shape = (
            *self.head_spatial,
            self._input_units(len(self.expandable_layers), task_id),
        )
        init = keras.initializers.TruncatedNormal(stddev=DENSE_STDDEV)
        kernel = init((*shape, num_classes))
        bias = np.full(num_classes, DEFAULT_BIAS, "float32")
        self.heads.append(
            (
                keras.Variable(kernel, dtype="float32", name=f"task{task_id}_kernel"),
                keras.Variable(bias, dtype="float32", name=f"task{task_id}_bias"),
            )
        )
        self.growth.append(
            {
                "expanded": [0] * len(self.expandable_layers),
                "split": [0] * len(self.expandable_layers),
            }
        )

    def call(self, inputs, task_id, training=False):
        (x,), index = compute_cast(self, tf.convert_to_tensor(inputs)), None
        for i, layer in enumerate(self.expandable_layers):
            if i == self.num_conv:
                x = self.dropout(x, training=training)
            kernel, bias, index = layer.live_kernel(task_id, index)
            kernel, bias = compute_cast(self, kernel, bias)
            if i < self.num_conv:
                x = tf.nn.relu(tf.nn.conv2d(x, kernel, 1, "SAME") + bias)
                pool = self.config.conv[i].pool
                if pool > 1:
                    x = tf.nn.max_pool2d(x, pool, pool, "SAME")
            else:
                x = tf.nn.relu(_dense(x, kernel) + bias)
        if len(self.expandable_layers) == self.num_conv:
            x = self.dropout(x, training=training)
        kernel, bias = compute_cast(self, *self.heads[task_id])
        if index is not None:  # the head reads the alive units only
            kernel = tf.gather(kernel, index, axis=-2)
        return _dense(x, kernel) + bias

    @property
    def shared_variables(self):
        return [
            v
            for layer in self.expandable_layers
            for b in layer.blocks
            for v in (b.kernel, b.bias)
        ]

    def task_variables(self, task_id):
        self._check_task(task_id)
        return list(self.heads[task_id])

    def training_variables(self, task_id):
        """The blocks holding task `task_id`'s live units, and its output layer."""
        self._check_task(task_id)
        variables = []
        for layer in self.expandable_layers:
            owners = layer.versions(task_id)
            blocks = {
                id(owners[p][0]): owners[p][0]
                for p in np.flatnonzero(layer.alive(task_id))
            }
            variables += [v for b in blocks.values() for v in (b.kernel, b.bias)]
        return variables + self.task_variables(task_id)

    def training_stages(self, task_id, epochs):
        """Task 0: one L1 stage; later tasks: output, selective retraining,
        expansion and split stages (see `den_training.stage_epochs`).
        """
        return DENSchedule(self, task_id).stages(epochs)

    def count_params(self):
        """Scalar parameters of live units and every task's output layer."""
        if self.num_tasks == 0:
            return 0
        total, alive = 0, None
        for layer in self.expandable_layers:
            total += layer.count_live_params(alive)
            alive = layer.alive(self.num_tasks - 1)
        for kernel, _ in self.heads:
            n_in = (
                kernel.shape[-2] if alive is None else alive[: kernel.shape[-2]].sum()
            )
            total += (int(np.prod(self.head_spatial)) * int(n_in) + 1) * kernel.shape[
                -1
            ]
        return int(total)


def _dense(x, kernel):
    """`x (batch, [h, w,] i) . kernel ([h, w,] i, u) -> (batch, u)`."""
    return tf.einsum(DENSE_EQUATIONS[len(kernel.shape)], x, kernel)


def _expandable_layers(config, input_shape):
    """The conv then hidden FC `ExpandableLayer`s, and the head's spatial axes."""
    expansion = config.den.expansion_units
    height, width = input_shape[:2]
    layers = []
    for i, spec in enumerate(config.conv):
        kernel = (spec.kernel, spec.kernel)
        layers.append(ExpandableLayer(f"conv_{i}", kernel, spec.filters, expansion))
        height, width = -(-height // spec.pool), -(-width // spec.pool)
    spatial = (height, width)  # the first FC layer reads the whole last map
    for i, units in enumerate(config.fc_hidden):
        layers.append(ExpandableLayer(f"fc_{i}", spatial, units, expansion))
        spatial = ()
    return layers, spatial


def _validate(options):
    """Raises ConfigError naming the first `DENOptions` field out of range."""
    checks = {
        "l1_lambda": options.l1_lambda >= 0,
        "l2_lambda": options.l2_lambda >= 0,
        "group_lasso_lambda": options.group_lasso_lambda >= 0,
        "drift_lambda": options.drift_lambda >= 0,
        "loss_threshold": options.loss_threshold >= 0,
        "sparsity_threshold": 0 <= options.sparsity_threshold <= 1,
        "zero_threshold": options.zero_threshold >= 0,
        "expansion_units": isinstance(options.expansion_units, int)
        and options.expansion_units >= 1,
    }
    for name, ok in checks.items():
        if not ok:
            raise ConfigError(
                f"model.den.{name} is out of range (lambdas and thresholds >= 0, "
                "sparsity_threshold in [0, 1], expansion_units a positive int). "
                f"Received: {name}={getattr(options, name)!r}"
            )
