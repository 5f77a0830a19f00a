"""Same seed, same numbers; `seed` reaches data, task order, weights and dropout."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from dfcnn_tf.experiment import prepare, run_experiment
from dfcnn_tf.overrides import apply_overrides
from dfcnn_tf.presets import get_preset
from dfcnn_tf.training.model_state import model_variables

from .tiny import fake_cifar100


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory):
    """A small synthetic `cifar100.npz`."""
    return fake_cifar100(tmp_path_factory.mktemp("data"))


def experiment(data_folder, seed, *overrides):
    """The smoke preset, 2 tasks x 2 epochs on `data_folder`, then `overrides`."""
    base = get_preset("cifar100_10_smoke").experiment("dfcnn", seed)
    return apply_overrides(
        base,
        [
            f"data.data_dir={str(data_folder)!r}",
            "data.num_tasks=2",
            "train.epochs_per_task=2",
            *overrides,
        ],
    )


def prepared(data_folder, seed, *overrides):
    """Tasks and model as `run_experiment` prepares them, task 0 added."""
    tasks, model = prepare(experiment(data_folder, seed, *overrides))
    model.add_task(tasks[0].num_classes)
    return tasks, model


def weights(model):
    return {k: v.numpy() for k, v in model_variables(model).items()}


def same_weights(first, second):
    return all(np.array_equal(first[k], second[k]) for k in first)


def test_same_seed_same_tasks_order_and_initial_weights(data_folder):
    tasks, model = prepared(data_folder, seed=3)
    again_tasks, again_model = prepared(data_folder, seed=3)
    for task, again in zip(tasks, again_tasks, strict=True):
        assert task.classes == again.classes
        np.testing.assert_array_equal(task.x_train, again.x_train)
    assert same_weights(weights(model), weights(again_model))


def test_seed_reaches_data_subsets_and_initial_weights(data_folder):
    tasks, model = prepared(data_folder, seed=3)
    other_tasks, other_model = prepared(data_folder, seed=4)
    for task, other in zip(tasks, other_tasks, strict=True):
        assert task.classes == other.classes  # the paper's partition
        assert not np.array_equal(task.x_train, other.x_train)
    assert not same_weights(weights(model), weights(other_model))


def test_seed_reaches_partition_and_task_order(data_folder):
    order = ["data.task_order='permuted'", "data.partition='random'"]

    def classes(seed):
        return [task.classes for task in prepared(data_folder, seed, *order)[0]]

    assert classes(3) != classes(4)
    assert classes(3) == classes(3)


def dropout_output(data_folder, seed, values=None):
    """Training-mode logits (dropout on) of task 0, with `values` as weights."""
    tasks, model = prepared(data_folder, seed)
    for key, variable in model_variables(model).items():
        if values is not None and "seed_generator" not in variable.path:
            variable.assign(values[key])
    x = tasks[0].x_train[:8]
    return model(x, 0, training=True).numpy(), weights(model)


def test_seed_reaches_dropout(data_folder):
    out, values = dropout_output(data_folder, 3)
    same, _ = dropout_output(data_folder, 3, values)
    other, _ = dropout_output(data_folder, 4, values)  # same weights, other seed
    np.testing.assert_array_equal(out, same)
    assert not np.array_equal(out, other)


@pytest.mark.slow
def test_two_runs_with_one_seed_give_identical_histories(data_folder, tmp_path):
    runs = []
    for name in ("first", "second", "other_seed"):
        seed = 4 if name == "other_seed" else 3
        result = run_experiment(experiment(data_folder, seed), tmp_path / name, True)
        runs.append(result.history.drop(columns=["time", "run", "seed"]))
    pd.testing.assert_frame_equal(runs[0], runs[1])
    assert not runs[0].accuracy.equals(runs[2].accuracy)


def test_run_control_fields_leave_the_run_id(data_folder):
    from dfcnn_tf.results import config_hash, run_id

    base = experiment(data_folder, 3)
    changed = dataclasses.replace(
        base,
        train=dataclasses.replace(base.train, checkpoint_every=5, deterministic=False),
    )
    assert config_hash(base) == config_hash(changed)
    assert run_id(base) == run_id(changed)
