"""A task exported as a plain Keras model computes what the lifelong model does
(`dfcnn_tf.export`): same probabilities, single-task size, loadable without
`dfcnn_tf`, servable as a SavedModel."""

import dataclasses
import json
import os
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from dfcnn_tf.data.normalization import Normalization
from dfcnn_tf.export import export_task_model, normalization_layer, save_task_model
from dfcnn_tf.presets import get_preset
from dfcnn_tf.registry import build_model

PRESET = get_preset("cifar100_10")
SHAPE = (8, 8, 3)
EXPORTABLE = [
    "dfcnn",
    "dfcnn_small",
    "dfcnn_tc2",
    "dfcnn_direct",
    "tf",
    "stl",
    "stl_large",
    "hps",
    "prognn",
    "den",
    "ewc",
    "si",
    "lwf",
    "agem",
    "er",
]
NORM = Normalization(mean=(0.5, 0.45, 0.4), std=(0.25, 0.2, 0.3), scale=255.0)
TOLERANCE = 1e-5


def small_model(name, classes=(5, 3), seed=0):
    """`name`'s CIFAR-100 config with a quarter of the filters, and two tasks."""
    config = PRESET.models[name]
    conv = tuple(dataclasses.replace(s, filters=s.filters // 4) for s in config.conv)
    config = dataclasses.replace(config, conv=conv, fc_hidden=(8,))
    keras.utils.set_random_seed(seed)
    model = build_model(config, SHAPE)
    for num_classes in classes:
        model.add_task(num_classes)
    return model


def grow_den(model):
    """Gives DEN task 1 expansion units and a split copy in every layer."""
    rng = np.random.default_rng(1)
    for layer in model.expandable_layers:
        layer.expand(1)
        base = layer.blocks[0]
        base.kernel.assign(base.kernel + rng.normal(0, 0.1, base.kernel.shape))
        layer.split(1, np.arange(layer.units(0)) == 0)  # unit 0 drifted: copied
    return model


def raw_images(n=4, seed=0):
    """Raw pixels 0-255 as float32, the exported model's inputs."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, *SHAPE)).astype("float32")


def reference_logits(model, task_id, raw):
    return model.inference(task_id)(NORM.apply(raw)).numpy()


@pytest.fixture(scope="module", params=EXPORTABLE)
def model(request):
    model = small_model(request.param)
    return grow_den(model) if request.param == "den" else model


@pytest.mark.parametrize("task_id", [1, 0])
def test_probabilities_equal_the_lifelong_models(model, task_id):
    exported = export_task_model(model, task_id, NORM)
    raw = raw_images()
    logits = reference_logits(model, task_id, raw)

    probabilities = exported(raw).numpy()
    assert probabilities.shape == logits.shape
    np.testing.assert_allclose(
        probabilities, tf.nn.softmax(logits).numpy(), rtol=0, atol=TOLERANCE
    )
    # Near-uniform probabilities hide small errors; the logits do not.
    exported_logits = keras.Model(
        exported.input, exported.get_layer("probabilities").input
    )
    np.testing.assert_allclose(exported_logits(raw), logits, rtol=0, atol=TOLERANCE)


def test_exported_model_has_only_keras_layers(model):
    exported = export_task_model(model, 1, NORM)
    for layer in exported.layers:
        assert type(layer).__module__.startswith("keras."), layer
    assert "dfcnn_tf" not in json.dumps(exported.get_config())


def test_normalization_layer_matches_apply():
    raw = raw_images()
    layer = normalization_layer(NORM, SHAPE[-1])
    np.testing.assert_allclose(layer(raw), NORM.apply(raw), rtol=0, atol=1e-6)
    assert layer.count_params() == 0  # constants, not weights


def test_cifar100_dfcnn_task_has_the_size_of_a_single_task_cnn():
    model = build_model(PRESET.experiment("dfcnn").model, (32, 32, 3))
    model.add_task(10)
    model.add_task(10)
    exported = export_task_model(model, 1, Normalization.unit(3))
    assert exported.count_params() == 328_426


def test_den_task_counts_only_its_live_units():
    model = grow_den(small_model("den"))
    exported = export_task_model(model, 1)
    kernels = [w for w in exported.weights if w.name == "kernel"]
    first, last = kernels[0].shape, kernels[-1].shape
    expansion = model.config.den.expansion_units
    assert first == (3, 3, 3, model.expandable_layers[0].units(1))  # base + expansion
    assert first[-1] == model.expandable_layers[0].units(0) + expansion
    assert last == (model.expandable_layers[-1].units(1), 3)


def test_unknown_model_class_is_not_supported():
    class Unknown:
        config = PRESET.models["stl"]
        num_tasks = 1

    with pytest.raises(ValueError, match="Export is not supported for Unknown"):
        export_task_model(Unknown(), 0)


def test_bad_task_id_and_channels_raise():
    model = small_model("stl", classes=(3,))
    with pytest.raises(ValueError, match="task_id must be in \\[0, 1\\)"):
        export_task_model(model, 1)
    with pytest.raises(ValueError, match="1 channels, the model's inputs 3"):
        export_task_model(model, 0, Normalization.unit(1))


def test_without_normalization_the_inputs_are_taken_as_they_are():
    model = small_model("dfcnn")
    inputs = NORM.apply(raw_images())
    expected = tf.nn.softmax(model.inference(0)(inputs)).numpy()
    exported = export_task_model(model, 0)
    np.testing.assert_allclose(exported(inputs), expected, rtol=0, atol=TOLERANCE)


LOAD_WITHOUT_DFCNN_TF = """
import sys
sys.modules["dfcnn_tf"] = None  # any import of dfcnn_tf now fails
import keras
import numpy as np
raw = np.load("raw.npy")
for name in sys.argv[1:]:
    np.save(name + ".out.npy", keras.saving.load_model(name + ".keras")(raw))
"""


@pytest.mark.slow
def test_keras_file_loads_where_dfcnn_tf_cannot_be_imported(tmp_path):
    raw, names, expected = raw_images(), ["dfcnn", "tf", "prognn"], {}
    np.save(tmp_path / "raw.npy", raw)
    for name in names:
        model = small_model(name)
        path = tmp_path / f"{name}.keras"
        expected[name] = save_task_model(model, 1, path, NORM)(raw).numpy()
        with zipfile.ZipFile(path) as archive:
            assert b"dfcnn_tf" not in archive.read("config.json")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run(
        [sys.executable, "-c", LOAD_WITHOUT_DFCNN_TF, *names],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    for name in names:
        loaded = np.load(tmp_path / f"{name}.out.npy")
        np.testing.assert_allclose(loaded, expected[name], rtol=0, atol=1e-6)
    leftovers = {p.name for p in tmp_path.iterdir()} - {"raw.npy"}
    assert leftovers == {
        f"{n}{suffix}" for n in names for suffix in (".keras", ".out.npy")
    }


@pytest.mark.slow
def test_saved_model_serves_the_same_probabilities(tmp_path):
    model, raw = small_model("dfcnn"), raw_images()
    expected = tf.nn.softmax(reference_logits(model, 0, raw)).numpy()
    path = tmp_path / "serving"
    path.mkdir()
    (path / "stale.txt").write_text("an earlier export")  # replaced as a whole
    exported = save_task_model(model, 0, path, NORM)
    assert exported.count_params() == export_task_model(model, 0, NORM).count_params()

    loaded = tf.saved_model.load(str(path))  # kept: it owns the variables
    served = loaded.serve(tf.constant(raw))
    np.testing.assert_allclose(served.numpy(), expected, rtol=0, atol=TOLERANCE)
    assert not (path / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["serving"]


@pytest.mark.slow
def test_real_cifar100_pixels_give_the_lifelong_models_probabilities(cifar100_arrays):
    raw = cifar100_arrays.x_train[:16]  # uint8, as a user would pass them
    normalization = Normalization.fit(cifar100_arrays.x_train[:256])
    model = build_model(PRESET.experiment("dfcnn").model, raw.shape[1:])
    model.add_task(10)
    logits = model.inference(0)(normalization.apply(raw))

    exported = export_task_model(model, 0, normalization)
    np.testing.assert_allclose(
        exported(raw), tf.nn.softmax(logits), rtol=0, atol=TOLERANCE
    )
