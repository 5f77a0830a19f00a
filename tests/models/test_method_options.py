"""A method's options record is read, another method's is refused when set,
and impossible values are refused (dfcnn_tf/method_options.py)."""

import dataclasses

import pytest

from dfcnn_tf.config_checks import validate
from dfcnn_tf.errors import ConfigError
from dfcnn_tf.method_options import OPTION_RECORDS, check_option_records
from dfcnn_tf.overrides import apply_overrides
from dfcnn_tf.presets import get_preset
from dfcnn_tf.registry import get_model_class, model_names

PRESET = get_preset("cifar100_10")


def experiment(name, **records):
    base = PRESET.experiment(name, 0)
    model = base.model
    for record, fields in records.items():
        model = dataclasses.replace(
            model, **{record: dataclasses.replace(getattr(model, record), **fields)}
        )
    return dataclasses.replace(base, model=model)


@pytest.mark.parametrize("name", sorted(PRESET.models))
def test_every_preset_model_validates(name):
    validate(PRESET.experiment(name, 0))


def test_every_option_record_belongs_to_one_registered_method():
    owners = [get_model_class(n).option_record for n in model_names()]
    assert sorted(o for o in owners if o) == sorted(OPTION_RECORDS)


@pytest.mark.parametrize(
    ("name", "record", "fields"),
    [
        ("stl", "ewc", {"strength": 5.0}),
        ("ewc", "replay", {"per_class": 2}),
        ("dfcnn", "den", {"expansion_units": 8}),
        ("agem", "replay", {"batch": 5}),
    ],
)
def test_another_methods_record_is_refused(name, record, fields):
    with pytest.raises(ConfigError, match=rf"model\.{record} is set but method"):
        validate(experiment(name, **{record: fields}))


def test_own_record_is_read():
    validate(experiment("ewc", ewc={"strength": 50.0}))
    validate(experiment("er", replay={"per_class": 3}))


@pytest.mark.parametrize(
    ("name", "record", "fields", "message"),
    [
        ("ewc", "ewc", {"strength": -1.0}, "finite and >= 0"),
        ("si", "si", {"damping": float("nan")}, "finite and >= 0"),
        ("lwf", "lwf", {"temperature": 0.0}, "must be positive"),
        ("lwf", "lwf", {"strength": "high"}, "must be a number"),
    ],
)
def test_impossible_values_are_refused(name, record, fields, message):
    with pytest.raises(ConfigError, match=rf"model\.{record}\..* {message}"):
        validate(experiment(name, **{record: fields}))


@pytest.mark.parametrize(
    "setting",
    [
        "model.knowledge_bases=[[2, 8], [2, 8], [2, 8], [2, 8]]",
        "model.transforms=[[3, 8], [3, 8], [3, 8], [3, 8]]",
        "model.deconv_stride=1",
        "model.bias_init=constant",
    ],
)
def test_dfcnn_kernel_fields_are_refused_by_other_methods(setting):
    field, preset = setting.split("=")[0], get_preset("cifar100_10_cpu")
    for method in ("stl", "hps", "tf"):
        changed = apply_overrides(preset.experiment(method), [setting])
        with pytest.raises(ConfigError, match=f"{field} is set but method {method}"):
            check_option_records(changed.model)
    dfcnn = apply_overrides(preset.experiment("dfcnn"), [setting])
    check_option_records(dfcnn.model)  # the DF-CNN reads them
