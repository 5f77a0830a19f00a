"""One expandable DEN layer stored as timestamped blocks (Yoon et al. 2018, sec. 3).

A layer's *logical units* (conv output channels or FC units) are its initial
units (task 0) followed by `expansion` units per later task, so task t sees
`units(t) = units + expansion * t` of them. Every weight lives in a block, one
Keras variable pair (kernel `(*spatial, n_in, n_units)`, bias `(n_units,)`)
stamped with the task that created it:

- a **base** block (task 0) holds the initial units;
- an **expand** block (task t >= 1) holds task t's `expansion` new units; a
  0/1 `mask` marks which of them are alive (none until the expansion step,
  pruned ones return to 0);
- a **split** block (task t >= 1) holds a copy of every unit older than task
  t; its `mask` marks the units duplicated at task t, whose copy (new
  weights) serves task t and later while the older version keeps the weights
  the earlier tasks saw.

A block's input axis covers the units of the layer below that existed when it
was created; later units of the layer below never feed it (zero padding).
Task t's kernel concatenates its visible base and expand blocks (stamp <= t)
along the unit axis and lets every split block with stamp <= t replace the
units it marks, in order of stamp (`kernel`). Blocks of task t exist from
the moment task t is added, so a compiled function traced at any point of
task t's training sees every block that task t will ever use; expansion,
pruning and splitting only change values and masks.
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from dfcnn_tf.models.heads import DEFAULT_BIAS, DENSE_STDDEV

BASE, EXPAND, SPLIT = "base", "expand", "split"


@dataclasses.dataclass(eq=False)
class Block:
    """Weights of some units of a layer, created at task `stamp`.

    Attributes:
        kind: "base", "expand" or "split".
        stamp: the task that created the block.
        kernel: `(*spatial, n_in, n_units)` variable.
        bias: `(n_units,)` variable.
        mask: `(n_units,)` non-trainable 0/1 variable (alive / duplicated).
        anchor: non-trainable copies `(kernel, bias)` of the values at the
            start of the task being trained, or None before they are needed.
    """

    kind: str
    stamp: int
    kernel: keras.Variable
    bias: keras.Variable
    mask: keras.Variable
    anchor: tuple | None = None

    @property
    def n_in(self):
        return int(self.kernel.shape[-2])

    @property
    def n_units(self):
        return int(self.kernel.shape[-1])

    def live(self):
        """Boolean `(n_units,)`: which units this block currently holds."""
        return self.mask.numpy() > 0.5


class ExpandableLayer(keras.layers.Layer):
    """The blocks of one conv or hidden FC layer.

    A Keras layer only so that Keras tracks its variables (`block_variables`:
    each block's kernel, bias and mask, then its anchors, in order of
    creation); the model computes with its kernels (`live_kernel`), never
    calls it.

    Args:
        name: the layer's name, prefix of the variable names.
        spatial: the kernel's leading axes, e.g. `(3, 3)` for a conv layer,
            `(8, 8)` for an FC layer on a flattened 8x8 map, `()` for FC on FC.
        units: the number of units task 0 starts with.
        expansion: units added per task t >= 1.
    """

    def __init__(self, name, spatial, units, expansion):
        super().__init__(name=name)
        self.spatial = tuple(int(s) for s in spatial)
        self.base_units = int(units)
        self.expansion = int(expansion)
        self.blocks = []
        self.block_variables = []  # tracked by Keras, in order of creation
        self.built = True  # blocks come with tasks, not with an input shape

    def units(self, task_id):
        """How many logical units task `task_id` sees (alive or not)."""
        return self.base_units + self.expansion * task_id

    def add_task(self, task_id, n_in, n_in_before):
        """Creates task `task_id`'s blocks.

        Args:
            task_id: the new task.
            n_in: units of the layer below that task `task_id` sees.
            n_in_before: units of the layer below that task `task_id - 1` sees.
        """
        if task_id == 0:
            self._add_block(self._block(BASE, 0, n_in, self.base_units, 1.0))
            return
        self._add_block(self._block(EXPAND, task_id, n_in, self.expansion, 0.0))
        old = self.units(task_id - 1)
        self._add_block(self._block(SPLIT, task_id, n_in_before, old, 0.0))

    def _add_block(self, block):
        self.blocks.append(block)
        self.block_variables.extend([block.kernel, block.bias, block.mask])

    def _block(self, kind, stamp, n_in, n_units, mask):
        shape = (*self.spatial, n_in, n_units)
        prefix = f"{self.name}_t{stamp}_{kind}"
        if kind == SPLIT:  # filled when units are duplicated
            kernel, bias = np.zeros(shape, "float32"), np.zeros(n_units, "float32")
        else:
            init = keras.initializers.TruncatedNormal(stddev=DENSE_STDDEV)
            kernel = init(shape)
            bias = np.full(n_units, DEFAULT_BIAS, "float32")
        return Block(
            kind,
            stamp,
            keras.Variable(kernel, dtype="float32", name=f"{prefix}_kernel"),
            keras.Variable(bias, dtype="float32", name=f"{prefix}_bias"),
            keras.Variable(
                np.full(n_units, mask, "float32"),
                trainable=False,
                name=f"{prefix}_mask",
            ),
        )

    def visible(self, task_id, kinds=(BASE, EXPAND, SPLIT)):
        """Blocks of the given kinds that task `task_id` uses, oldest first."""
        return [b for b in self.blocks if b.stamp <= task_id and b.kind in kinds]

    def block(self, task_id, kind):
        """Task `task_id`'s own block of `kind` ("expand" or "split")."""
        return next(b for b in self.blocks if b.stamp == task_id and b.kind == kind)

    def kernel(self, task_id):
        """Task `task_id`'s kernel `(*spatial, n_in, units(t))` and bias `(units(t),)`.

        Dead expand units have zero kernel and bias; split blocks overwrite the
        units they mark, later stamps last.
        """
        n_in = self.visible(task_id, (BASE, EXPAND))[-1].n_in
        kernels, biases = [], []
        for block in self.visible(task_id, (BASE, EXPAND)):
            kernels.append(_pad_axis(block.kernel * block.mask, -2, n_in))
            biases.append(block.bias * block.mask)
        kernel, bias = tf.concat(kernels, axis=-1), tf.concat(biases, axis=0)
        n_units = self.units(task_id)
        for block in self.visible(task_id, (SPLIT,)):
            chosen = _pad_axis(block.mask, 0, n_units) > 0.5  # (units(t),)
            copy = _pad_axis(_pad_axis(block.kernel, -2, n_in), -1, n_units)
            kernel = tf.where(chosen, copy, kernel)
            bias = tf.where(chosen, _pad_axis(block.bias, 0, n_units), bias)
        return kernel, bias

    def live_kernel(self, task_id, input_index=None):
        """Task `task_id`'s kernel and bias restricted to its alive units.

        Dead units would only add zeros; leaving them out keeps the compute
        at the size of the live network. The indices are read from the masks
        when the graph runs, so a compiled function stays valid as units are
        added or pruned.

        Args:
            task_id: the task.
            input_index: int indices of the alive units of the layer below
                (None: every input, e.g. image channels).

        Returns:
            `(kernel (*spatial, alive inputs, alive units), bias, index)` where
            `index` holds the alive units' positions among `units(task_id)`.
        """
        kernel, bias = self.kernel(task_id)
        masks = [b.mask for b in self.visible(task_id, (BASE, EXPAND))]
        index = tf.reshape(tf.where(tf.concat(masks, axis=0) > 0.5), [-1])
        kernel = tf.gather(kernel, index, axis=-1)
        if input_index is not None:
            kernel = tf.gather(kernel, input_index, axis=-2)
        return kernel, tf.gather(bias, index), index

    def versions(self, task_id):
        """For each of task `task_id`'s units, the `(block, column)` it reads."""
        owners = []
        for block in self.visible(task_id, (BASE, EXPAND)):
            owners += [(block, c) for c in range(block.n_units)]
        for block in self.visible(task_id, (SPLIT,)):
            for p in np.flatnonzero(block.live()):
                owners[p] = (block, p)
        return owners

    def alive(self, task_id):
        """Boolean `(units(t),)`: which of task `task_id`'s units are alive."""
        return np.concatenate([b.live() for b in self.visible(task_id, (BASE, EXPAND))])

    def trainable_masks(self, task_id, groups):
        """0/1 masks that let task `task_id` train the given incoming weights.

        Args:
            task_id: the task being trained.
            groups: `(units, rows)` pairs; `units` a boolean over
                `units(task_id)`, `rows` a boolean over the layer below's units
                (None: every input). The current version of each marked unit
                may change its bias and its weights from the marked rows.

        Returns:
            `(variable, mask)` pairs, masks as float32 tensors of the variable's
            shape, leaving out variables whose mask is all zero.
        """
        owners, masks = self.versions(task_id), {}
        for units, rows in groups:
            for p in np.flatnonzero(units):
                block, column = owners[p]
                if id(block) not in masks:
                    masks[id(block)] = (
                        block,
                        np.zeros((block.n_in, block.n_units), bool),
                        np.zeros(block.n_units, bool),
                    )
                _, kernel, bias = masks[id(block)]
                kernel[:, column] |= True if rows is None else rows[: block.n_in]
                bias[column] = True
        pairs = []
        for block, kernel, bias in masks.values():
            kernel = np.broadcast_to(kernel, block.kernel.shape)
            for variable, mask in ((block.kernel, kernel), (block.bias, bias)):
                if mask.any():
                    pairs.append((variable, tf.constant(mask, tf.float32)))
        return pairs

    def set_anchors(self, task_id):
        """Records the values of the blocks older than `task_id` (drift reference)."""
        for block in self.blocks:
            if block.stamp >= task_id or not block.live().any():
                continue
            if block.anchor is None:
                block.anchor = tuple(
                    keras.Variable(v.numpy(), trainable=False, name=f"{v.name}_anchor")
                    for v in (block.kernel, block.bias)
                )
                self.block_variables.extend(block.anchor)
            else:
                for anchor, variable in zip(
                    block.anchor, (block.kernel, block.bias), strict=True
                ):
                    anchor.assign(variable)

    def anchored(self, task_id):
        """`(variable, anchor)` pairs of the blocks older than `task_id`."""
        return [
            pair
            for block in self.blocks
            if block.stamp < task_id and block.anchor is not None
            for pair in zip((block.kernel, block.bias), block.anchor, strict=True)
        ]

    def drift(self, task_id):
        """Per unit older than `task_id`: `||w - w_anchor||_2` over its incoming
        weights and bias, for units whose current version older tasks share
        (0 for the others).
        """
        drift = np.zeros(self.units(task_id - 1))
        norms = {}
        for p, (block, column) in enumerate(self.versions(task_id)[: drift.size]):
            if block.stamp >= task_id or block.anchor is None:
                continue
            if id(block) not in norms:
                norms[id(block)] = _column_norms(
                    block.kernel.numpy() - block.anchor[0].numpy(),
                    block.bias.numpy() - block.anchor[1].numpy(),
                )
            drift[p] = norms[id(block)][column]
        return drift

    def split(self, task_id, units):
        """Duplicates the marked units older than `task_id`.

        The copy in task `task_id`'s split block takes the current weights and
        serves task `task_id` and later; the older version returns to its
        anchor (the weights before task `task_id`).
        """
        target = self.block(task_id, SPLIT)
        values = {id(target): (target, target.kernel.numpy(), target.bias.numpy())}
        mask = target.mask.numpy()
        owners = self.versions(task_id)
        for p in np.flatnonzero(units):
            block, column = owners[p]
            anchor = (block.anchor[0].numpy(), block.anchor[1].numpy())
            source = values.setdefault(
                id(block), (block, block.kernel.numpy(), block.bias.numpy())
            )
            values[id(target)][1][..., : block.n_in, p] = source[1][..., column]
            values[id(target)][2][p] = source[2][column]
            source[1][..., column] = anchor[0][..., column]
            source[2][column] = anchor[1][column]
            mask[p] = 1.0
        for block, kernel, bias in values.values():
            block.kernel.assign(kernel)
            block.bias.assign(bias)
        target.mask.assign(mask)

    def expand(self, task_id):
        """Brings task `task_id`'s expansion units to life."""
        self.block(task_id, EXPAND).mask.assign(np.ones(self.expansion, "float32"))

    def prune(self, task_id, threshold):
        """Kills task `task_id`'s expansion units whose incoming-weight norm is
        below `threshold` (zeroing their weights); returns how many stay alive.
        """
        block = self.block(task_id, EXPAND)
        kernel, bias = block.kernel.numpy(), block.bias.numpy()
        dead = _column_norms(kernel) < threshold
        kernel[..., dead], bias[dead] = 0.0, 0.0
        block.kernel.assign(kernel)
        block.bias.assign(bias)
        block.mask.assign(np.where(dead, 0.0, block.mask.numpy()).astype("float32"))
        return int(block.live().sum())

    def count_live_params(self, inputs_alive):
        """Scalar parameters held for live units, counting inputs alive in
        `inputs_alive` (a boolean over the layer below's units; None: all).
        """
        total = 0
        for block in self.blocks:
            if inputs_alive is None:
                n_in = block.n_in
            else:
                n_in = int(np.sum(inputs_alive[: block.n_in]))
            per_unit = int(np.prod(self.spatial)) * n_in + 1
            total += per_unit * int(block.live().sum())
        return total


def _pad_axis(tensor, axis, size):
    """Zero-pads `tensor` at the end of `axis` to length `size`."""
    tensor = tf.convert_to_tensor(tensor)
    missing = size - int(tensor.shape[axis])
    if missing == 0:
        return tensor
    paddings = [[0, 0] for _ in tensor.shape]
    paddings[axis] = [0, missing]
    return tf.pad(tensor, paddings)


def _column_norms(kernel, bias=None):
    """L2 norm per unit (last axis) of a kernel, with its bias if given."""
    squares = np.sum(np.square(kernel.reshape(-1, kernel.shape[-1])), axis=0)
    if bias is not None:
        squares = squares + np.square(bias)
    return np.sqrt(squares)
