"""Runs of one model under other settings are labelled apart, and one folder
compares against another paired by model and seed."""

import json

import pandas as pd
import pytest

from dfcnn_tf.aggregate import ci95, load_results
from dfcnn_tf.comparison import compare
from dfcnn_tf.presets import get_preset
from dfcnn_tf.report import main as report_main
from dfcnn_tf.variants import variant_labels


def config(model, seed, **train):
    experiment = get_preset("cifar100_10_cpu").experiment(model, seed).to_dict()
    experiment["train"].update(train)
    return experiment


def test_labels_show_the_settings_that_vary_away_from_the_default():
    configs = {
        "a": config("dfcnn", 0),
        "b": config("dfcnn", 1),
        "c": config("dfcnn", 0, precision="mixed_bfloat16"),
        "d": config("dfcnn", 0, precision="mixed_bfloat16", batch_size=20),
        "e": config("stl", 0, batch_size=20),
        "f": config("stl", 1, batch_size=20),  # shared by all stl runs: no label
    }
    assert variant_labels(configs) == {
        "a": "dfcnn",
        "b": "dfcnn",
        "c": "dfcnn [train.precision=mixed_bfloat16]",
        "d": "dfcnn [train.batch_size=20, train.precision=mixed_bfloat16]",
        "e": "stl",
        "f": "stl",
    }


def test_an_integer_and_its_float_are_one_setting():
    configs = {"a": config("stl", 0), "b": config("stl", 1)}
    configs["a"]["data"]["percent"] = 3
    configs["b"]["data"]["percent"] = 3.0
    assert set(variant_labels(configs).values()) == {"stl"}


def test_an_stl_file_per_seed_is_not_another_configuration():
    configs = {str(s): config("tf", s) for s in range(2)}
    for seed, experiment in configs.items():
        experiment["model"]["tucker"]["init_from"] = f"stl-seed{seed}.learner"
    assert set(variant_labels(configs).values()) == {"tf"}


def write_run(folder, name, experiment, accuracy):
    """A finished lifelong run of one task, two evaluations, on disk."""
    run = folder / name
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(experiment))
    (run / "run.json").write_text(json.dumps({"status": "finished"}))
    rows = [
        dict(run=name, seed=experiment["seed"], model=experiment["model"]["name"],
             task=0, training_task=0, epoch=epoch, task_epoch=epoch, split=split,
             accuracy=accuracy * epoch / 2, time=epoch, scope="all")
        for epoch in (1, 2) for split in ("train", "valid", "test")
    ]  # fmt: skip
    pd.DataFrame(rows).to_csv(run / "history.csv", index=False)


def test_a_folder_against_another_pairs_by_model_and_seed(tmp_path):
    ours, base = [0.50, 0.60, 0.70], [0.40, 0.60, 0.50]
    for seed, (a, b) in enumerate(zip(ours, base, strict=True)):
        mixed = config("dfcnn", seed, precision="mixed_bfloat16")
        write_run(tmp_path / "new", f"m{seed}", mixed, a)
        write_run(tmp_path / "base", f"f{seed}", config("dfcnn", seed), b)
    table = compare(load_results(tmp_path / "new"), load_results(tmp_path / "base"))
    differences = [100 * (a - b) for a, b in zip(ours, base, strict=True)]
    # every run in "new" is mixed_bfloat16: within its folder, no label
    cell = table.loc["dfcnn", "mean_peak_accuracy (%)"]
    assert cell == f"60.00 (+{sum(differences) / 3:.2f} ± {ci95(differences):.2f})"
    assert table.loc["dfcnn (base)", "mean_peak_accuracy (%)"].startswith("50.00 ± ")


def test_report_against_writes_comparison_and_refuses_an_empty_base(tmp_path, capsys):
    new, empty = str(tmp_path / "new"), str(tmp_path / "empty")
    write_run(tmp_path / "new", "r0", config("stl", 0), 0.5)
    (tmp_path / "empty").mkdir()
    assert report_main([new, "--against", new]) == 0
    page = (tmp_path / "new" / "report" / "comparison.md").read_text()
    assert "| stl " in page and "50.00 (+0.00)" in page
    assert report_main([new, "--against", empty]) == 2
    assert "error: No readable finished run" in capsys.readouterr().err


def test_protocols_are_not_mixed(tmp_path):
    write_run(tmp_path / "a", "r0", config("stl", 0), 0.5)
    write_run(tmp_path / "b", "r0", config("stl", 0, protocol="mtl"), 0.5)
    with pytest.raises(ValueError, match="several protocols"):
        compare(load_results(tmp_path / "a"), load_results(tmp_path / "b"))


def test_presets_are_not_mixed(tmp_path):
    write_run(tmp_path / "a", "r0", config("stl", 0), 0.5)
    other = get_preset("cifar100_10_quick").experiment("stl", 0).to_dict()
    write_run(tmp_path / "b", "r0", other, 0.5)
    with pytest.raises(ValueError, match="other presets"):
        compare(load_results(tmp_path / "a"), load_results(tmp_path / "b"))
