"""Tests of `--set key=value` overrides and of `config_checks.validate`.

Every test starts from the `cifar100_10_smoke` preset's dfcnn experiment.
"""

import dataclasses
import json

import pytest

from dfcnn_tf.config import (
    ConvSpec,
    Experiment,
    KnowledgeBaseSpec,
    TransformSpec,
)
from dfcnn_tf.config_checks import validate
from dfcnn_tf.config_file import experiment_from_dict
from dfcnn_tf.errors import ConfigError
from dfcnn_tf.overrides import apply_overrides, valid_keys
from dfcnn_tf.presets import PRESETS, get_preset
from dfcnn_tf.results import settings_hash


@pytest.fixture
def experiment() -> Experiment:
    return get_preset("cifar100_10_smoke").experiment("dfcnn", seed=0)


def _with_train(experiment, **changes):
    return dataclasses.replace(
        experiment, train=dataclasses.replace(experiment.train, **changes)
    )


# --- valid keys ---------------------------------------------------------------


def test_valid_keys_are_dotted_leaf_fields(experiment):
    keys = valid_keys(experiment)
    for key in ("seed", "train.learning_rate", "data.data_dir", "model.fc_hidden"):
        assert key in keys
    for key in ("preset", "model.name", "model", "train", "data"):
        assert key not in keys
    assert len(keys) == len(set(keys))


# --- scalar overrides -----------------------------------------------------------


@pytest.mark.parametrize(
    ("assignment", "field", "expected"),
    [
        ("train.learning_rate=1e-3", "learning_rate", 1e-3),
        ("train.learning_rate=2", "learning_rate", 2.0),
        ("train.batch_size=32", "batch_size", 32),
        ("train.epochs_per_task=7", "epochs_per_task", 7),
        ("train.optimizer=keras", "optimizer", "keras"),
        ("train.optimizer='keras'", "optimizer", "keras"),
        (" train.rho = 0.5 ", "rho", 0.5),
    ],
)
def test_scalar_override_parses_to_field_type(experiment, assignment, field, expected):
    result = apply_overrides(experiment, [assignment])
    value = getattr(result.train, field)
    assert value == expected
    assert type(value) is type(expected)


def test_int_for_float_field_becomes_float(experiment):
    result = apply_overrides(experiment, ["train.lr_decay=0"])
    assert result.train.lr_decay == 0.0
    assert isinstance(result.train.lr_decay, float)


def test_optional_fields_take_none_or_a_value(experiment):
    result = apply_overrides(
        experiment, ["data.data_dir=/tmp/my data", "model.deconv_activation=relu"]
    )
    assert result.data.data_dir == "/tmp/my data"
    assert result.model.deconv_activation == "relu"
    result = apply_overrides(
        result, ["data.data_dir=None", "model.deconv_activation=None"]
    )
    assert result.data.data_dir is None
    assert result.model.deconv_activation is None


def test_top_level_seed(experiment):
    assert apply_overrides(experiment, ["seed=3"]).seed == 3


def test_nested_keys_change_only_their_field(experiment):
    result = apply_overrides(
        experiment, ["data.partition=random", "model.dropout=0.25"]
    )
    assert result.data.partition == "random"
    assert result.model.dropout == 0.25
    assert result.data.num_tasks == experiment.data.num_tasks
    assert result.train == experiment.train
    assert result.preset == experiment.preset
    assert experiment.data.partition == "paper"  # the input is not changed


def test_later_assignment_wins(experiment):
    result = apply_overrides(experiment, ["train.batch_size=4", "train.batch_size=8"])
    assert result.train.batch_size == 8


def test_no_assignments_returns_equal_experiment(experiment):
    assert apply_overrides(experiment, []) == experiment


# --- tuples and per-layer records ---------------------------------------------


def test_tuple_field_from_list(experiment):
    assert apply_overrides(experiment, ["model.fc_hidden=[128]"]).model.fc_hidden == (
        128,
    )
    result = apply_overrides(experiment, ["model.fc_hidden=(64, 32)"])
    assert result.model.fc_hidden == (64, 32)
    assert apply_overrides(experiment, ["model.fc_hidden=[]"]).model.fc_hidden == ()


