"""Several models and seeds in one command, reuse of finished runs, the report."""

import json
import re

import pandas as pd
import pytest

from dfcnn_tf.aggregate import (
    ci95,
    format_table,
    load_results,
    paired_differences,
    summary_table,
)
from dfcnn_tf.lifelong import main, parse_seeds
from dfcnn_tf.report import main as report_main
from dfcnn_tf.report_page import summary_markdown

pytestmark = pytest.mark.slow

ARGV = ["--preset", "cifar100_10_smoke", "--model", "dfcnn,stl", "--seeds", "0-1"]
ARGV += ["--epochs-per-task", "2", "--set", "data.num_tasks=2", "--quiet"]


@pytest.fixture(scope="module")
def results_dir(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    assert main([*ARGV, "--data-dir", str(data_dir), "--out", str(out)]) == 0
    return out


def test_one_folder_per_model_and_seed(results_dir):
    runs = sorted(p.name for p in results_dir.iterdir() if p.is_dir())
    assert len(runs) == 4
    assert {r.split("-")[1] for r in runs} == {"dfcnn", "stl"}
    assert {r.split("-")[2] for r in runs} == {"seed0", "seed1"}
    # --set changed the preset's configuration: the folder names carry its hash
    assert all(len(r.split("-")) == 4 for r in runs)


def test_repeating_the_command_recomputes_nothing(results_dir, data_dir, capsys):
    before = {p: p.stat().st_mtime_ns for p in results_dir.glob("*/history.csv")}
    assert main([*ARGV, "--data-dir", str(data_dir), "--out", str(results_dir)]) == 0
    after = {p: p.stat().st_mtime_ns for p in results_dir.glob("*/history.csv")}
    assert before == after
    assert capsys.readouterr().out.count("finished before: read back") == 4


def test_aggregate_over_trials(results_dir):
    results = load_results(results_dir)
    table = summary_table(results)
    assert list(table.index) == ["dfcnn", "stl"]
    assert (table["trials"] == 2).all()
    for model in ("dfcnn", "stl"):
        for column in ("mean_peak_accuracy", "mean_test_at_best_valid"):
            peaks = [json_summary(results_dir, model, seed)[column] for seed in (0, 1)]
            assert table.loc[model, column] == pytest.approx(sum(peaks) / 2)
            assert table.loc[model, f"{column}_ci95"] == pytest.approx(ci95(peaks))
    cells = format_table(table)
    mean = table.loc["dfcnn", "mean_peak_accuracy"] * 100
    assert cells.loc["dfcnn", "mean_peak_accuracy (%)"].startswith(f"{mean:.1f} ± ")
    assert "mean_forgetting_ratio" in cells.columns  # a ratio: no unit


def test_paired_differences_by_seed(results_dir):
    results = load_results(results_dir)
    paired = paired_differences(results, "dfcnn")
    differences = [
        json_summary(results_dir, "dfcnn", seed)["mean_peak_accuracy"]
        - json_summary(results_dir, "stl", seed)["mean_peak_accuracy"]
        for seed in (0, 1)
    ]
    assert list(paired.index) == ["stl"] and paired.loc["stl", "pairs"] == 2
    assert paired.loc["stl", "difference"] == pytest.approx(sum(differences) / 2)
    assert paired.loc["stl", "difference_ci95"] == pytest.approx(ci95(differences))
    assert paired_differences(results, "hps").empty  # no run of the reference


def test_one_seed_difference_keeps_its_sign(results_dir):
    results = load_results(results_dir)
    one_seed = results[results.seed == 0]
    [difference] = paired_differences(one_seed, "dfcnn").difference
    sign = "+" if difference >= 0 else "-"
    row = rf"\| stl +\| +1 +\| {re.escape(sign)}{abs(difference) * 100:.2f} +\|"
    assert re.search(row, summary_markdown(one_seed))


def test_every_run_shows_its_accuracies_and_one_model_pairs_nothing(results_dir):
    from dfcnn_tf.report_page import RUN_ACCURACIES, run_table

    results = load_results(results_dir)
    page = summary_markdown(results)
    assert "## Final accuracy of dfcnn minus each model, paired by seed" in page
    table = run_table(results, RUN_ACCURACIES)
    assert len(table) == 4 and table.to_markdown() in page.split("## Runs")[1]
    for _, row in table.iterrows():
        recorded = json_summary(results_dir, row.model, row.seed)
        for column in RUN_ACCURACIES:
            assert row[column] == pytest.approx(recorded[column] * 100, abs=0.005)
    alone = summary_markdown(results[results.model == "dfcnn"])
    assert "minus each model" not in alone


def json_summary(results_dir, model, seed):
    [run] = results_dir.glob(f"*-{model}-seed{seed}-*")
    return pd.read_csv(run / "summary.csv").iloc[0]


def test_report_writes_tables_and_figures(results_dir, tmp_path):
    assert report_main([str(results_dir), "--out", str(tmp_path)]) == 0
    summary = (tmp_path / "summary.md").read_text()
    assert "| mean_peak_accuracy (%)" in summary and "dfcnn" in summary
    assert "| backward_transfer (pp)" in summary and "| difference (pp)" in summary
    assert "mean_test_at_best_valid" in summary
    assert "mean_forgetting_ratio_best_valid" in summary
    assert "Test accuracy at best validation accuracy of dfcnn minus" in summary
    assert "dfcnn minus each model, paired by seed" in summary
    for name in (
        "fig3b_forgetting",
        "fig3c_convergence",
        "fig4_dfcnn",
        "fig4_stl",
        "accuracy_matrix_dfcnn",
    ):
        png = tmp_path / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (tmp_path / f"{name}.svg").read_text().lstrip().startswith("<?xml")
        assert (tmp_path / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
        assert f"]({name}.png)" in summary  # embedded beside its table


def test_figures_are_drawn_one_at_a_time(results_dir, tmp_path):
    """A folder of many models never holds all its figures open at once
    (matplotlib warns past `figure.max_open_warning`, and keeps them in
    memory): here no second figure opens while one is."""
    import warnings

    import matplotlib.pyplot as plt

    from dfcnn_tf.report_page import write_figures

    results = load_results(results_dir)
    with plt.rc_context({"figure.max_open_warning": 1}), warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        figures = write_figures(results, tmp_path)
    assert len(figures) == 6 and plt.get_fignums() == []


def test_ci95_known_values():
    assert ci95([1.0]) != ci95([1.0])  # NaN for a single trial
    # n = 4, sample sd = sqrt(4/3), t(0.975, 3) = 3.182446
    assert ci95([0.0, 0.0, 2.0, 2.0]) == pytest.approx(3.182446 * (4 / 3) ** 0.5 / 2)


def test_parse_seeds():
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds("0,3,7") == [0, 3, 7]
    assert parse_seeds("1-2,5") == [1, 2, 5]


def test_report_on_empty_folder(tmp_path, capsys):
    assert report_main([str(tmp_path)]) == 2
    assert "No readable finished run" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["{missing}"], "RESULTS_DIR {missing}: no such folder"),
        (["{file}"], "RESULTS_DIR {file}: not a folder"),
        (
            ["{results}", "--against", "{missing}"],
            "--against {missing}: no such folder",
        ),
        (["{results}", "--out", "{file}/report"], "{file}/report: Not a directory"),
    ],
)
def test_report_bad_folders(results_dir, tmp_path, capsys, argv, message):
    paths = {"missing": tmp_path / "nope", "file": tmp_path / "file.txt"}
    paths["file"].write_text("not a folder")
    paths["results"] = results_dir
    assert report_main([a.format(**paths) for a in argv]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line == f"error: {message.format(**paths)}" or line.startswith(
        f"error: {message.format(**paths)} "
    )


def test_report_skips_an_unreadable_run(results_dir, tmp_path, capsys):
    import shutil

    copy = tmp_path / "results"
    shutil.copytree(results_dir, copy)
    [damaged] = list(copy.glob("*-stl-seed1-*"))
    (damaged / "config.json").write_text("{ not json")
    assert report_main([str(copy), "--out", str(tmp_path / "report")]) == 0
    err = capsys.readouterr().err
    assert f"note: skipped {damaged} (unreadable: JSONDecodeError" in err
    skipped = {}
    runs = set(load_results(copy, skipped=skipped)["run"])
    assert list(skipped) == [damaged] and damaged.name not in runs
    assert len(runs) == 3


def test_report_of_multitask_runs_only(data_dir, tmp_path, capsys):
    argv = ["--preset", "mnist_hetero_smoke", "--epochs-per-task", "2", "--quiet"]
    argv += ["--data-dir", str(data_dir), "--out", str(tmp_path)]
    assert main(argv) == 0
    assert report_main([str(tmp_path)]) == 0
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert summary.startswith("# Multi-task runs")
    assert "mean_selected_error (%)" in summary and "| dfcnn" in summary


def test_run_json_has_config_hash(results_dir):
    [run] = list(results_dir.glob("*-dfcnn-seed0-*"))
    info = json.loads((run / "run.json").read_text())
    assert run.name.endswith(info["config_hash"])


def test_backward_transfer_in_points():
    table = pd.DataFrame(
        {
            "trials": [2],
            "backward_transfer": [-0.0123],
            "backward_transfer_ci95": [0.01],
        },
        index=pd.Index(["dfcnn"], name="model"),
    )
    assert format_table(table).loc["dfcnn", "backward_transfer (pp)"] == "-1.2 ± 1.0"


def mtl_history(model, seed, valid, test):
    """A multi-task run of 2 tasks evaluated at epochs 5, 10, 15: `valid` and
    `test` are {epoch: (task 0 accuracy, task 1 accuracy)}."""
    rows = []
    for split, values in (("valid", valid), ("test", test)):
        for epoch, accuracies in values.items():
            for task, accuracy in enumerate(accuracies):
                rows.append(
                    dict(run=f"{model}-{seed}", seed=seed, model=model, task=task,
                         training_task=0, epoch=epoch, task_epoch=epoch,
                         split=split, accuracy=accuracy, time=epoch / 10,
                         scope="all", preset="p", protocol="mtl")
                )  # fmt: skip
    return pd.DataFrame(rows)


def test_multitask_page_reads_error_at_best_mean_validation():
    from dfcnn_tf.report_page import multitask_markdown

    test = {5: (0.90, 0.80), 10: (0.95, 0.85), 15: (0.99, 0.99)}
    runs = [  # dfcnn picks epoch 10 (then 5), stl epoch 15 (then 5)
        mtl_history("dfcnn", 0, {5: (0.5, 0.5), 10: (0.9, 0.8), 15: (0.8, 0.8)}, test),
        mtl_history("dfcnn", 1, {5: (0.9, 0.9), 10: (0.9, 0.8), 15: (0.8, 0.9)}, test),
        mtl_history("stl", 0, {5: (0.5, 0.5), 10: (0.6, 0.6), 15: (0.9, 0.9)}, test),
        mtl_history("stl", 1, {5: (0.9, 0.9), 10: (0.8, 0.8), 15: (0.8, 0.9)}, test),
    ]
    page = multitask_markdown(pd.concat(runs, ignore_index=True))
    dfcnn, stl = [10.0, 15.0], [1.0, 15.0]  # mean test error (%) per seed
    half = ci95(dfcnn)
    assert f"| dfcnn   | 2        | 12.50 ± {half:.2f}" in page
    differences = [d - s for d, s in zip(dfcnn, stl, strict=True)]  # +9, 0
    assert f"| stl     | 2       | +4.50 ± {ci95(differences):.2f}" in page
    assert "| 1.00 ± 0.00" in page  # mean final error: 1% in every run
    final = page.split("## Final error of dfcnn minus each model")[1]
    assert "| stl     | 2       | +0.00 ± 0.00" in final
    runs = page.split("## Runs (error in %)")[1]
    row = "| dfcnn-0 | dfcnn   |      0 |                    10 |                  1 |"
    assert row in runs  # selected 10%, final 1%
