"""Search spaces: only valid knowledge-base sizes, preset values first."""

import keras_tuner
import pytest

from dfcnn_tf.config_checks import validate
from dfcnn_tf.presets import PRESETS, get_preset
from dfcnn_tf.registry import build_model
from tuning.grid import grid_points
from tuning.hypermodel import LifelongHyperModel
from tuning.spaces import (
    search_space,
    valid_kb_sizes,
    valid_strides,
)

BASE_PRESETS = [name for name in PRESETS if not name.endswith("_smoke")]


def _kb_relation_holds(model):
    stride = model.deconv_stride
    return all(
        (kb.size - 1) * stride + 1 == conv.kernel
        for conv, kb in zip(model.conv, model.knowledge_bases, strict=True)
    )


def _hypermodel(preset, models):
    experiments = {m: get_preset(preset).experiment(m) for m in models}
    space = search_space(preset, models)
    return LifelongHyperModel(experiments, space, input_shape=(1, 1, 1))


def _declared(hypermodel):
    hp = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    return hp


def test_valid_kb_sizes_follow_kernel_and_stride():
    assert valid_kb_sizes(3) == {2: 2, 1: 3}
    assert valid_kb_sizes(5) == {2: 3, 1: 5, 4: 2}
    assert valid_kb_sizes(11, (1, 2, 3, 4, 5, 10)) == {1: 11, 2: 6, 5: 3, 10: 2}
    for kernel in range(1, 16):
        for stride, kb in valid_kb_sizes(kernel, range(1, 16)).items():
            assert (kb - 1) * stride + 1 == kernel


def test_only_strides_valid_for_every_layer_are_offered():
    officehome = get_preset("officehome").experiment("dfcnn").model.conv
    assert valid_strides(officehome, (2, 1, 4, 5, 10)) == (2, 1)  # 11, 5, 3, 3
    cifar = get_preset("cifar100_10").experiment("dfcnn").model.conv
    assert valid_strides(cifar, (2, 1, 4)) == (2, 1)


@pytest.mark.parametrize("preset", BASE_PRESETS)
def test_every_offered_value_gives_a_valid_experiment(preset):
    configs = get_preset(preset).models
    models = [m for m in configs if configs[m].registry_name == "dfcnn"]
    space = search_space(preset, models)
    for model in models:
        base = get_preset(preset).experiment(model)
        for knob in space.models[model]:
            assert knob.edit(base, knob.values[0]) == base  # preset's value first
            for value in knob.values:
                experiment = knob.edit(base, value)
                validate(experiment)
                assert _kb_relation_holds(experiment.model), (model, knob.name, value)


@pytest.mark.parametrize("preset", BASE_PRESETS)
def test_first_grid_point_is_the_preset(preset):
    models = list(get_preset(preset).models)
    hypermodel = _hypermodel(preset, models)
    hp = _declared(hypermodel)
    hp.values = next(grid_points(hp))
    first = get_preset(preset).experiment(models[0])
    assert hypermodel.experiment(hp) == first


def test_whole_mnist_grid_has_valid_sizes_and_builds():
    hypermodel = _hypermodel("mnist_hetero", ["dfcnn"])
    hp = _declared(hypermodel)
    points = list(grid_points(hp))
    space = hypermodel.space
    assert len(points) == space.size("dfcnn")
    strides = set()
    for values in points:
        hp.values = values
        experiment = hypermodel.experiment(hp)
        assert _kb_relation_holds(experiment.model)
        strides.add(experiment.model.deconv_stride)
    assert strides == {2, 1, 4}  # 5x5 kernels: KB sizes 3, 5 and 2
    for stride in strides:  # the layers accept every offered size
        hp.values = next(v for v in points if v["dfcnn/deconv_stride"] == stride)
        model = build_model(hypermodel.experiment(hp).model, (28, 28, 1))
        model.add_task(2)


def test_set_keys_fix_fields_and_remove_their_knobs():
    space = search_space("cifar100_10", ["dfcnn", "prognn"])
    names = {k.name for k in space.models["dfcnn"]}
    assert {"deconv_stride", "kb_channels_1", "ts_channels_4"} <= names
    fixed = space.without(["train.learning_rate", "model.knowledge_bases"])
    assert fixed.learning_rates == ()
    left = {k.name for k in fixed.models["dfcnn"]}
    assert left == {n for n in names if n.startswith("ts_")}
    assert [k.name for k in fixed.models["prognn"]] == ["prognn.lateral_reduction"]


def test_baselines_search_their_own_knobs():
    space = search_space("cifar100_10", ["stl", "hps", "prognn", "den", "tf"])
    names = {m: [k.name for k in knobs] for m, knobs in space.models.items()}
    assert names == {
        "stl": ["fc_hidden_1"],
        "hps": ["fc_hidden_1"],
        "prognn": ["prognn.lateral_reduction"],
        "den": ["den.expansion_units", "den.loss_threshold"],
        "tf": ["tucker.error_threshold"],
    }
    assert space.models["stl"][0].values == (64, 32, 128)
    assert space.learning_rates == (1e-4, 3e-4, 1e-3)


def test_every_registered_method_has_a_search_space():
    from dfcnn_tf.registry import model_names
    from tuning.spaces import MODEL_KNOBS

    missing = sorted(set(model_names()) - set(MODEL_KNOBS))
    assert not missing, f"methods without a search space: {missing}"