def test_knowledge_bases_from_nested_lists(experiment):
    result = apply_overrides(
        experiment, ["model.knowledge_bases=[[2,8],[2,8],[2,8],[2,8]]"]
    )
    assert result.model.knowledge_bases == (KnowledgeBaseSpec(2, 8),) * 4
    assert all(type(kb) is KnowledgeBaseSpec for kb in result.model.knowledge_bases)
    assert result.model.knowledge_bases[0].depth == 1


def test_records_from_dicts_and_optional_members(experiment):
    result = apply_overrides(
        experiment,
        [
            "model.knowledge_bases=[{'size': 2, 'channels': 4, 'depth': 3}]",
            "model.transforms=[[3, 24], [5, None]]",
            "model.conv=[[16], [32, 5, 2]]",
        ],
    )
    assert result.model.knowledge_bases == (KnowledgeBaseSpec(2, 4, 3),)
    assert result.model.transforms == (TransformSpec(3, 24), TransformSpec(5, None))
    assert result.model.conv == (ConvSpec(16), ConvSpec(32, 5, 2))


# --- override errors -------------------------------------------------------------


def test_unknown_key_lists_valid_keys(experiment):
    with pytest.raises(ConfigError, match="Unknown --set key 'train.lr'") as info:
        apply_overrides(experiment, ["train.lr=1e-3"])
    message = str(info.value)
    assert "Valid keys:" in message
    assert "train.learning_rate" in message
    assert "model.knowledge_bases" in message


@pytest.mark.parametrize(
    ("assignment", "key", "received"),
    [
        ("train.batch_size=abc", "train.batch_size", "'abc' (str)"),
        ("train.epochs_per_task=1.5", "train.epochs_per_task", "1.5 (float)"),
        ("train.batch_size=True", "train.batch_size", "True (bool)"),
        ("train.learning_rate=fast", "train.learning_rate", "'fast' (str)"),
        ("train.learning_rate=False", "train.learning_rate", "False (bool)"),
        ("seed=0.5", "seed", "0.5 (float)"),
        ("model.fc_hidden=64", "model.fc_hidden", "64 (int)"),
        ("model.fc_hidden=[64, 'x']", "model.fc_hidden", "'x' (str)"),
        ("train.optimizer=3", "train.optimizer", "3 (int)"),
        ("data.data_dir=3", "data.data_dir", "3 (int)"),
    ],
)
def test_wrong_type_names_the_key(experiment, assignment, key, received):
    with pytest.raises(ConfigError) as info:
        apply_overrides(experiment, [assignment])
    message = str(info.value)
    assert f"--set {key} needs a value of type" in message
    assert f"Received: {received}" in message


def test_malformed_record_names_key_and_record(experiment):
    with pytest.raises(ConfigError, match="model.knowledge_bases") as info:
        apply_overrides(experiment, ["model.knowledge_bases=[[2]]"])
    assert "KnowledgeBaseSpec" in str(info.value)
    with pytest.raises(ConfigError, match="--set model.conv needs a value of type"):
        apply_overrides(experiment, ["model.conv=[7]"])


@pytest.mark.parametrize("assignment", ["train.batch_size", "", "=3", "  =x"])
def test_missing_equals_or_key(experiment, assignment):
    with pytest.raises(ConfigError, match="--set takes key=value. Received:"):
        apply_overrides(experiment, [assignment])


@pytest.mark.parametrize("key", ["preset", "model.name"])
def test_preset_and_model_name_are_not_settable(experiment, key):
    with pytest.raises(ConfigError, match=f"Unknown --set key '{key}'"):
        apply_overrides(experiment, [f"{key}=other"])


def test_failed_override_leaves_earlier_ones_unapplied(experiment):
    with pytest.raises(ConfigError):
        apply_overrides(experiment, ["seed=5", "train.batch_size=abc"])
    assert experiment.seed == 0


# --- config_checks.validate ---------------------------------------------------------


