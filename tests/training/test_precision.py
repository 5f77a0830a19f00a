"""`train.precision`: float32 (default), mixed_bfloat16, bfloat16_eval.

The float32 path is the fixed-seed reference run's (tests/training/
test_reference_run.py); here: what the bfloat16 modes compute in which dtype,
that bfloat16_eval trains exactly as float32, and that learners keep working.
"""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from dfcnn_tf import LifelongLearner
from dfcnn_tf.config_checks import validate
from dfcnn_tf.errors import ConfigError
from dfcnn_tf.lifelong import build_parser, main, resolve
from dfcnn_tf.precision import layer_policy
from dfcnn_tf.registry import build_model
from dfcnn_tf.results import settings_hash
from dfcnn_tf.training import Evaluator, TaskLearner, make_optimizer, train_lifelong
from dfcnn_tf.training.model_state import model_variables

from ..learner.test_learner import raw_task
from ..reliability.tiny import INPUT_SHAPE, tiny_experiment, tiny_tasks


def trained(precision, model="dfcnn", epochs=3):
    """A tiny model after two tasks of `epochs` epochs, and the recorded rows."""
    experiment = tiny_experiment(model, precision=precision, epochs_per_task=epochs)
    keras.utils.set_random_seed(0)
    net = build_model(experiment.model, INPUT_SHAPE)
    rows = train_lifelong(net, tiny_tasks(2), experiment.train, seed=0)
    return net, rows


def dtypes(model):
    return {layer.dtype_policy.name for layer in model._flatten_layers()}


def test_unknown_precision_is_one_line_config_error():
    experiment = tiny_experiment(precision="float16")
    with pytest.raises(ConfigError, match=r"train\.precision must be one of") as info:
        validate(experiment)
    assert "\n" not in str(info.value) and "'float16'" in str(info.value)


def test_cli_sets_the_precision_by_flag_or_set(capsys, tmp_path):
    smoke = ["--preset", "cifar100_10_smoke", "--model", "dfcnn"]
    for extra, value in (
        (["--precision", "bfloat16_eval"], "bfloat16_eval"),
        (["--set", "train.precision=mixed_bfloat16"], "mixed_bfloat16"),
    ):
        [experiment] = resolve(build_parser().parse_args([*smoke, *extra]))
        assert experiment.train.precision == value
    bad = [*smoke, "--set", "train.precision=bf16", "--out", str(tmp_path)]
    assert main(bad) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: train.precision must be one of")


def test_float32_keeps_the_hash_of_runs_made_before_the_field():
    experiment = tiny_experiment()
    mixed = dataclasses.replace(
        experiment,
        train=dataclasses.replace(experiment.train, precision="mixed_bfloat16"),
    )
    config = experiment.to_dict()
    del config["train"]["precision"]
    assert settings_hash(experiment.to_dict()) == settings_hash(config)
    assert settings_hash(mixed.to_dict()) != settings_hash(config)


def test_mixed_bfloat16_computes_in_bfloat16_and_keeps_float32_state():
    experiment = tiny_experiment(precision="mixed_bfloat16")
    keras.utils.set_random_seed(0)
    model = build_model(experiment.model, INPUT_SHAPE)
    task = tiny_tasks(1)[0]
    model.add_task(task.num_classes)
    learner = TaskLearner.for_task(
        model, 0, make_optimizer(experiment.train), experiment.train
    )
    x, y = (tf.constant(a) for a in task.split("train"))
    order = tf.range(len(task.y_train), dtype=tf.int32)
    losses = [learner.train_epoch(x, y, order, 1e-2) for _ in range(8)]
    assert losses[-1] < losses[0]
    with layer_policy(model, "mixed_bfloat16"):
        assert model(x, 0).dtype == tf.bfloat16
        conv = model.conv_layers(0)[0]
        assert conv.generate_kernel().dtype == tf.float32
        assert conv.convolve(x, conv.generate_kernel()).dtype == tf.bfloat16
    assert model(x, 0).dtype == tf.float32  # the policy was taken off again
    assert dtypes(model) == {"float32"}
    assert {v.dtype for v in model.weights} == {"float32"}
    assert {v.dtype for v in learner.optimizer.variables} == {"float32", "int64"}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["stl", "hps", "prognn", "den", "tf", "dfcnn_tc2"])
def test_every_model_trains_under_mixed_bfloat16(name):
    model, rows = trained("mixed_bfloat16", name, epochs=1)
    assert all(0 <= row["accuracy"] <= 1 for row in rows)
    assert {v.dtype for v in model.weights} == {"float32"}


def test_bfloat16_eval_trains_as_float32_and_evaluates_close_to_it():
    reference, reference_rows = trained("float32")
    model, rows = trained("bfloat16_eval")
    expected = model_variables(reference)
    for key, value in model_variables(model).items():
        np.testing.assert_array_equal(value.numpy(), expected[key].numpy(), key)
    ours = np.array([row["accuracy"] for row in rows])
    theirs = np.array([row["accuracy"] for row in reference_rows])
    assert np.abs(ours - theirs).max() <= 1 / 6 + 1e-9  # one image of 6 or more
    task = tiny_tasks(1)[0]
    x = tf.constant(task.x_test)
    with layer_policy(model, "mixed_bfloat16"):
        low = model.inference(0)(x)
    assert low.dtype == tf.bfloat16
    high = reference.inference(0)(x).numpy()
    np.testing.assert_allclose(tf.cast(low, tf.float32).numpy(), high, atol=0.1)
    assert dtypes(model) == {"float32"}


def test_evaluator_policy_changes_only_the_evaluation_dtype():
    model, _ = trained("float32", epochs=1)
    task = tiny_tasks(1)[0]
    results = {}
    for policy in ("float32", "mixed_bfloat16"):
        evaluator = Evaluator(model, 4, policy)
        evaluator.add_task(task, 0)
        results[policy] = evaluator.evaluate(0)
        graph = evaluator._count[0].get_concrete_function(*evaluator._data[0][:3])
        assert ("DT_BFLOAT16" in str(graph.graph.as_graph_def())) == (
            policy == "mixed_bfloat16"
        )
    for split, accuracy in results["float32"].items():
        assert abs(results["mixed_bfloat16"][split] - accuracy) <= 1 / 6 + 1e-9


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "bfloat16_eval"])
def test_learner_saves_loads_and_exports_float32(precision, tmp_path):
    learner = LifelongLearner(tiny_experiment("dfcnn", precision=precision))
    task, x = raw_task(0)
    learner.learn(task)
    path = tmp_path / "tiny.learner"
    learner.save(path)
    loaded = LifelongLearner.load(path)
    assert loaded.experiment.train.precision == precision
    np.testing.assert_array_equal(
        loaded.predict(x, 0).probabilities, learner.predict(x, 0).probabilities
    )
    assert loaded.evaluate(task) == learner.evaluate(task)
    exported = learner.export_task(0)
    assert dtypes(exported) == {"float32"}
    assert {v.dtype for v in exported.weights} == {"float32"}
