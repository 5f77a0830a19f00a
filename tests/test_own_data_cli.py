"""`python -m dfcnn_tf.lifelong --data SPEC`: your own data on the command line.

Generated arrays and folders; every run is a couple of epochs of the small
MNIST architecture on 8x8 images.
"""

import json

import numpy as np
import pytest

from dfcnn_tf.data.own_tasks import default_preset
from dfcnn_tf.lifelong import build_parser, main, resolve

FAST = ["--epochs-per-task", "2", "--quiet", "--model", "stl"]


def write_npz(path, seed=0, classes=4, per_class=30):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(classes), per_class)
    x = (rng.integers(0, 60, (len(y), 12, 12)) + 40 * y[:, None, None]).astype(np.uint8)
    np.savez(path, x_train=x, y_train=y, label_names=[f"c{i}" for i in range(classes)])
    return path


def test_architecture_defaults_by_input_size():
    assert default_preset((28, 28, 1)) == "mnist_hetero"
    assert default_preset((32, 32, 3)) == "cifar100_10_quick"
    assert default_preset((128, 128, 3)) == "officehome"


def test_data_option_resolves_tasks_and_architecture(tmp_path):
    npz = write_npz(tmp_path / "mine.npz")
    args = build_parser().parse_args(
        ["--data", f"npz:{npz}", "--classes-per-task", "2"]
    )
    [experiment] = resolve(args)
    assert experiment.data.source == f"npz:{npz}"
    assert (experiment.data.num_tasks, experiment.data.classes_per_task) == (2, 2)
    assert experiment.preset == "mnist_hetero"  # grey images
    assert experiment.train.protocol == "lifelong"


def test_npz_run_records_identity_and_changed_data_is_not_read_back(tmp_path, capsys):
    npz = write_npz(tmp_path / "mine.npz")
    argv = ["--data", f"npz:{npz}", "--out", str(tmp_path / "out"), *FAST]
    assert main(argv) == 0
    [run_dir] = (tmp_path / "out").iterdir()
    assert run_dir.name.startswith("npz_mine-stl-seed0-")
    info = json.loads((run_dir / "run.json").read_text())
    assert info["data"]["sha256"] and info["data"]["source"] == f"npz:{npz}"
    assert main(argv) == 0
    assert "finished before" in capsys.readouterr().out
    write_npz(npz, seed=1)  # same file name, other pixels
    assert main(argv) == 0
    assert "finished before" not in capsys.readouterr().out
    assert len(list((tmp_path / "out").iterdir())) == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--data", "tfds:fashion_mnst"], "close matches"),
        (["--data", "npz:missing.npz"], "no such file"),
        (["--data", "pictures"], "SCHEME:ARGUMENT"),
    ],
)
def test_bad_data_is_one_error_line(tmp_path, capsys, argv, message):
    assert main([*argv, "--out", str(tmp_path), *FAST]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not list(tmp_path.iterdir())


def test_too_many_classes_per_task_is_one_error_line(tmp_path, capsys):
    npz = write_npz(tmp_path / "mine.npz")
    argv = ["--data", f"npz:{npz}", "--num-tasks", "3", "--classes-per-task", "2"]
    assert main([*argv, "--out", str(tmp_path / "out"), *FAST]) == 2
    assert "fewer than 3 tasks x 2" in capsys.readouterr().err


def test_explicit_class_groups_from_the_command_line(tmp_path):
    npz = write_npz(tmp_path / "mine.npz")
    argv = ["--data", f"npz:{npz}", "--set", "data.class_groups=[[3, 0], [1, 2]]"]
    [experiment] = resolve(build_parser().parse_args(argv))
    from dfcnn_tf.experiment import build_tasks

    tasks = build_tasks(experiment.data, experiment.seed)
    assert [t.classes for t in tasks] == [(3, 0), (1, 2)]
    assert tasks[0].class_names == ("c3", "c0")


def test_class_groups_naming_unknown_labels(tmp_path, capsys):
    npz = write_npz(tmp_path / "mine.npz")
    argv = ["--data", f"npz:{npz}", "--set", "data.class_groups=[[0, 9]]"]
    assert main([*argv, "--out", str(tmp_path / "out"), *FAST]) == 2
    assert "class groups must name labels in [0, 4); got [9]" in capsys.readouterr().err


def test_folder_conversions_are_one_note_each(tmp_path, capsys):
    from tests.data.test_folder_source import make_folder, write_png

    root = make_folder(tmp_path / "photos", classes=2, per_class=25)
    write_png(root / "class0" / "grey.png", np.zeros((10, 10, 1), np.uint8))
    write_png(root / "class1" / "big.png", np.zeros((20, 16, 3), np.uint8))
    argv = ["--data", f"folder:{root}", "--out", str(tmp_path / "out"), *FAST]
    assert main(argv) == 0
    notes = [ln for ln in capsys.readouterr().err.splitlines() if "note:" in ln]
    assert len(notes) == 2, notes
    assert "grey and colour" in notes[0] and "resized to 10x10" in notes[1]


def test_per_class_fractions_from_the_command_line(tmp_path):
    npz = write_npz(tmp_path / "mine.npz")
    argv = ["--data", f"npz:{npz}", "--set", "data.train_per_class=0.5"]
    argv += ["--set", "data.valid_per_class=0.25"]
    [experiment] = resolve(build_parser().parse_args(argv))
    from dfcnn_tf.experiment import build_tasks

    task = build_tasks(experiment.data, experiment.seed)[0]
    # 30 per class, 6 held out for testing: 12 train + 6 valid per class
    assert (len(task.y_train), len(task.y_valid), len(task.y_test)) == (24, 12, 12)