def test_presets_validate(experiment):
    validate(experiment)
    for name in ("cifar100_10", "cifar100_10_quick", "cifar100_10_smoke"):
        validate(get_preset(name).experiment())


@pytest.mark.parametrize("field", ["batch_size", "epochs_per_task", "eval_batch_size"])
@pytest.mark.parametrize("value", [0, -1])
def test_validate_rejects_non_positive_counts(experiment, field, value):
    bad = _with_train(experiment, **{field: value})
    with pytest.raises(ConfigError) as info:
        validate(bad)
    assert f"train.{field} must be positive" in str(info.value)
    assert f"train.{field}={value}" in str(info.value)


@pytest.mark.parametrize("field", ["eval_current_every", "eval_all_every"])
@pytest.mark.parametrize("value", [0, -2, 2.5, True])
def test_validate_rejects_bad_evaluation_intervals(experiment, field, value):
    with pytest.raises(ConfigError) as info:
        validate(_with_train(experiment, **{field: value}))
    message = str(info.value)
    assert "train.eval_current_every and train.eval_all_every must be positive " in (
        message
    )
    assert f"train.{field}={value!r}" in message


def test_former_eval_every_key_sets_both_schedules(experiment):
    both = apply_overrides(experiment, ["train.eval_every=7"])
    assert (both.train.eval_current_every, both.train.eval_all_every) == (7, 7)
    later = apply_overrides(
        experiment, ["train.eval_every=7", "train.eval_current_every=1"]
    )
    assert (later.train.eval_current_every, later.train.eval_all_every) == (1, 7)
    with pytest.raises(ConfigError, match="train.eval_current_every needs"):
        apply_overrides(experiment, ["train.eval_every=often"])


def test_validate_rejects_bad_learning_rate_and_decay(experiment):
    with pytest.raises(ConfigError, match=r"train\.learning_rate must be positive"):
        validate(_with_train(experiment, learning_rate=0.0))
    with pytest.raises(ConfigError, match=r"train\.lr_decay must be >= 0"):
        validate(_with_train(experiment, lr_decay=-1e-3))
    validate(_with_train(experiment, lr_decay=0.0))


def test_validate_batch_larger_than_task_training_set(experiment):
    experiment = apply_overrides(
        experiment, ["data.classes_per_task=10", "data.train_per_class=17"]
    )
    validate(_with_train(experiment, batch_size=170))
    with pytest.raises(ConfigError) as info:
        validate(_with_train(experiment, batch_size=171))
    message = str(info.value)
    assert "train.batch_size=171" in message
    assert "data.classes_per_task" in message
    assert "data.train_per_class" in message
    assert "= 170" in message


@pytest.mark.parametrize(
    ("field", "value", "valid"),
    [
        ("optimizer", "adam", "['tf1', 'keras']"),
        ("loss_reduction", "max", "['sum', 'mean']"),
    ],
)
def test_validate_unknown_choice_lists_valid_ones(experiment, field, value, valid):
    with pytest.raises(ConfigError) as info:
        validate(_with_train(experiment, **{field: value}))
    message = str(info.value)
    assert f"train.{field} must be one of {valid}" in message
    assert repr(value) in message


@pytest.mark.parametrize("dropout", [-0.1, 1.0, 1.5])
def test_validate_dropout_out_of_range(experiment, dropout):
    bad = dataclasses.replace(
        experiment, model=dataclasses.replace(experiment.model, dropout=dropout)
    )
    with pytest.raises(ConfigError, match=r"model\.dropout must be in \[0, 1\)"):
        validate(bad)


def test_validate_accepts_dropout_zero(experiment):
    validate(apply_overrides(experiment, ["model.dropout=0"]))


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_survives_its_config_json(name):
    """A run's config.json read back is the same configuration (same hash):
    no field of a preset holds a value of another type than the field's."""
    preset = get_preset(name)
    for model in preset.models:
        written = json.loads(json.dumps(preset.experiment(model).to_dict()))
        read = experiment_from_dict(written, "config.json").to_dict()
        assert settings_hash(read) == settings_hash(written), (name, model)
