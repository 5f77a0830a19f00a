"""Tests of the command line `python -m dfcnn_tf.lifelong`.

Bad input must end with exit code 2 and a single `error: ...` line on standard
error, never a traceback. Errors found only after the data is loaded use a
tiny synthetic `cifar100.npz` (the right shapes, random pixels), so no test
here trains a model.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dfcnn_tf.data import DATA_DIR_ENV
from dfcnn_tf.lifelong import build_parser, main, resolve
from dfcnn_tf.presets import get_preset

REPO_ROOT = Path(__file__).resolve().parents[1]
SMOKE = ["--preset", "cifar100_10_smoke", "--quiet"]
TRAIN_PER_CLASS = 20  # >= 17 train + 3 valid images per class
TEST_PER_CLASS = 2


@pytest.fixture(autouse=True)
def _no_env_data_dir(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


@pytest.fixture(scope="module")
def fake_data_dir(tmp_path_factory) -> Path:
    """A folder with a small but well-formed CIFAR-100 `cifar100.npz`."""
    folder = tmp_path_factory.mktemp("fake_cifar100")
    rng = np.random.default_rng(0)

    def split(per_class):
        labels = np.repeat(np.arange(100, dtype=np.int64), per_class)
        images = rng.integers(0, 256, (len(labels), 32, 32, 3), dtype=np.uint8)
        return images, labels

    (x_train, y_train), (x_test, y_test) = split(TRAIN_PER_CLASS), split(TEST_PER_CLASS)
    np.savez(
        folder / "cifar100.npz",
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
    )
    return folder


def _error_line(capsys, argv):
    """Runs `main(argv)`, checks exit code 2 and one error line; returns it."""
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert code == 2, captured.err
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in captured.err
    assert captured.out == ""
    return lines[0]


# --- help and argument resolution ------------------------------------------------


def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in (
        "--preset",
        "--model",
        "--epochs-per-task",
        "--seed",
        "--data-dir",
        "--out",
        "--eval-every",
        "--eval-current-every",
        "--eval-all-every",
        "--set",
        "--quiet",
        "--format",
    ):
        assert option in out
    assert "cifar100_10" in out  # the preset list
    assert "dfcnn" in out  # the model list


def test_bad_argument_type_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--epochs-per-task", "many"])
    assert info.value.code == 2
    assert "--epochs-per-task" in capsys.readouterr().err


def test_resolve_applies_shortcuts_then_set(tmp_path):
    args = build_parser().parse_args(
        [
            *SMOKE,
            "--seed",
            "5",
            "--epochs-per-task",
            "3",
            "--eval-every",
            "2",
            "--data-dir",
            str(tmp_path),
            "--set",
            "train.learning_rate=1e-2",
            "--set",
            "train.eval_every=3",
        ]
    )
    [experiment] = resolve(args)
    assert experiment.preset == "cifar100_10_smoke"
    assert experiment.model.name == "dfcnn"
    assert experiment.seed == 5
    assert experiment.train.epochs_per_task == 3
    assert experiment.train.learning_rate == 1e-2
    # --set comes after the shortcut; the former key sets both schedules
    assert experiment.train.eval_current_every == experiment.train.eval_all_every == 3
    assert experiment.data.data_dir == str(tmp_path)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--eval-every", "4"], (4, 4)),
        (["--eval-all-every", "20"], (1, 20)),
        (["--eval-every", "4", "--eval-all-every", "20"], (4, 20)),
        (["--eval-current-every", "2", "--eval-every", "6"], (2, 6)),
    ],
)
def test_eval_schedule_options(options, expected):
    """--eval-every sets both intervals; the specific options override it."""
    [experiment] = resolve(build_parser().parse_args([*SMOKE, *options]))
    train = experiment.train
    assert (train.eval_current_every, train.eval_all_every) == expected


def test_resolve_keeps_preset_values_without_options():
    [experiment] = resolve(build_parser().parse_args(SMOKE))
    assert experiment == get_preset("cifar100_10_smoke").experiment("dfcnn", 0)
    assert experiment.data.data_dir is None


# --- bad input: exit code 2 and one error line ---------------------------------


def test_unknown_model(capsys, tmp_path):
    line = _error_line(capsys, [*SMOKE, "--model", "nosuch", "--out", str(tmp_path)])
    assert "'nosuch'" in line
    assert "Valid models:" in line
    assert "dfcnn" in line


def test_unknown_preset(capsys, tmp_path):
    line = _error_line(capsys, ["--preset", "nosuch", "--out", str(tmp_path)])
    assert "Unknown preset 'nosuch'" in line
    assert "cifar100_10" in line
    assert "cifar100_10_smoke" in line


def test_unknown_set_key(capsys, tmp_path):
    line = _error_line(
        capsys, [*SMOKE, "--set", "train.nosuch=1", "--out", str(tmp_path)]
    )
    assert "'train.nosuch'" in line
    assert "train.learning_rate" in line


def test_wrong_set_type(capsys, tmp_path):
    line = _error_line(
        capsys, [*SMOKE, "--set", "train.batch_size=abc", "--out", str(tmp_path)]
    )
    assert "train.batch_size" in line


def test_invalid_config_found_before_data(capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = [
        *SMOKE,
        "--eval-every",
        "0",
        "--data-dir",
        str(empty),
        "--out",
        str(tmp_path),
    ]
    line = _error_line(capsys, argv)
    assert "train.eval_all_every=0" in line


def test_missing_data_file_names_the_path(capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = [*SMOKE, "--data-dir", str(empty), "--out", str(tmp_path / "out")]
    line = _error_line(capsys, argv)
    assert str(empty / "cifar100.npz") in line
    assert not (tmp_path / "out").exists()


def test_corrupt_data_file_names_the_file(capsys, tmp_path):
    path = tmp_path / "cifar100.npz"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    argv = [*SMOKE, "--data-dir", str(tmp_path), "--out", str(tmp_path / "out")]
    line = _error_line(capsys, argv)
    assert str(path) in line


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        (
            "model.knowledge_bases=[[3,16],[2,24],[2,32],[2,36]]",
            ["kernel_size", "knowledge_base.size", "layer 1"],
        ),
        ("model.knowledge_bases=[[2,16],[2,24]]", ["model.knowledge_bases has 2"]),
        (
            "model.knowledge_bases=[[0,16],[2,24],[2,32],[2,36]]",
            ["model.knowledge_bases[0].size must be positive"],
        ),
        (
            "model.knowledge_bases=[[2.0,16],[2,24],[2,32],[2,36]]",
            ["model.knowledge_bases.size needs a value of type int", "2.0"],
        ),
        ("model.fc_hidden=[0]", ["model.fc_hidden[0] must be positive"]),
    ],
)
def test_bad_model_setting_is_a_config_error(
    capsys, tmp_path, fake_data_dir, assignment, expected
):
    argv = [*SMOKE, "--data-dir", str(fake_data_dir), "--out", str(tmp_path)]
    line = _error_line(capsys, [*argv, "--set", assignment])
    assert all(part in line for part in expected), line


# --- a real process ---------------------------------------------------------------


@pytest.mark.slow
def test_module_entry_point_unknown_model():
    """In a process of its own: TensorFlow's start-up lines do not stand
    before the one error line (`dfcnn_tf.tf_import`)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.pop(DATA_DIR_ENV, None)
    completed = subprocess.run(
        [sys.executable, "-m", "dfcnn_tf.lifelong", "--model", "nosuch"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 2
    [line] = completed.stderr.splitlines()
    assert line.startswith("error: ") and "Valid models" in line


def test_set_field_the_data_set_does_not_read(capsys, tmp_path):
    argv = [*SMOKE, "--set", "data.percent=10", "--out", str(tmp_path)]
    line = _error_line(capsys, argv)
    assert "data.percent=10" in line and "not read by data set cifar100" in line
    assert "it reads num_tasks" in line
    assert not any(tmp_path.iterdir())
