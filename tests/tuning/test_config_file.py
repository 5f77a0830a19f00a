"""Experiment files (`dfcnn_tf.config_file`) and `python -m dfcnn_tf.lifelong
--config FILE`: round trips, overrides, and errors that name the file."""

import dataclasses
import json

import pytest

from dfcnn_tf.config_file import read_experiment, write_experiment
from dfcnn_tf.errors import ConfigError
from dfcnn_tf.lifelong import build_parser, main, resolve
from dfcnn_tf.presets import PRESETS, get_preset


def _all_experiments():
    for preset in PRESETS.values():
        for model in preset.models:
            yield preset.experiment(model, seed=3)


def test_every_preset_experiment_round_trips(tmp_path):
    path = tmp_path / "experiment.json"
    for experiment in _all_experiments():
        experiment = dataclasses.replace(
            experiment, data=dataclasses.replace(experiment.data, data_dir="d")
        )
        write_experiment(experiment, path)
        assert read_experiment(path) == experiment


def test_tuned_sizes_round_trip(tmp_path):
    experiment = get_preset("cifar100_10_smoke").experiment("dfcnn")
    model = dataclasses.replace(
        experiment.model,
        deconv_stride=1,
        knowledge_bases=tuple(
            dataclasses.replace(kb, size=3, channels=8)
            for kb in experiment.model.knowledge_bases
        ),
    )
    experiment = dataclasses.replace(experiment, model=model)
    write_experiment(experiment, tmp_path / "tuned.json")
    assert read_experiment(tmp_path / "tuned.json") == experiment


def test_a_partial_file_keeps_the_preset_values(tmp_path):
    path = tmp_path / "partial.json"
    data = {"preset": "cifar100_10_smoke", "model": {"name": "stl"}}
    data["train"] = {"learning_rate": 0.01}
    path.write_text(json.dumps(data))
    expected = get_preset("cifar100_10_smoke").experiment("stl")
    expected = dataclasses.replace(
        expected, train=dataclasses.replace(expected.train, learning_rate=0.01)
    )
    assert read_experiment(path) == expected


BAD_FILES = {
    "not json": ("{", "not valid JSON"),
    "a list": ("[1, 2]", "must hold a JSON object"),
    "no preset": ('{"model": {"name": "dfcnn"}}', "'preset'"),
    "no model name": ('{"preset": "cifar100_10", "model": {}}', "model.name"),
    "unknown preset": ('{"preset": "nope", "model": {"name": "dfcnn"}}', "nope"),
    "model not in preset": (
        '{"preset": "mnist_hetero", "model": {"name": "prognn"}}',
        "prognn",
    ),
    "unknown field": (
        '{"preset": "cifar100_10", "model": {"name": "dfcnn"}, "train": {"x": 1}}',
        "train.x",
    ),
    "wrong type": (
        '{"preset": "cifar100_10", "model": {"name": "dfcnn"}, "seed": "one"}',
        "seed",
    ),
    "invalid value": (
        '{"preset": "cifar100_10", "model": {"name": "dfcnn"}, '
        '"train": {"batch_size": 0}}',
        "batch_size",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_malformed_files_are_named_in_the_error(tmp_path, case):
    text, fragment = BAD_FILES[case]
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        read_experiment(path)
    assert str(path) in str(info.value)
    assert fragment in str(info.value)


def test_missing_file_is_named(tmp_path):
    path = tmp_path / "missing.json"
    with pytest.raises(ConfigError, match="missing.json cannot be read"):
        read_experiment(path)


@pytest.fixture
def config_file(tmp_path):
    experiment = get_preset("cifar100_10_smoke").experiment("dfcnn", seed=4)
    experiment = dataclasses.replace(
        experiment, train=dataclasses.replace(experiment.train, learning_rate=3e-4)
    )
    path = tmp_path / "best_config.json"
    write_experiment(experiment, path)
    return path, experiment


def _resolve(argv):
    return resolve(build_parser().parse_args(argv))


def test_cli_config_gives_the_whole_experiment(config_file):
    path, experiment = config_file
    assert _resolve(["--config", str(path)]) == [experiment]


def test_cli_model_seed_and_set_override_the_file(config_file):
    path, experiment = config_file
    argv = ["--config", str(path), "--seed", "7", "--set", "train.batch_size=5"]
    [resolved] = _resolve(argv + ["--epochs-per-task", "2"])
    assert resolved.seed == 7
    assert resolved.train.batch_size == 5
    assert resolved.train.epochs_per_task == 2
    assert resolved.train.learning_rate == 3e-4  # the file's, kept
    assert resolved.model == experiment.model
    [stl, dfcnn] = _resolve(["--config", str(path), "--model", "stl,dfcnn"])
    assert stl.model == get_preset("cifar100_10_smoke").experiment("stl").model
    assert stl.train == experiment.train and stl.seed == 4
    assert dfcnn == experiment


def test_cli_without_config_keeps_its_defaults():
    [experiment] = _resolve([])
    assert experiment == get_preset("cifar100_10_quick").experiment("dfcnn", 0)


def _error(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_cli_rejects_preset_with_config(config_file, capsys):
    path, _ = config_file
    err = _error(capsys, ["--config", str(path), "--preset", "cifar100_10"])
    assert "--preset cannot be combined with --config" in err


def test_cli_names_a_malformed_config_file(tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text('{"preset": "cifar100_10"')
    err = _error(capsys, ["--config", str(path)])
    assert err.startswith(f"error: config file {path}")
