"""Tests of dfcnn_tf.metrics on hand-built histories with hand-computed answers.

The reference run has 3 tasks trained for 4 epochs each, evaluated every epoch.
Test accuracy of task t at task_epoch 1..4 of phase s (``TEST_ACCURACY[s][t]``):

    phase 0: task 0 [0.50, 0.7832, 0.80, 0.78]
    phase 1: task 0 [0.76, 0.74, 0.90, 0.72]   (0.90 is NOT task 0's peak)
             task 1 [0.40, 0.60, 0.58, 0.60]
    phase 2: task 0 [0.70, 0.68, 0.66, 0.64]
             task 1 [0.57, 0.55, 0.56, 0.54]
             task 2 [0.49, 0.50, 0.45, 0.50]

Peaks are 0.80, 0.60, 0.50; 98% of them are 0.784, 0.588, 0.49. Task 0's
0.7832 at epoch 2 is 97.9% of its peak and does not count (converges at 3);
task 2's 0.49 at epoch 1 is exactly 98% and counts (converges at 1).
Validation accuracy is test accuracy minus 0.05; time is 2.5 s per epoch.
"""

import math

import numpy as np
import pandas as pd
import pytest

from dfcnn_tf import metrics, run_metrics

TEST_ACCURACY = {
    0: {0: [0.50, 0.7832, 0.80, 0.78]},
    1: {0: [0.76, 0.74, 0.90, 0.72], 1: [0.40, 0.60, 0.58, 0.60]},
    2: {
        0: [0.70, 0.68, 0.66, 0.64],
        1: [0.57, 0.55, 0.56, 0.54],
        2: [0.49, 0.50, 0.45, 0.50],
    },
}
EPOCHS_PER_TASK = 4


def make_history(run="run0", seed=0, model="dfcnn", accuracy=None, offset=0.0):
    """Builds a long-format history from ``accuracy[phase][task][epoch - 1]``."""
    accuracy = TEST_ACCURACY if accuracy is None else accuracy
    rows = []
    for phase, per_task in accuracy.items():
        for task, values in per_task.items():
            for task_epoch, test_acc in enumerate(values, start=1):
                epoch = phase * EPOCHS_PER_TASK + task_epoch
                for split, acc in (("test", test_acc), ("valid", test_acc - 0.05)):
                    rows.append(
                        {
                            "run": run,
                            "seed": seed,
                            "model": model,
                            "task": task,
                            "training_task": phase,
                            "epoch": epoch,
                            "task_epoch": task_epoch,
                            "split": split,
                            "accuracy": acc + offset,
                            "time": 2.5 * epoch,
                        }
                    )
    return pd.DataFrame(rows)


@pytest.fixture
def history():
    return make_history()


def test_peak_accuracy_uses_only_own_phase(history):
    peak = metrics.peak_accuracy(history)
    # Task 0 reaches 0.90 during phase 1, which must not count.
    assert list(peak.index) == [0, 1, 2]
    assert peak.index.name == "task"
    assert peak.to_list() == pytest.approx([0.80, 0.60, 0.50])


def test_peak_accuracy_other_split(history):
    peak = metrics.peak_accuracy(history, split="valid")
    assert peak.to_list() == pytest.approx([0.75, 0.55, 0.45])


def test_accuracy_matrix_values_and_nan_upper_triangle(history):
    matrix = metrics.accuracy_matrix(history)
    expected = np.array(
        [
            [0.78, np.nan, np.nan],
            [0.72, 0.60, np.nan],
            [0.64, 0.54, 0.50],
        ]
    )
    assert matrix.index.name == "training_task"
    assert matrix.columns.name == "task"
    assert list(matrix.index) == [0, 1, 2]
    assert list(matrix.columns) == [0, 1, 2]
    np.testing.assert_allclose(matrix.to_numpy(), expected)
    assert np.isnan(matrix.to_numpy()[np.triu_indices(3, k=1)]).all()


def test_forgetting_ratios_values(history):
    ratios = metrics.forgetting_ratios(history)
    assert list(ratios.columns) == ["task", "training_task", "tasks_since", "ratio"]
    assert ratios["task"].to_list() == [0, 0, 0, 1, 1, 2]
    assert ratios["training_task"].to_list() == [0, 1, 2, 1, 2, 2]
    assert ratios["tasks_since"].to_list() == [0, 1, 2, 0, 1, 0]
    # 0.78/0.80, 0.72/0.80, 0.64/0.80, 0.60/0.60, 0.54/0.60, 0.50/0.50
    assert ratios["ratio"].to_list() == pytest.approx([0.975, 0.9, 0.8, 1.0, 0.9, 1.0])


