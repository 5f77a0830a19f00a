"""DEN's training of one task as loop stages (Yoon et al. 2018, Algorithms 1-3).

Task 0 is one stage: the whole network with an L1 penalty. A task t >= 1
runs up to four stages, each with a fresh optimizer (`stage_epochs` shares
the task's epochs among them):

1. **output**: only task t's output layer, with L1.
2. **selective**: breadth-first from the output layer's non-zero weights down
   to the input, select the units (and their non-zero inputs) the new task
   reaches (`select_subnetwork`); retrain only their incoming weights and
   biases (gradient masks) and the output layer, with L1 + L2. If the last
   epoch's loss is above `loss_threshold`, every layer gets its expansion
   units.
3. **expand**: only the new units and the output layer, with group lasso
   (a group per new unit) + L1; then new units whose incoming-weight norm
   fell below `zero_threshold` are pruned. Without expansion this stage
   continues selective retraining. At its end, units whose incoming weights
   drifted above the layer's `sparsity_threshold` quantile (and above
   `zero_threshold`) since task t began are split (`ExpandableLayer.split`).
4. **split**: retrain the selected units, the split copies and the new units
   with L1 and the drift penalty `drift_lambda * ||W - W_before||^2`.

With fewer than four epochs the stages kept are, in this order of priority,
selective, expand, split, output (each one epoch).
"""

import dataclasses
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from dfcnn_tf.models.base import TrainingStage
from dfcnn_tf.models.den_layer import EXPAND, SPLIT

STAGE_WEIGHTS = {"output": 1, "selective": 4, "expand": 3, "split": 2}
SHORT_PRIORITY = ("selective", "expand", "split", "output")
GROUP_EPSILON = 1e-12  # keeps the group norm differentiable at zero


