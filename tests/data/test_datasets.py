"""The data-set registry: one table read by the CLI, the tuner and the learner,
and the refusal of `DataConfig` fields the chosen data set does not read."""

import dataclasses

import numpy as np
import pytest

from dfcnn_tf.config import DataConfig
from dfcnn_tf.config_checks import validate
from dfcnn_tf.config_file import experiment_from_dict
from dfcnn_tf.data import BUILTIN_DATASETS, DATASETS, LOCAL_FILES, builtin_dataset
from dfcnn_tf.data.datasets import COMMON_FIELDS, SOURCE_FIELDS
from dfcnn_tf.errors import ConfigError
from dfcnn_tf.presets import PRESETS, get_preset
from tuning.spaces import LEARNING_RATES

DATA_FIELDS = {item.name for item in dataclasses.fields(DataConfig)}


def _with_data(**fields):
    experiment = get_preset("cifar100_10_smoke").experiment("dfcnn", 0)
    return dataclasses.replace(
        experiment, data=dataclasses.replace(experiment.data, **fields)
    )


def test_registry_names_every_built_in_set_and_its_fields():
    assert sorted(BUILTIN_DATASETS) == ["cifar10", "cifar100", "mnist", "officehome"]
    assert sorted(DATASETS) == sorted(LOCAL_FILES) == ["cifar10", "cifar100", "mnist"]
    for entry in BUILTIN_DATASETS.values():
        assert set(entry.reads) <= DATA_FIELDS
    assert set(SOURCE_FIELDS) <= DATA_FIELDS
    assert builtin_dataset("mnist").reads == (*COMMON_FIELDS, "task_set", "percent")


def test_tuner_learning_rates_come_from_the_registry():
    assert {
        name: entry.learning_rates for name, entry in BUILTIN_DATASETS.items()
    } == LEARNING_RATES
    assert LEARNING_RATES["officehome"] == (1e-6, 5e-6, 2e-5)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_validates(name):
    preset = get_preset(name)
    for model in preset.models:
        validate(preset.experiment(model, 0))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"percent": 10.0},
            "data.percent=10.0 is not read by data set cifar100; it reads num_tasks, "
            "task_order, resample_per_seed, data_dir, classes_per_task, "
            "train_per_class, valid_per_class, partition",
        ),
        (
            {"dataset": "mnist", "partition": "random"},
            "data.partition='random' is not read by data set mnist; it reads "
            "num_tasks, task_order, resample_per_seed, data_dir, task_set, percent",
        ),
        (
            {"dataset": "officehome", "train_per_class": 5},
            "data.train_per_class=5 is not read by data set officehome",
        ),
        (
            {"source": "npz:x.npz", "task_set": "homogeneous"},
            "data.task_set='homogeneous' is not read by source npz:x.npz; it reads "
            "source, num_tasks",
        ),
        ({"source": "npz:x.npz", "dataset": "mnist"}, "data.dataset='mnist' is not"),
        ({"test_fraction": 0.5}, "data.test_fraction=0.5 is not read by data set"),
        ({"class_groups": ((0, 1),)}, "data.class_groups=((0, 1),) is not read"),
    ],
)
def test_a_field_the_data_set_does_not_read_is_refused(fields, message):
    with pytest.raises(ConfigError) as info:
        validate(_with_data(**fields))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_fields_at_their_defaults_and_read_fields_pass():
    validate(_with_data(partition="random", classes_per_task=5))
    validate(_with_data(dataset="mnist", task_set="homogeneous", percent=5.0))
    validate(_with_data(source="npz:x.npz", partition="domain", test_fraction=0.3))


def test_a_configuration_file_s_lists_equal_the_default_tuples():
    experiment = get_preset("mnist_hetero_smoke").experiment("stl", 0)
    config = experiment.to_dict()
    config["data"]["domains"] = list(config["data"]["domains"])
    validate(experiment_from_dict(config, "run.json"))


def test_unknown_data_set_is_one_line_with_close_matches():
    with pytest.raises(ConfigError) as info:
        validate(_with_data(dataset="cifar"))
    message = str(info.value)
    assert message.startswith("Unknown data set 'cifar'. Did you mean cifar10")
    assert "--data tfds:cifar" in message and "\n" not in message


def test_own_data_honours_resample_per_seed(tmp_path):
    from dfcnn_tf.experiment import build_tasks

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 30)
    path = tmp_path / "four.npz"
    np.savez(path, x_train=rng.integers(0, 256, (120, 4, 4, 3)), y_train=labels)
    data = DataConfig(source=f"npz:{path}", num_tasks=2, classes_per_task=2)

    def draws(**fields):
        config = dataclasses.replace(data, **fields)
        return [build_tasks(config, seed)[0].x_train for seed in (0, 1)]

    shared = draws(resample_per_seed=False)
    np.testing.assert_array_equal(*shared)
    assert not np.array_equal(*draws())
