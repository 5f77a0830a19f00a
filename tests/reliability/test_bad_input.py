"""Bad input through the command line: one `error:` line, a non-zero exit code.

Completes `tests/test_cli.py` (unknown model / preset / `--set` key, wrong
`--set` type, evaluation intervals 0, missing or corrupt data file, KB size against
the kernel, layer-count mismatch, zero KB size or FC width) and the unit
tests of `tests/data` and `tests/test_overrides.py` with the cases of issue 8
that they did not run through `main()`: unknown data set, negative sizes,
deconvolution stride against the kernel, batch larger than a task's training
set, a negative evaluation interval, the run-control fields, and every kind
of malformed data file. No test here trains a model.
"""

import dataclasses

import numpy as np
import pytest

from dfcnn_tf.data import DATA_DIR_ENV
from dfcnn_tf.errors import ConfigError
from dfcnn_tf.fit_checks import check_task_fits
from dfcnn_tf.lifelong import main
from dfcnn_tf.registry import build_model

from .tiny import INPUT_SHAPE, tiny_experiment, tiny_tasks

SMOKE = ["--preset", "cifar100_10_smoke", "--quiet"]


@pytest.fixture(autouse=True)
def _no_env_data_dir(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


def arrays(per_class=20, classes=100, shape=(32, 32, 3), seed=0):
    """Well-formed uint8 images and int64 labels: `per_class` train images and
    2 test images per class."""
    rng = np.random.default_rng(seed)

    def split(n):
        labels = np.repeat(np.arange(classes, dtype=np.int64), n)
        images = rng.integers(0, 256, (len(labels), *shape), dtype=np.uint8)
        return images, labels

    (x_train, y_train), (x_test, y_test) = split(per_class), split(2)
    return dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def error_line(capsys, argv, code=2):
    """Runs `main(argv)`; checks the exit code and one error line; returns it."""
    assert main(argv) == code
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ") and "Traceback" not in captured.err
    return lines[0]


# --- configuration ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--epochs-per-task", "-3"], "train.epochs_per_task must be positive"),
        (["--eval-every", "-2"], "train.eval_all_every must be positive integers"),
        (["--eval-all-every", "0"], "train.eval_all_every=0"),
        (["--eval-current-every", "-1"], "train.eval_current_every=-1"),
        (["--set", "train.batch_size=-1"], "train.batch_size must be positive"),
        (["--set", "data.num_tasks=0"], "data.num_tasks must be positive"),
        (["--set", "data.train_per_class=-17"], "data.train_per_class must be"),
        (
            ["--set", "model.conv=[[-32,3,1],[32,3,2],[64,3,1],[64,3,2]]"],
            "model.conv[0].filters must be positive",
        ),
        (["--set", "train.batch_size=171"], "larger than a task's training set"),
        (["--set", "train.checkpoint_every=-1"], "train.checkpoint_every must be"),
        (["--set", "train.checkpoint_every=1.5"], "train.checkpoint_every needs"),
        (["--set", "train.deterministic=maybe"], "train.deterministic needs"),
    ],
)
def test_bad_configuration_before_any_data(capsys, tmp_path, options, expected):
    out = tmp_path / "out"
    line = error_line(capsys, [*SMOKE, "--data-dir", str(tmp_path), *options])
    assert expected in line
    assert not out.exists()


def test_unknown_data_set_lists_the_valid_ones(capsys, tmp_path):
    argv = [*SMOKE, "--data-dir", str(tmp_path), "--set", "data.dataset='svhn'"]
    line = error_line(capsys, [*argv, "--out", str(tmp_path / "out")])
    assert "Unknown data set 'svhn'" in line
    assert "cifar10, cifar100, mnist, officehome" in line


def test_deconvolution_stride_not_matching_the_kernel(capsys, tmp_path):
    np.savez(tmp_path / "cifar100.npz", **arrays())
    argv = [*SMOKE, "--data-dir", str(tmp_path), "--out", str(tmp_path / "out")]
    line = error_line(capsys, [*argv, "--set", "model.deconv_stride=3"])
    assert "deconv_stride" in line and "kernel_size" in line and "layer 1" in line


def test_batch_larger_than_a_binary_task_training_set():
    experiment = tiny_experiment()
    model = build_model(experiment.model, INPUT_SHAPE)
    train = dataclasses.replace(experiment.train, batch_size=21)
    with pytest.raises(ConfigError, match=r"batch_size=21 is larger than task 1's"):
        check_task_fits(model, train, tiny_tasks(n_train=20)[0])
    check_task_fits(model, dataclasses.replace(train, batch_size=20), tiny_tasks()[0])


