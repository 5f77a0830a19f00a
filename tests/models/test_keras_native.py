"""Every lifelong model is a `keras.Model`: summary, weights files, tracking."""

import keras
import numpy as np
import pytest

from dfcnn_tf.models import DynamicallyExpandableNetwork, LifelongModel
from dfcnn_tf.models.den_layer import SPLIT
from dfcnn_tf.presets import get_preset
from dfcnn_tf.registry import build_model, model_names
from dfcnn_tf.training.model_state import model_variables

PRESET = get_preset("cifar100_10_smoke")
INPUT_SHAPE = (32, 32, 3)
CLASSES = (3, 4)


def build(name, seed=0):
    keras.utils.set_random_seed(seed)
    model = build_model(PRESET.experiment(name).model, INPUT_SHAPE)
    for num_classes in CLASSES:
        model.add_task(num_classes)
    return model


def images(n=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, *INPUT_SHAPE)).astype("float32")


def logits(model, x):
    return [model(x, task_id).numpy() for task_id in range(model.num_tasks)]


def listed_count(model):
    """The paper's count: shared variables plus every task's, each once."""
    variables = {id(v): v for v in model.shared_variables}
    for task_id in range(model.num_tasks):
        variables.update({id(v): v for v in model.task_variables(task_id)})
    return sum(int(np.prod(v.shape)) for v in variables.values())


@pytest.fixture(scope="module", params=model_names())
def model(request):
    return build(request.param)


def test_is_a_built_keras_model(model):
    assert isinstance(model, keras.Model) and isinstance(model, LifelongModel)
    assert model.built
    assert model.input_shape == INPUT_SHAPE


def test_summary_lists_every_layer(model):
    lines = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    text = "\n".join(lines)
    assert model.layers
    for layer in model.layers:
        assert layer.name in text


def test_count_params_is_the_shared_and_task_variables(model):
    if isinstance(model, DynamicallyExpandableNetwork):
        pytest.skip("DEN counts live units only (test_den_count_params_...)")
    assert model.count_params() == listed_count(model)
    # parameters are the trainable weights; the baselines' state (memory,
    # Fisher, anchors) is non-trainable and not a parameter
    trainable = model.trainable_weights
    assert model.count_params() == sum(int(np.prod(v.shape)) for v in trainable)


def test_keras_tracks_exactly_the_checkpointed_variables(model):
    tracked = {id(v) for v in model.variables}
    assert {id(v) for v in model_variables(model).values()} == tracked
    listed = list(model.shared_variables)
    for task_id in range(model.num_tasks):
        listed += model.training_variables(task_id)
    assert {id(v) for v in listed} <= {id(v) for v in model.trainable_variables}


@pytest.mark.parametrize("name", model_names())
def test_weights_file_round_trip_gives_identical_logits(name, tmp_path):
    model = build(name, seed=0)
    for variable in model.trainable_variables:  # move away from the initial values
        variable.assign(variable + np.float32(0.01))
    path = str(tmp_path / f"{name}.weights.h5")
    model.save_weights(path)
    fresh = build(name, seed=1)
    x = images()
    before = zip(logits(model, x), logits(fresh, x), strict=True)
    assert not all(np.array_equal(a, b) for a, b in before)
    fresh.load_weights(path)
    for expected, restored in zip(logits(model, x), logits(fresh, x), strict=True):
        np.testing.assert_array_equal(restored, expected)


def test_den_weights_file_holds_masks_and_anchors(tmp_path):
    model = build("den")
    layer = model.expandable_layers[0]
    layer.expand(1)
    layer.block(1, SPLIT).mask.assign(np.ones(layer.units(0), "float32"))
    path = str(tmp_path / "den.weights.h5")
    model.save_weights(path)
    fresh = build("den", seed=1)
    fresh.load_weights(path)
    saved, restored = model_variables(model), model_variables(fresh)
    assert list(saved) == list(restored)
    assert any(key.endswith("_mask") for key in saved)
    assert any(key.endswith("_anchor") for key in saved)
    for key, variable in saved.items():
        if "seed_generator" not in key:
            np.testing.assert_array_equal(restored[key].numpy(), variable.numpy())
    x = images()
    for expected, got in zip(logits(model, x), logits(fresh, x), strict=True):
        np.testing.assert_array_equal(got, expected)


def test_den_count_params_leaves_out_masks_anchors_and_dead_units():
    model = build("den")
    live = model.count_params()
    assert live < listed_count(model)
    assert listed_count(model) < sum(int(np.prod(v.shape)) for v in model.weights)
    model.expandable_layers[0].expand(1)
    assert model.count_params() > live