def test_forgetting_curve_by_tasks_since(history):
    curve = metrics.forgetting_curve(history)
    assert curve.index.name == "tasks_since"
    assert list(curve.index) == [0, 1, 2]
    # 0: mean(0.975, 1.0, 1.0); 1: mean(0.9, 0.9); 2: 0.8
    assert curve.to_list() == pytest.approx([2.975 / 3, 0.9, 0.8])


def test_final_forgetting_ratio(history):
    final = metrics.final_forgetting_ratio(history)
    assert final.index.name == "task"
    assert list(final.index) == [0, 1, 2]
    assert final.to_list() == pytest.approx([0.8, 0.9, 1.0])


def test_convergence_picks_first_epoch_reaching_98_percent(history):
    epochs = metrics.convergence_epochs(history)
    assert epochs.index.name == "task"
    # Task 0: 0.7832 is 97.9% of 0.80 (epoch 2 misses); 0.80 at epoch 3.
    # Task 1: 0.60 at epoch 2 (0.58 at epoch 3 comes later).
    # Task 2: 0.49 == 98% of 0.50 at epoch 1 counts.
    assert epochs.to_list() == [3, 2, 1]


def test_convergence_other_fraction(history):
    epochs = metrics.convergence_epochs(history, fraction=0.975)
    # 0.975 * 0.80 = 0.78 < 0.7832, so task 0 now converges at epoch 2.
    assert epochs.to_list() == [2, 2, 1]
    with pytest.raises(ValueError, match="fraction"):
        metrics.convergence_epochs(history, fraction=1.5)


def test_convergence_with_sparse_evaluations(history):
    # Evaluations every 2 epochs: only task_epoch 2 and 4 are recorded.
    sparse = history[history["task_epoch"].isin([2, 4])]
    # Task 0: peak 0.7832 at 2; task 1: 0.60 at 2; task 2: 0.50 at 2.
    assert metrics.convergence_epochs(sparse).to_list() == [2, 2, 2]


def test_training_time(history):
    assert metrics.training_time(history) == pytest.approx(30.0)


def test_average_final_accuracy(history):
    matrix = metrics.accuracy_matrix(history)
    assert metrics.average_final_accuracy(matrix) == pytest.approx(0.56)


def test_backward_transfer(history):
    matrix = metrics.accuracy_matrix(history)
    # ((0.64 - 0.78) + (0.54 - 0.60)) / 2
    assert metrics.backward_transfer(matrix) == pytest.approx(-0.10)


def test_backward_transfer_single_task_is_nan():
    matrix = pd.DataFrame([[0.7]], index=[0], columns=[0])
    assert math.isnan(metrics.backward_transfer(matrix))


def test_forward_transfer(history):
    matrix = metrics.accuracy_matrix(history)
    reference = pd.Series([0.75, 0.65, 0.40], index=[0, 1, 2])
    # ((0.78 - 0.75) + (0.60 - 0.65) + (0.50 - 0.40)) / 3
    assert metrics.forward_transfer(matrix, reference) == pytest.approx(0.08 / 3)
    # Order of the reference index does not matter.
    shuffled = reference.iloc[[2, 0, 1]]
    assert metrics.forward_transfer(matrix, shuffled) == pytest.approx(0.08 / 3)


def test_forward_transfer_rejects_mismatched_tasks(history):
    matrix = metrics.accuracy_matrix(history)
    with pytest.raises(ValueError, match="reference tasks do not match"):
        metrics.forward_transfer(matrix, pd.Series([0.7, 0.6], index=[0, 1]))


def test_matrix_functions_reject_bad_matrix():
    with pytest.raises(ValueError, match="non-empty"):
        metrics.average_final_accuracy(pd.DataFrame())
    with pytest.raises(ValueError, match="same tasks"):
        metrics.backward_transfer(pd.DataFrame([[0.5, 0.6]], columns=[0, 1]))


def test_summarize(history):
    summary = run_metrics.summarize(history)
    assert summary.name == "run0"
    assert summary.to_dict() == pytest.approx(
        {
            "mean_peak_accuracy": 1.9 / 3,
            "mean_final_accuracy": 0.56,
            "backward_transfer": -0.10,
            "mean_forgetting_ratio": 0.85,
            "mean_convergence_epochs": 2.0,
            "training_time_s": 30.0,
            "num_tasks": 3,
            "mean_peak_valid_accuracy": 1.75 / 3,
            # Validation is test - 0.05 here, so both peak definitions agree.
            "mean_test_at_best_valid": 1.9 / 3,
            "mean_forgetting_ratio_best_valid": 0.85,
            "mean_convergence_epochs_best_valid": 2.0,
        }
    )