# --- data -------------------------------------------------------------------------


def _nan_pixels(data):
    data["x_train"] = data["x_train"].astype(np.float32)
    data["x_train"][3, 1, 1, 0] = np.nan


def _inf_pixels(data):
    data["x_test"] = data["x_test"].astype(np.float64)
    data["x_test"][0, 0, 0, 2] = np.inf


BAD_FILES = {
    "missing key": (lambda d: d.pop("y_test"), "missing arrays ['y_test']"),
    "renamed key": (
        lambda d: d.update(images=d.pop("x_train")),
        "missing arrays ['x_train']",
    ),
    "wrong image shape": (
        lambda d: d.update(x_test=d["x_test"][:, :28, :28]),
        "x_test: expected images of shape",
    ),
    "wrong image dtype": (
        lambda d: d.update(x_train=d["x_train"].astype(np.int16)),
        "x_train: expected dtype uint8, got int16",
    ),
    "wrong label dtype": (
        lambda d: d.update(y_train=d["y_train"].astype(np.float32)),
        "y_train: expected integer labels",
    ),
    "labels out of range": (
        lambda d: d["y_test"].__setitem__(0, 100),
        "y_test: labels must lie in [0, 100)",
    ),
    "negative labels": (
        lambda d: d["y_train"].__setitem__(5, -1),
        "y_train: labels must lie in [0, 100)",
    ),
    "NaN pixels": (_nan_pixels, "x_train: images hold NaN or infinite values"),
    "inf pixels": (_inf_pixels, "x_test: images hold NaN or infinite values"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_malformed_data_file_names_file_and_array(capsys, tmp_path, case):
    change, expected = BAD_FILES[case]
    data = arrays(per_class=2)
    change(data)
    np.savez(tmp_path / "cifar100.npz", **data)
    argv = [*SMOKE, "--data-dir", str(tmp_path), "--out", str(tmp_path / "out")]
    line = error_line(capsys, argv)
    assert expected in line
    assert str(tmp_path / "cifar100.npz") in line


def test_too_few_images_per_class(capsys, tmp_path):
    np.savez(tmp_path / "cifar100.npz", **arrays(per_class=12))
    argv = [*SMOKE, "--data-dir", str(tmp_path), "--out", str(tmp_path / "out")]
    line = error_line(capsys, argv)
    assert "needs 20 training images" in line


def test_too_few_images_for_the_requested_percent(capsys, tmp_path):
    np.savez(tmp_path / "cifar10.npz", **arrays(per_class=100, classes=10))
    argv = ["--preset", "cifar10_hetero_smoke", "--quiet", "--data-dir", str(tmp_path)]
    argv += ["--out", str(tmp_path / "out"), "--set", "data.percent=30"]
    line = error_line(capsys, argv)
    assert "needs 3000 training images at 30%" in line and "hold 200" in line


@pytest.mark.parametrize(
    ("percent", "expected"),
    [
        ("0", "data.percent must be a number in (0, 100]"),
        ("101", "data.percent must be a number in (0, 100]"),
        ("0.1", "data.percent gives 10 train + valid images per cifar10 task"),
    ],
)
def test_percent_out_of_range_names_the_field(capsys, tmp_path, percent, expected):
    """Checked with the configuration, before any image is read: no data
    folder is needed to be told."""
    argv = ["--preset", "cifar10_hetero_smoke", "--quiet", "--out", str(tmp_path)]
    argv += [
        "--data-dir",
        str(tmp_path / "nowhere"),
        "--set",
        f"data.percent={percent}",
    ]
    line = error_line(capsys, argv)
    assert expected in line and f"Received: data.percent={float(percent)}" in line


def test_multi_line_message_first_line_stands_alone(capsys, tmp_path, monkeypatch):
    """Office-Home's missing folder: the error on the first line, the layout
    and download steps after it, indented."""
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    argv = ["--preset", "officehome_smoke", "--quiet", "--set", "data.num_tasks=2"]
    argv += ["--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    first, *details = err.splitlines()
    assert first.startswith("error: Office-Home images not found: ")
    assert first.endswith(".") and str(tmp_path / "nowhere") in first
    assert details and all(line.startswith("  ") for line in details)
    assert "Traceback" not in err