def stage_epochs(epochs):
    """`[(stage, epochs)]` in training order for a task t >= 1; sums to `epochs`."""
    names = list(STAGE_WEIGHTS)
    if epochs < len(names):
        kept = set(SHORT_PRIORITY[:epochs])
        return [(name, 1) for name in names if name in kept]
    total = sum(STAGE_WEIGHTS.values())
    counts = {n: max(1, epochs * w // total) for n, w in STAGE_WEIGHTS.items()}
    counts["selective"] += epochs - sum(counts.values())
    return list(counts.items())


def select_subnetwork(model, task_id, threshold):
    """Units task `task_id` reaches from its output layer through weights
    `|w| > threshold`, breadth-first down to the input (paper Algorithm 2).

    Returns:
        Per expandable layer `(units, rows)`: `units` a boolean over the
        layer's units, `rows` a boolean over the layer below's units (None for
        the first layer: every input channel).
    """
    kernel = model.heads[task_id][0].numpy()  # (*spatial, n_in, classes)
    selection = [None] * len(model.expandable_layers)
    if not model.expandable_layers:
        return selection
    selected = _strong_inputs(kernel, threshold) & model.expandable_layers[-1].alive(
        task_id
    )
    for index in reversed(range(len(model.expandable_layers))):
        rows = None
        if index > 0:
            kernel = model.expandable_layers[index].kernel(task_id)[0].numpy()
            rows = _strong_inputs(kernel[..., selected], threshold)
        selection[index] = (selected, rows)
        selected = rows
    return selection


def _strong_inputs(kernel, threshold):
    """Boolean over the input axis (-2): inputs with any `|w| > threshold`."""
    axes = tuple(i for i in range(kernel.ndim) if i != kernel.ndim - 2)
    return np.any(np.abs(kernel) > threshold, axis=axes)


def split_units(drift, quantile, floor):
    """Units whose drift exceeds both the `quantile` of `drift` and `floor`."""
    if drift.size == 0:
        return np.zeros(0, bool)
    return (drift > np.quantile(drift, quantile)) & (drift > floor)


@dataclasses.dataclass
class Plan:
    """What a stage trains: variables, their 0/1 masks (or None) and penalty."""

    variables: list
    masks: list | None
    penalty: Callable


class _LazyStage:
    """Builds its `Plan` when the loop starts the stage (after earlier stages
    finished), so it sees every expansion and split made before it.
    """

    def __init__(self, build):
        self._build = build
        self._plan = None

    def variables(self):
        self._plan = self._build()
        return self._plan.variables

    def gradient_masks(self):
        return self._plan.masks

    def penalty(self):
        return self._plan.penalty()


class DENSchedule:
    """The stages of one task, and what they decide on the way.

    Args:
        model: the `DynamicallyExpandableNetwork`, with task `task_id` added.
        task_id: the task to train.
    """

    def __init__(self, model, task_id):
        self.model = model
        self.task_id = task_id
        self.options = model.options
        self.selection = None
        self.expanded = False

    def stages(self, epochs):
        """The `TrainingStage`s of the task, their epochs summing to `epochs`."""
        if self.task_id == 0:
            return [self._stage(epochs, self._first_task_plan)]
        schedule = stage_epochs(epochs)
        expands = any(name == "expand" for name, _ in schedule)
        phases = {  # expand only when an expansion stage will train the units
            "output": (self._output_plan, None),
            "selective": (
                self._selective_plan,
                self.after_selective if expands else None,
            ),
            "expand": (self._expand_plan, self.after_expand),
            "split": (self._split_plan, None),
        }
        return [self._stage(n, *phases[name]) for name, n in schedule]

    @staticmethod
    def _stage(epochs, build, finish=None):
        lazy = _LazyStage(build)
        return TrainingStage(
            epochs, lazy.variables, lazy.penalty, lazy.gradient_masks, finish
        )

    # ------------------------------------------------------------ decisions

    def after_selective(self, loss):
        """Expands every layer if `loss` is above the loss threshold."""
        if loss > self.options.loss_threshold:
            for layer in self.model.expandable_layers:
                layer.expand(self.task_id)
            self.expanded = True

    def after_expand(self, loss):
        """Prunes dead new units, then splits the units that drifted most."""
        del loss  # the decisions here depend on weights only
        growth = self.model.growth[self.task_id]
        if self.expanded:
            growth["expanded"] = [
                layer.prune(self.task_id, self.options.zero_threshold)
                for layer in self.model.expandable_layers
            ]
        growth["split"] = []
        for layer in self.model.expandable_layers:
            units = split_units(
                layer.drift(self.task_id),
                self.options.sparsity_threshold,
                self.options.zero_threshold,
            )
            layer.split(self.task_id, units)
            growth["split"].append(int(units.sum()))

    # ---------------------------------------------------------------- plans

    def _first_task_plan(self):
        variables = self.model.training_variables(0)
        kernels = _kernels(variables)
        return Plan(variables, None, lambda: self._l1(kernels))

    def _output_plan(self):
        head = list(self.model.heads[self.task_id])
        return Plan(head, None, lambda: self._l1(head[:1]))

    def _selected(self):
        """The subnetwork of selective retraining, selected on first use."""
        if self.selection is None:
            self.selection = select_subnetwork(
                self.model, self.task_id, self.options.zero_threshold
            )
        return self.selection

    def _selective_plan(self):
        groups = [[group] for group in self._selected()]
        return self._masked_plan(groups, lambda k: self._l1(k) + self._l2(k))

    def _expand_plan(self):
        if not self.expanded:
            return self._selective_plan()
        blocks = [
            layer.block(self.task_id, EXPAND) for layer in self.model.expandable_layers
        ]
        new = [b.kernel for b in blocks]
        head = list(self.model.heads[self.task_id])
        variables = head + [v for b in blocks for v in (b.kernel, b.bias)]
        return Plan(
            variables,
            None,
            lambda: self._group_lasso(new) + self._l1([*new, head[0]]),
        )

    def _split_plan(self):
        groups = []
        for layer, group in zip(
            self.model.expandable_layers, self._selected(), strict=True
        ):
            old = layer.units(self.task_id - 1)
            split = np.zeros(layer.units(self.task_id), bool)
            split[:old] = layer.block(self.task_id, SPLIT).live()
            new = layer.alive(self.task_id)
            new[:old] = False
            groups.append([group, (split, None), (new, None)])
        anchored = [
            p
            for layer in self.model.expandable_layers
            for p in layer.anchored(self.task_id)
        ]
        return self._masked_plan(groups, lambda k: self._l1(k) + self._drift(anchored))

    def _masked_plan(self, groups, penalty):
        """A plan over the output layer and the masked incoming weights of the
        `groups` (one list of `(units, rows)` per layer).
        """
        variables = list(self.model.heads[self.task_id])
        masks = [None] * len(variables)
        for layer, layer_groups in zip(
            self.model.expandable_layers, groups, strict=True
        ):
            for variable, mask in layer.trainable_masks(self.task_id, layer_groups):
                variables.append(variable)
                masks.append(mask)
        kernels = _kernels(variables)
        return Plan(variables, masks, lambda: penalty(kernels))

    # ------------------------------------------------------------ penalties

    def _l1(self, kernels):
        return self.options.l1_lambda * tf.add_n(
            [tf.reduce_sum(tf.abs(k)) for k in kernels]
        )

    def _l2(self, kernels):
        return self.options.l2_lambda * tf.add_n(
            [tf.reduce_sum(tf.square(k)) for k in kernels]
        )

    def _group_lasso(self, kernels):
        norms = []
        for kernel in kernels:  # one group per unit: its incoming weights
            axes = list(range(len(kernel.shape) - 1))
            squares = tf.reduce_sum(tf.square(kernel), axis=axes)
            norms.append(tf.reduce_sum(tf.sqrt(squares + GROUP_EPSILON)))
        return self.options.group_lasso_lambda * tf.add_n(norms)

    def _drift(self, anchored):
        if not anchored:
            return tf.constant(0.0)
        return self.options.drift_lambda * tf.add_n(
            [tf.reduce_sum(tf.square(v - a)) for v, a in anchored]
        )


def _kernels(variables):
    """The weight matrices / kernels among `variables` (biases left out)."""
    return [v for v in variables if len(v.shape) >= 2]
