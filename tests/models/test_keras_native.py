"""Every lifelong model is a Keras model: summary, weights files, tracking."""

import io

import keras
import numpy as np
import pytest
import tensorflow as tf

from dfcnn_tf.overrides import apply_overrides
from dfcnn_tf.registry import build_model, model_names
from dfcnn_tf.training.model_state import model_variables

from ..reliability.tiny import INPUT_SHAPE, tiny_experiment

EXTRA = {"dfcnn_direct": ["model.transforms=[[3, None], [3, None]]"]}


def two_task_model(name, seed=0):
    experiment = apply_overrides(tiny_experiment(name), EXTRA.get(name, []))
    keras.utils.set_random_seed(seed)
    model = build_model(experiment.model, INPUT_SHAPE)
    model.add_task(3)
    model.add_task(2)
    return model


IMAGES = np.random.default_rng(0).normal(size=(4, *INPUT_SHAPE)).astype("float32")


@pytest.mark.parametrize("name", model_names())
def test_summary_lists_the_layers(name):
    model = two_task_model(name)
    assert isinstance(model, keras.Model)
    text = io.StringIO()
    model.summary(print_fn=lambda line, **kwargs: text.write(line + "\n"))
    assert "Total params" in text.getvalue()
    assert model.layers  # Keras tracks the towers / trunk / heads


@pytest.mark.parametrize("name", model_names())
def test_keras_tracks_the_variables_the_checkpoints_hold(name):
    model = two_task_model(name)
    ours = {id(v) for v in model_variables(model).values()}
    tracked = {id(v) for v in model.variables}
    assert tracked <= ours
    if name != "den":  # DEN's drift anchors are not Keras-tracked (model_state)
        assert tracked == ours
    trained = {id(v) for t in range(2) for v in model.training_variables(t)}
    assert trained <= ours


@pytest.mark.parametrize("name", model_names())
def test_save_weights_then_load_weights_gives_the_same_outputs(name, tmp_path):
    model = two_task_model(name, seed=0)
    path = tmp_path / f"{name}.weights.h5"
    model.save_weights(path)
    fresh = two_task_model(name, seed=1)  # other initial values
    before = fresh.inference(1)(tf.constant(IMAGES)).numpy()
    fresh.load_weights(path)
    for task_id in range(2):
        expected = model.inference(task_id)(tf.constant(IMAGES)).numpy()
        loaded = fresh.inference(task_id)(tf.constant(IMAGES)).numpy()
        np.testing.assert_array_equal(loaded, expected)
    assert not np.array_equal(before, expected)