def test_summarize_single_task_run():
    one = make_history(accuracy={0: TEST_ACCURACY[0]})
    summary = run_metrics.summarize(one)
    assert summary["num_tasks"] == 1
    assert summary["mean_peak_accuracy"] == pytest.approx(0.80)
    assert summary["mean_final_accuracy"] == pytest.approx(0.78)
    assert math.isnan(summary["backward_transfer"])
    assert math.isnan(summary["mean_forgetting_ratio"])
    assert summary["training_time_s"] == pytest.approx(10.0)


def test_summarize_without_valid_split(history):
    summary = run_metrics.summarize(history[history["split"] == "test"])
    assert math.isnan(summary["mean_peak_valid_accuracy"])
    assert math.isnan(summary["mean_test_at_best_valid"])
    assert math.isnan(summary["mean_forgetting_ratio_best_valid"])
    assert summary["mean_peak_accuracy"] == pytest.approx(1.9 / 3)


def test_per_task_table(history):
    table = run_metrics.per_task_table(history)
    assert table.index.name == "task"
    assert list(table.columns) == [
        "peak_accuracy",
        "final_accuracy",
        "final_forgetting_ratio",
        "convergence_epoch",
        "test_at_best_valid",
        "final_forgetting_ratio_best_valid",
        "convergence_epoch_best_valid",
    ]
    assert table["peak_accuracy"].to_list() == pytest.approx([0.80, 0.60, 0.50])
    assert table["final_accuracy"].to_list() == pytest.approx([0.64, 0.54, 0.50])
    assert table["final_forgetting_ratio"].to_list() == pytest.approx([0.8, 0.9, 1.0])
    assert table["convergence_epoch"].to_list() == [3, 2, 1]


# Validation accuracy of each task during its own phase, chosen so that the
# best validation epoch is not the best test epoch, with ties (first one wins):
# task 0: best 0.60 at task_epochs 2 and 3 -> 2 -> test 0.7832 (not the 0.80 peak)
# task 1: best 0.50 at task_epochs 1 and 4 -> 1 -> test 0.40
# task 2: best 0.30 at task_epoch 3 -> test 0.45
OWN_VALID = {0: [0.30, 0.60, 0.60, 0.50], 1: [0.50, 0.40, 0.45, 0.50]}
OWN_VALID[2] = [0.10, 0.20, 0.30, 0.20]
BEST_VALID_TEST = [0.7832, 0.40, 0.45]


@pytest.fixture
def valid_history(history):
    """The reference history with ``OWN_VALID``; task 0's later valid is 0.99."""
    history = history.copy()
    valid = history["split"] == "valid"
    for task, values in OWN_VALID.items():
        for task_epoch, value in enumerate(values, start=1):
            rows = valid & (history["task"] == task)
            rows &= (history["training_task"] == task) & (
                history["task_epoch"] == task_epoch
            )
            history.loc[rows, "accuracy"] = value
    # Outside its own phase a higher validation accuracy must not count.
    history.loc[
        valid & (history["task"] == 0) & (history["epoch"] == 6), "accuracy"
    ] = 0.99
    return history


def test_test_at_best_valid_takes_first_best_epoch_of_own_phase(valid_history):
    value = metrics.test_at_best_valid(valid_history)
    assert value.name == "test_at_best_valid"
    assert value.index.name == "task"
    assert list(value.index) == [0, 1, 2]
    assert value.to_list() == pytest.approx(BEST_VALID_TEST)
    # The paper's peak is unchanged by the validation accuracies.
    peak = metrics.peak_accuracy(valid_history)
    assert peak.to_list() == pytest.approx([0.80, 0.60, 0.50])


def test_test_at_best_valid_never_exceeds_peak(valid_history):
    value = metrics.test_at_best_valid(valid_history)
    assert (value <= metrics.peak_accuracy(valid_history)).all()


def test_test_at_best_valid_missing_test_row_is_nan(valid_history):
    drop = (valid_history["split"] == "test") & (valid_history["epoch"] == 2)
    value = metrics.test_at_best_valid(valid_history[~drop])
    assert math.isnan(value[0])
    assert value[1:].to_list() == pytest.approx(BEST_VALID_TEST[1:])


def test_forgetting_and_convergence_against_best_valid(valid_history):
    final = metrics.final_forgetting_ratio(valid_history, peak="best_valid")
    assert final.to_list() == pytest.approx([0.64 / 0.7832, 0.54 / 0.40, 0.50 / 0.45])
    curve = metrics.forgetting_curve(valid_history, peak="best_valid")
    diagonal = [0.78 / 0.7832, 0.60 / 0.40, 0.50 / 0.45]
    assert curve[0] == pytest.approx(sum(diagonal) / 3)
    # 98% of 0.7832 is 0.7675: reached at task_epoch 2 (0.7832); 98% of 0.40 and
    # of 0.45 are reached at task_epoch 1 (0.40 and 0.49).
    epochs = metrics.convergence_epochs(valid_history, peak="best_valid")
    assert epochs.to_list() == [2, 1, 1]


