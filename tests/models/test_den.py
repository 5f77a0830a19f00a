"""Tests of DEN (Yoon et al. 2018): expansion, split, timestamps.

See docs/method.md, section 'Baselines'.
"""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from dfcnn_tf.config import ConvSpec, DENOptions, ModelConfig
from dfcnn_tf.data import Task
from dfcnn_tf.errors import ConfigError
from dfcnn_tf.models.den import DynamicallyExpandableNetwork
from dfcnn_tf.models.den_layer import EXPAND, SPLIT
from dfcnn_tf.models.den_training import DENSchedule, stage_epochs
from dfcnn_tf.models.hps import HardParameterSharing
from dfcnn_tf.presets import get_preset
from dfcnn_tf.presets.base import eval_every
from dfcnn_tf.registry import get_model_class
from dfcnn_tf.training import train_lifelong

INPUT_SHAPE = (8, 8, 3)
EXPANSION = 2
NUM_CLASSES = 3
# Per new unit: conv_0 3*3*3 + 1; conv_1 3*3*(4 + 2) + 1; fc_0 on the pooled
# 4x4 map of 4 + 2 channels, 4*4*6 + 1. Task 1's head reads 8 + 2 FC units.
NEW_UNIT_PARAMS = (28, 55, 97)
# Per split unit: the copy's inputs are the units older than task 1.
SPLIT_UNIT_PARAMS = (3 * 3 * 3 + 1, 3 * 3 * 4 + 1, 4 * 4 * 4 + 1)
HEAD_1_PARAMS = {True: 10 * 3 + 3, False: 8 * 3 + 3}  # expanded or not
TRAIN = dataclasses.replace(
    get_preset("cifar100_10_smoke").train,
    epochs_per_task=4,  # one epoch per stage
    **eval_every(2),  # the evaluator first runs before task 1 expands
    learning_rate=1e-2,
)


def tiny_config(**den):
    return ModelConfig(
        name="den",
        conv=(ConvSpec(4, 3), ConvSpec(4, 3, pool=2)),
        fc_hidden=(8,),
        den=dataclasses.replace(DENOptions(expansion_units=EXPANSION), **den),
    )


def tiny_model(num_tasks=2, seed=0, **den):
    keras.utils.set_random_seed(seed)
    model = DynamicallyExpandableNetwork(tiny_config(**den), INPUT_SHAPE)
    for _ in range(num_tasks):
        model.add_task(NUM_CLASSES)
    return model


def images(n=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, *INPUT_SHAPE)).astype("float32")


def synthetic_task(task_id, rng):
    def split(n):
        x = rng.normal(size=(n, *INPUT_SHAPE)).astype("float32")
        return x, rng.integers(0, NUM_CLASSES, n).astype("int64")

    return Task(task_id, (0, 1, 2), *split(20), *split(6), *split(9))


