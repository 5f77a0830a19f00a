"""`model_variables`: every variable of every model, under stable keys."""

import re

import keras
import numpy as np
import pytest

from dfcnn_tf.registry import build_model
from dfcnn_tf.training.model_state import manifest, model_variables

from .tiny import INPUT_SHAPE, tiny_experiment

MODELS = ["dfcnn", "dfcnn_tc2", "stl", "hps", "prognn", "den", "tf"]


def build(name, tasks=2, seed=0):
    keras.utils.set_random_seed(seed)
    model = build_model(tiny_experiment(name).model, INPUT_SHAPE)
    for _ in range(tasks):
        model.add_task(3)
    return model


@pytest.mark.parametrize("name", MODELS)
def test_every_shared_and_task_variable_is_found(name):
    model = build(name)
    found = {id(v) for v in model_variables(model).values()}
    listed = list(model.shared_variables)
    for task_id in range(model.num_tasks):
        listed += model.task_variables(task_id)
    assert {id(v) for v in listed} <= found


@pytest.mark.parametrize("name", MODELS)
def test_dropout_seed_states_are_found(name):
    variables = model_variables(build(name)).values()
    seeds = [v for v in variables if "seed_generator_state" in v.path]
    assert seeds  # one per Dropout layer: dropout masks resume exactly


def test_den_masks_and_anchors_are_found():
    keys = list(model_variables(build("den", tasks=3)))
    assert any(k.endswith("_mask") for k in keys)
    assert any(k.endswith("_anchor") for k in keys)


@pytest.mark.parametrize("name", MODELS)
def test_keys_and_shapes_repeat_on_a_rebuild(name):
    first = manifest(model_variables(build(name, seed=0)))
    second = manifest(model_variables(build(name, seed=1)))
    assert first == second
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", key) for key in first)


def test_a_variable_reached_twice_is_listed_once():
    model = build("dfcnn")
    variables = list(model_variables(model).values())
    assert len({id(v) for v in variables}) == len(variables)
    kb = model.shared_variables[0]
    assert sum(v is kb for v in variables) == 1


def test_manifest_gives_shape_and_dtype():
    model = build("stl", tasks=1)
    entry = next(iter(manifest(model_variables(model)).values()))
    shape, dtype = entry
    assert isinstance(shape, list) and dtype == np.dtype("float32").name