def test_summarize_reports_both_peaks(valid_history):
    summary = run_metrics.summarize(valid_history)
    assert summary["mean_peak_accuracy"] == pytest.approx(1.9 / 3)
    assert summary["mean_test_at_best_valid"] == pytest.approx(1.6332 / 3)
    ratio = (0.64 / 0.7832 + 0.54 / 0.40) / 2
    assert summary["mean_forgetting_ratio_best_valid"] == pytest.approx(ratio)
    assert summary["mean_convergence_epochs_best_valid"] == pytest.approx(4 / 3)
    table = run_metrics.per_task_table(valid_history)
    assert table["test_at_best_valid"].to_list() == pytest.approx(BEST_VALID_TEST)
    assert table["convergence_epoch_best_valid"].to_list() == [2, 1, 1]


def test_bad_peak_definition_rejected(history):
    with pytest.raises(ValueError, match="peak must be one of"):
        metrics.forgetting_curve(history, peak="best")
    with pytest.raises(ValueError, match="test accuracy"):
        metrics.task_peaks(history, "best_valid", split="valid")


SINGLE_RUN_FUNCTIONS = [
    metrics.peak_accuracy,
    metrics.test_at_best_valid,
    metrics.accuracy_matrix,
    metrics.forgetting_ratios,
    metrics.forgetting_curve,
    metrics.final_forgetting_ratio,
    metrics.convergence_epochs,
    metrics.training_time,
    run_metrics.summarize,
    run_metrics.per_task_table,
]


@pytest.fixture
def two_runs(history):
    # Second run: another model and seed, every accuracy 0.1 lower.
    other = make_history(run="run1", seed=1, model="hps", offset=-0.1)
    return pd.concat([history, other], ignore_index=True)


@pytest.mark.parametrize("function", SINGLE_RUN_FUNCTIONS)
def test_single_run_functions_reject_several_runs(function, two_runs):
    with pytest.raises(ValueError, match="holds 2 runs"):
        function(two_runs)


def test_summarize_runs(two_runs):
    table = run_metrics.summarize_runs(two_runs)
    assert table.index.name == "run"
    assert list(table.index) == ["run0", "run1"]
    assert table["model"].to_list() == ["dfcnn", "hps"]
    assert table["seed"].to_list() == [0, 1]
    assert table["mean_peak_accuracy"].to_list() == pytest.approx([1.9 / 3, 1.6 / 3])
    assert table["mean_final_accuracy"].to_list() == pytest.approx([0.56, 0.46])
    # Backward transfer is a difference, so the offset cancels.
    assert table["backward_transfer"].to_list() == pytest.approx([-0.10, -0.10])
    assert table["training_time_s"].to_list() == pytest.approx([30.0, 30.0])


def test_summarize_runs_rejects_run_with_two_models(history):
    mixed = history.copy()
    mixed.loc[0, "model"] = "hps"
    with pytest.raises(ValueError, match="several values of model"):
        run_metrics.summarize_runs(mixed)


@pytest.mark.parametrize(
    "function", SINGLE_RUN_FUNCTIONS + [run_metrics.summarize_runs]
)
def test_empty_history_rejected(function, history):
    with pytest.raises(ValueError, match="history is empty"):
        function(history.iloc[0:0])


@pytest.mark.parametrize(
    "function", SINGLE_RUN_FUNCTIONS + [run_metrics.summarize_runs]
)
def test_missing_columns_named(function, history):
    broken = history.drop(columns=["task_epoch", "time"])
    with pytest.raises(ValueError, match="missing required columns: task_epoch, time"):
        function(broken)


def test_unknown_or_absent_split_rejected(history):
    with pytest.raises(ValueError, match="split must be one of"):
        metrics.peak_accuracy(history, split="validation")
    with pytest.raises(ValueError, match="no rows with split='train'"):
        metrics.accuracy_matrix(history, split="train")


def test_duplicate_evaluation_rejected(history):
    doubled = pd.concat([history, history.iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match="twice"):
        metrics.accuracy_matrix(doubled)


def test_zero_peak_gives_nan_ratio():
    zero = make_history(
        accuracy={0: {0: [0.0, 0.0]}, 1: {0: [0.0, 0.0], 1: [0.5, 0.6]}}
    )
    ratios = metrics.forgetting_ratios(zero)
    assert ratios["ratio"].isna().to_list() == [True, True, False]
    assert metrics.final_forgetting_ratio(zero).to_list()[1] == pytest.approx(1.0)
