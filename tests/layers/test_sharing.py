"""A shared knowledge base (or Tucker factors) stays one object through Keras'
saving, cloning and config round trips (`dfcnn_tf.layers.sharing`)."""

import json

import keras
import numpy as np
import pytest

from dfcnn_tf.layers import (
    DFConv2D,
    KnowledgeBase,
    TuckerConv2D,
    TuckerFactors,
    sharing,
    sharing_scope,
)

SHAPE = (6, 6, 3)
VARIANTS = {  # variant: (knowledge-base depth, transform_channels)
    "dfcnn": (1, 4),
    "direct": (1, None),
    "tc2": (2, 4),
}


def dfconv_model(variant):
    """Two DF-CNN conv layers reading one knowledge base, as a functional model."""
    depth, channels = VARIANTS[variant]
    kb = KnowledgeBase(2, 5, depth=depth, name="kb")
    inputs = keras.Input(SHAPE)
    hidden = inputs
    for i in range(2):
        hidden = DFConv2D(
            4, 3, kb, transform_channels=channels, variant=variant, name=f"conv{i}"
        )(hidden)
    return keras.Model(inputs, hidden), kb


def tucker_model():
    """Two Tucker conv layers reading one `TuckerFactors`."""
    factors = TuckerFactors(3, 4, 4, ranks=(2, 2, 3, 3, 2), name="factors")
    inputs = keras.Input((*SHAPE[:2], 4))
    hidden = inputs
    for i in range(2):
        hidden = TuckerConv2D(factors, name=f"conv{i}")(hidden)
    return keras.Model(inputs, hidden), factors


def images(channels=3):
    rng = np.random.default_rng(0)
    return rng.normal(size=(2, *SHAPE[:2], channels)).astype("float32")


def shared_attribute(model):
    """The shared layer each holder of `model` refers to, per holder."""
    return [
        getattr(layer, "knowledge_base", None) or layer.factors
        for layer in model.layers[1:]
    ]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_dfconv_model_round_trips_through_keras_file(variant, tmp_path):
    model, _ = dfconv_model(variant)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)

    first, second = shared_attribute(loaded)
    assert first is second
    assert len([w for w in loaded.weights if w.name == "knowledge_base"]) == 1
    assert loaded.count_params() == model.count_params()
    np.testing.assert_array_equal(loaded(images()), model(images()))


def test_tucker_model_round_trips_through_keras_file(tmp_path):
    model, _ = tucker_model()
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)

    first, second = shared_attribute(loaded)
    assert first is second
    assert len([w for w in loaded.weights if w.name == "core"]) == 1
    assert loaded.count_params() == model.count_params()
    np.testing.assert_array_equal(loaded(images(4)), model(images(4)))


@pytest.mark.parametrize("build", [lambda: dfconv_model("dfcnn"), tucker_model])
def test_clone_model_refuses_to_unshare(build):
    model, shared = build()
    with pytest.raises(ValueError, match="conv0") as error:
        keras.models.clone_model(model)
    assert f"'{shared.name}'" in str(error.value)
    assert "sharing_scope" in str(error.value)


@pytest.mark.parametrize("build", [lambda: dfconv_model("dfcnn"), tucker_model])
def test_clone_model_in_sharing_scope_keeps_one_new_shared_layer(build):
    model, shared = build()
    with sharing_scope():
        clone = keras.models.clone_model(model)
    first, second = shared_attribute(clone)
    assert first is second
    assert first is not shared  # a clone has its own variables, as Keras' do
    assert clone.count_params() == model.count_params()


def test_single_holder_config_round_trips_standalone():
    layer = DFConv2D(4, 3, KnowledgeBase(2, 5), transform_channels=4, name="c")
    layer.build((None, *SHAPE))
    config = layer.get_config()
    json.dumps(config)  # plain data
    assert sharing.SHARED_ID_KEY not in config["knowledge_base"]
    rebuilt = DFConv2D.from_config(config)
    assert rebuilt.get_config() == config
    assert rebuilt.knowledge_base is not layer.knowledge_base


def test_shared_config_outside_a_scope_raises_and_an_instance_is_accepted():
    model, kb = dfconv_model("dfcnn")
    config = model.get_layer("conv1").get_config()
    assert config["knowledge_base"][sharing.SHARED_ID_KEY] == id(kb)
    with pytest.raises(ValueError, match="DFConv2D 'conv1'.*KnowledgeBase 'kb'"):
        DFConv2D.from_config(config)

    other = KnowledgeBase(2, 5, name="other")
    rebuilt = DFConv2D.from_config({**config, "knowledge_base": other})
    assert rebuilt.knowledge_base is other


def test_sharing_scope_is_detected():
    # Guards the private Keras state `sharing` reads.
    assert not sharing._in_sharing_scope()
    with sharing_scope():
        assert sharing._in_sharing_scope()
    assert not sharing._in_sharing_scope()
