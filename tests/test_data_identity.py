"""The data's identity is part of every run's key (`config_hash`)."""

import json

import numpy as np

from dfcnn_tf.data.identity import data_identity, source_slug
from dfcnn_tf.overrides import apply_overrides
from dfcnn_tf.presets import get_preset
from dfcnn_tf.results import config_hash, finished_run, run_id


def write_cifar100(folder, seed):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (200, 32, 32, 3), dtype=np.uint8)
    y = np.random.default_rng(seed).permutation(np.repeat(np.arange(100), 2))
    np.savez(folder / "cifar100.npz", x_train=x, y_train=y, x_test=x, y_test=y)


def experiment_in(folder):
    experiment = get_preset("cifar100_10_smoke").experiment("dfcnn")
    return apply_overrides(experiment, [f"data.data_dir={str(folder)!r}"])


def test_shuffled_labels_are_another_run(tmp_path):
    write_cifar100(tmp_path, seed=0)
    experiment = experiment_in(tmp_path)
    before, identity = config_hash(experiment), data_identity(experiment.data)
    assert identity["file"] == "cifar100.npz" and len(identity["sha256"]) == 64
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    info = {"status": "finished", "config_hash": before}
    (run_dir / "run.json").write_text(json.dumps(info))
    (run_dir / "config.json").write_text(json.dumps(experiment.to_dict()))
    (run_dir / "history.csv").write_text("run\n")
    assert finished_run(run_dir, experiment)
    write_cifar100(tmp_path, seed=1)  # same file name, labels shuffled
    assert config_hash(experiment) != before
    assert not finished_run(run_dir, experiment)


def test_preset_run_keeps_its_name_with_local_data(tmp_path):
    write_cifar100(tmp_path, seed=0)
    assert run_id(experiment_in(tmp_path)) == "cifar100_10_smoke-dfcnn-seed0"


def test_source_slugs():
    assert source_slug("tfds:fashion_mnist") == "tfds_fashion_mnist"
    assert source_slug("folder:/data/my photos/") == "folder_my_photos"
    assert source_slug("npz:../x/mnist.npz") == "npz_mnist"
