"""Tests of `dfcnn_tf.experiment.build_tasks`: the data seed of a trial.

`data.resample_per_seed` true draws a new task set per seed (the paper); false
shares one draw, made with `SHARED_DATA_SEED`, between all seeds (the released
code's trials). docs/method.md, section "Data protocols".
"""

import dataclasses

import numpy as np
import pytest

from dfcnn_tf.config import DataConfig, Experiment, ModelConfig
from dfcnn_tf.config_checks import validate
from dfcnn_tf.errors import ConfigError
from dfcnn_tf.experiment import SHARED_DATA_SEED, build_tasks, data_seed

pytestmark = pytest.mark.slow  # loads the real CIFAR-100 and MNIST arrays

ARRAYS = ("x_train", "y_train", "x_valid", "y_valid", "x_test", "y_test")


def same_tasks(first, second):
    """True if both task lists hold the same classes and identical arrays."""
    if len(first) != len(second):
        return False
    return all(
        a.classes == b.classes
        and all(np.array_equal(getattr(a, n), getattr(b, n)) for n in ARRAYS)
        for a, b in zip(first, second, strict=True)
    )


def cifar100(data_dir, **fields):
    return DataConfig(num_tasks=2, data_dir=str(data_dir), **fields)


def test_default_draws_new_images_per_seed(data_dir):
    data = cifar100(data_dir)
    assert data.resample_per_seed is True
    assert not same_tasks(build_tasks(data, 0), build_tasks(data, 1))


def test_shared_draw_gives_identical_tasks_for_every_seed(data_dir):
    data = cifar100(data_dir, resample_per_seed=False)
    first = build_tasks(data, 1)
    assert same_tasks(first, build_tasks(data, 2))
    # ... the draw of the fixed data seed, not of either trial's seed
    resampled = dataclasses.replace(data, resample_per_seed=True)
    assert same_tasks(first, build_tasks(resampled, SHARED_DATA_SEED))
    assert not same_tasks(first, build_tasks(resampled, 1))


def test_shared_draw_fixes_a_permuted_order_and_random_partition(data_dir):
    data = cifar100(
        data_dir, resample_per_seed=False, task_order="permuted", partition="random"
    )
    assert same_tasks(build_tasks(data, 3), build_tasks(data, 4))


def test_shared_draw_means_the_same_for_binary_tasks(data_dir):
    data = DataConfig(dataset="mnist", num_tasks=2, data_dir=str(data_dir))
    shared = dataclasses.replace(data, resample_per_seed=False)
    assert same_tasks(build_tasks(shared, 0), build_tasks(shared, 5))
    assert not same_tasks(build_tasks(data, 0), build_tasks(data, 5))


def test_data_seed():
    assert data_seed(DataConfig(), 7) == 7
    assert data_seed(DataConfig(resample_per_seed=False), 7) == SHARED_DATA_SEED


def test_resample_per_seed_must_be_a_bool():
    model = ModelConfig(name="stl", conv=(), fc_hidden=())
    experiment = Experiment("x", model, DataConfig(resample_per_seed="no"))
    with pytest.raises(ConfigError, match="resample_per_seed"):
        validate(experiment)
