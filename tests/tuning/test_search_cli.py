"""`python -m tuning.search`: bad input ends with exit code 2 and one
`error: ...` line, before anything is trained."""

import numpy as np
import pytest

from tuning.search import build_parser, check_spec, main, resolve

BASE = ["--preset", "cifar100_10_smoke", "--out"]


def _error(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_help_lists_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for option in ("--preset", "--model", "--max-trials", "--out", "--tuner"):
        assert option in out
    for option in ("--data-dir", "--set", "--seed", "--overwrite"):
        assert option in out


def test_resolve_applies_set_and_fixes_searched_fields(tmp_path):
    argv = BASE + [str(tmp_path), "--model", "dfcnn,stl", "--data-dir", "d"]
    argv += ["--set", "train.learning_rate=0.01", "--set", "data.num_tasks=2"]
    experiments, space = resolve(build_parser().parse_args(argv))
    assert list(experiments) == ["dfcnn", "stl"]
    for experiment in experiments.values():
        assert experiment.train.learning_rate == 0.01
        assert experiment.data.num_tasks == 2
        assert experiment.data.data_dir == "d"
    assert space.learning_rates == ()
    assert set(space.models) == {"dfcnn", "stl"}


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--model", "nope"], "Unknown model 'nope'"),
        (["--set", "train.nope=1"], "train.nope"),
        (["--set", "train.protocol=mtl", "--model", "prognn"], "supports only"),
    ],
)
def test_bad_options_are_reported(tmp_path, capsys, extra, fragment):
    assert fragment in _error(capsys, BASE + [str(tmp_path)] + extra)


def test_unknown_preset_is_reported(tmp_path, capsys):
    line = _error(capsys, ["--preset", "nope", "--out", str(tmp_path)])
    assert "Unknown preset 'nope'" in line


def test_a_folder_keeps_one_search(tmp_path, capsys):
    argv = BASE + [str(tmp_path), "--max-trials", "4"]
    check_spec(tmp_path, build_parser().parse_args(argv))
    check_spec(tmp_path, build_parser().parse_args(argv[:-2]))  # same search
    line = _error(capsys, argv + ["--seed", "1"])
    assert "holds another search" in line


def test_max_trials_must_be_positive(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(BASE + [str(tmp_path), "--max-trials", "0"])
    assert "must be a positive integer" in capsys.readouterr().err


def test_a_worker_may_not_overwrite(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "1")
    line = _error(capsys, BASE + [str(tmp_path), "--overwrite"])
    assert "never a worker" in line


def test_own_data_is_searched_with_the_preset_architecture(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 25)
    x = rng.integers(0, 256, (100, 12, 12), dtype=np.uint8)
    np.savez(tmp_path / "mine.npz", x_train=x, y_train=y)
    argv = ["--preset", "mnist_hetero", "--out", str(tmp_path / "s")]
    argv += ["--data", f"npz:{tmp_path / 'mine.npz'}"]
    experiments, _ = resolve(build_parser().parse_args(argv))
    data = experiments["dfcnn"].data
    assert data.source.startswith("npz:") and data.num_tasks == 2