def train_two_tasks(**den):
    """Trains two tasks; returns the model, tasks, rows and what task 0 left."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    model = DynamicallyExpandableNetwork(tiny_config(**den), INPUT_SHAPE)
    tasks = [synthetic_task(0, rng), synthetic_task(1, rng)]
    saved = {}

    def on_task_end(task_id, rows):
        saved[task_id] = {
            "count": model.count_params(),
            "task0": [v.numpy().copy() for v in model.task_variables(0)],
            "shared": {v.path: v.numpy().copy() for v in model.shared_variables},
        }

    rows = train_lifelong(model, tasks, TRAIN, on_task_end=on_task_end)
    return model, tasks, rows, saved


@pytest.fixture(scope="module")
def expanded():
    """Loss threshold 0: the loss cannot meet it, so task 1 expands."""
    return train_two_tasks(loss_threshold=0.0)


def layer_deltas(growth, sizes):
    return sum(n * size for n, size in zip(growth, sizes, strict=True))


# --------------------------------------------------------------- stages


def test_stage_epochs_sum_to_the_task_budget():
    order = ["output", "selective", "expand", "split"]
    for epochs in range(1, 60):
        stages = stage_epochs(epochs)
        assert sum(n for _, n in stages) == epochs
        assert all(n >= 1 for _, n in stages)
        names = [name for name, _ in stages]
        assert names == [name for name in order if name in names]
    assert stage_epochs(1) == [("selective", 1)]
    assert stage_epochs(2) == [("selective", 1), ("expand", 1)]
    assert [n for _, n in stage_epochs(2000)] == [200, 800, 600, 400]
    model = tiny_model()
    for task_id in (0, 1):
        stages = model.training_stages(task_id, 7)
        assert sum(stage.epochs for stage in stages) == 7


def stage_gradients(model, stage, x, y):
    variables = stage.variables()
    masks = stage.gradient_masks() if stage.gradient_masks else None
    with tf.GradientTape() as tape:
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(y, model(x, 1))
        loss = tf.reduce_sum(losses) + stage.penalty()
    return variables, masks, tape.gradient(loss, variables)


def test_every_stage_variable_gets_a_gradient():
    model = tiny_model()
    x, y = images(8), tf.constant([0, 1, 2, 0, 1, 2, 0, 1], tf.int64)
    seen = []
    names = [name for name, _ in stage_epochs(8)]
    for name, stage in zip(names, model.training_stages(1, 8), strict=True):
        if name == "expand":  # as if training had moved conv_0's unit 2
            unit = model.expandable_layers[0].blocks[0].kernel
            unit.assign(unit.numpy() + np.eye(4, dtype="float32")[2] * 0.3)
        variables, masks, gradients = stage_gradients(model, stage, x, y)
        assert len({id(v) for v in variables}) == len(variables)
        for i, (variable, gradient) in enumerate(
            zip(variables, gradients, strict=True)
        ):
            assert gradient is not None, variable.path
            assert np.any(gradient.numpy() != 0), variable.path
            if masks is not None and masks[i] is not None:
                assert np.any((gradient * masks[i]).numpy() != 0), variable.path
        seen.append({v.path for v in variables})
        if stage.finish is not None:
            stage.finish(1.0)  # above loss_threshold: expand
    assert model.growth[1] == {"expanded": [2, 2, 2], "split": [1, 0, 0]}
    split_copy = model.expandable_layers[0].block(1, SPLIT).kernel.path
    assert split_copy in seen[-1]
    assert all(
        model.expandable_layers[0].block(1, EXPAND).kernel.path in s for s in seen[2:]
    )


def test_first_task_trains_everything_with_l1():
    model = tiny_model(num_tasks=1)
    (stage,) = model.training_stages(0, 5)
    assert stage.epochs == 5
    assert {v.path for v in stage.variables()} == {
        v.path for v in model.shared_variables + model.task_variables(0)
    }
    assert float(stage.penalty()) > 0


# ---------------------------------------------------------------- sizes


def test_cifar_parameter_count_one_task_equals_hps():
    """One task: the HPS net, 65,568 conv + 262,858 FC (see test_param_counts).

    Expanding task 2 (16 units per layer) adds, per layer,
    16 * (inputs * k * k + 1): conv 16*28 = 448, 16*(48*9+1) = 6,928 twice
    (inputs 32+16), 16*(80*9+1) = 11,536 (inputs 64+16), FC 16*(8*8*80+1) =
    81,936; task 2's head reads 64+16 units: 80*10 + 10 = 810.
    """
    preset = get_preset("cifar100_10")
    keras.utils.set_random_seed(0)
    model = get_model_class("den")(preset.models["den"], (32, 32, 3))
    hps = HardParameterSharing(preset.models["hps"], (32, 32, 3))
    model.add_task(10)
    hps.add_task(10)
    assert model.count_params() == hps.count_params() == 65_568 + 262_858
    model.add_task(10)  # expansion units exist but are dead until expanded
    assert model.count_params() == 328_426 + 650
    for layer in model.expandable_layers:
        layer.expand(1)
    assert model.count_params() == 328_426 + 107_776 + 810


def test_output_shapes_and_finite():
    model = tiny_model(num_tasks=0)
    for num_classes in (3, 5):
        model.add_task(num_classes)
    for layer in model.expandable_layers:
        layer.expand(1)
    for task_id, num_classes in ((0, 3), (1, 5)):
        for training in (False, True):
            logits = model(images(), task_id, training=training).numpy()
            assert logits.shape == (5, num_classes)
            assert np.all(np.isfinite(logits))


def test_invalid_options_raise_config_error():
    for changes in ({"expansion_units": 0}, {"sparsity_threshold": 1.5}):
        with pytest.raises(ConfigError, match=next(iter(changes))):
            tiny_model(**changes)


# ------------------------------------------------------------ expansion


def test_expansion_when_the_loss_threshold_is_not_met(expanded):
    model, _, _, saved = expanded
    growth = model.growth[1]
    assert growth["expanded"] == [EXPANSION] * 3
    for layer in model.expandable_layers:
        assert np.all(layer.block(1, EXPAND).live())
    added = saved[1]["count"] - saved[0]["count"]
    assert added == (
        HEAD_1_PARAMS[True]
        + layer_deltas(growth["expanded"], NEW_UNIT_PARAMS)
        + layer_deltas(growth["split"], SPLIT_UNIT_PARAMS)
    )


def test_no_expansion_when_the_loss_threshold_is_met():
    model, _, _, saved = train_two_tasks(loss_threshold=1e9)
    growth = model.growth[1]
    assert growth["expanded"] == [0, 0, 0]
    for layer in model.expandable_layers:
        assert not np.any(layer.block(1, EXPAND).live())
    added = saved[1]["count"] - saved[0]["count"]
    assert added == HEAD_1_PARAMS[False] + layer_deltas(
        growth["split"], SPLIT_UNIT_PARAMS
    )


def test_pruning_drops_new_units_with_near_zero_weights():
    model = tiny_model()
    for layer in model.expandable_layers:
        layer.expand(1)
    layer = model.expandable_layers[1]
    block = layer.block(1, EXPAND)
    before = model.count_params()
    kernel = block.kernel.numpy()
    kernel[..., 0] = 1e-4  # norm sqrt(54) * 1e-4, below zero_threshold 0.01
    block.kernel.assign(kernel)
    assert layer.prune(1, model.options.zero_threshold) == EXPANSION - 1
    np.testing.assert_array_equal(block.live(), [False, True])
    assert np.all(block.kernel.numpy()[..., 0] == 0)
    # the unit and its outgoing weights into fc_0's new units (4*4 each) go
    assert model.count_params() == before - NEW_UNIT_PARAMS[1] - 4 * 4 * EXPANSION


# ---------------------------------------------------------------- split


def test_split_duplicates_the_drifting_unit_and_keeps_old_weights():
    model = tiny_model()
    probe = images()
    task0_before = model(probe, 0).numpy()
    base = model.expandable_layers[0].blocks[0]
    original = base.kernel.numpy().copy()
    drifted = original.copy()
    drifted[..., 2] += 0.3  # as if training task 1 had moved unit 2
    base.kernel.assign(drifted)
    DENSchedule(model, 1).after_expand(loss=1.0)

    assert model.growth[1]["split"] == [1, 0, 0]
    copy = model.expandable_layers[0].block(1, SPLIT)
    np.testing.assert_array_equal(copy.live(), [False, False, True, False])
    np.testing.assert_array_equal(base.kernel.numpy(), original)  # old copy
    task1_kernel = model.expandable_layers[0].kernel(1)[0].numpy()
    np.testing.assert_array_equal(task1_kernel[..., 2], drifted[..., 2])
    np.testing.assert_array_equal(task1_kernel[..., :2], original[..., :2])
    np.testing.assert_array_equal(model(probe, 0).numpy(), task0_before)


def test_split_copy_serves_later_tasks_and_is_trained_by_them():
    model = tiny_model(num_tasks=2)
    base = model.expandable_layers[0].blocks[0]
    base.kernel.assign(base.kernel.numpy() + np.eye(4, dtype="float32")[1])
    DENSchedule(model, 1).after_expand(loss=1.0)
    model.add_task(NUM_CLASSES)
    copy = model.expandable_layers[0].block(1, SPLIT)
    task2 = model.expandable_layers[0].kernel(2)[0].numpy()
    np.testing.assert_array_equal(task2[..., 1], copy.kernel.numpy()[..., 1])
    trained = {id(v) for v in model.training_variables(2)}
    assert id(copy.kernel) in trained and id(base.kernel) in trained


# ---------------------------------------------------- lifelong invariants


def test_task0_variables_and_split_units_bit_identical(expanded):
    model, _, _, saved = expanded
    for before, now in zip(saved[0]["task0"], model.task_variables(0), strict=True):
        np.testing.assert_array_equal(before, now.numpy())
    # every unit split at task 1 keeps, for task 0, the weights task 0 left
    shared_at_0 = saved[0]["shared"]
    assert sum(model.growth[1]["split"]) > 0
    for layer in model.expandable_layers:
        split = np.flatnonzero(layer.block(1, SPLIT).live())
        base = layer.blocks[0]
        np.testing.assert_array_equal(
            base.kernel.numpy()[..., split], shared_at_0[base.kernel.path][..., split]
        )


def test_task0_logits_use_only_units_up_to_task0():
    model = tiny_model()
    for layer in model.expandable_layers:
        layer.expand(1)
    probe = images()
    task0, task1 = model(probe, 0).numpy(), model(probe, 1).numpy()
    rng = np.random.default_rng(3)
    for layer in model.expandable_layers:
        for block in layer.blocks:
            if block.stamp == 1:
                for variable in (block.kernel, block.bias, block.mask):
                    variable.assign(rng.normal(size=variable.shape) + 1.0)
    np.testing.assert_array_equal(model(probe, 0).numpy(), task0)
    assert not np.allclose(model(probe, 1).numpy(), task1)


def test_recorded_accuracy_matches_direct_prediction(expanded):
    """The evaluator's compiled functions see the units added during training."""
    model, tasks, rows, _ = expanded
    last = {
        (r["task"], r["split"]): r["accuracy"]
        for r in rows
        if r["training_task"] == 1 and r["task_epoch"] == TRAIN.epochs_per_task
    }
    for task in tasks:
        for split in ("train", "valid", "test"):
            x, y = task.split(split)
            predicted = np.argmax(model(x, task.task_id).numpy(), axis=-1)
            assert last[(task.task_id, split)] == pytest.approx(np.mean(predicted == y))


def test_training_variables_are_the_live_units_and_the_head():
    model = tiny_model()
    names = {v.path for v in model.training_variables(1)}
    assert names == {
        v.path
        for layer in model.expandable_layers
        for v in (layer.blocks[0].kernel, layer.blocks[0].bias)
    } | {v.path for v in model.task_variables(1)}
    for layer in model.expandable_layers:
        layer.expand(1)
    assert len(model.training_variables(1)) == len(names) + 2 * len(
        model.expandable_layers
    )
