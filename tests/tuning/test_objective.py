"""The tuner never sees test data: the objective reads validation rows only,
and the training loop gets tasks whose test split is empty."""

import keras_tuner
import numpy as np
import pandas as pd
import pytest

from dfcnn_tf.data.tasks import Task
from dfcnn_tf.learner import LifelongLearner
from dfcnn_tf.presets import get_preset
from tuning import hypermodel as hypermodel_module
from tuning.hypermodel import LifelongHyperModel
from tuning.objective import OBJECTIVE, valid_accuracy, without_test
from tuning.spaces import SearchSpace

#: valid accuracy of (task, task_epoch) while the task trains; task 0 is also
#: evaluated (lower) while task 1 trains, which must not count.
VALID = {(0, 1): 0.3, (0, 2): 0.5, (1, 1): 0.6, (1, 2): 0.4}
PEAK_MEAN = (0.5 + 0.6) / 2


def _rows(test_accuracy):
    rows = []
    for (task, task_epoch), accuracy in VALID.items():
        seen = range(task + 1)
        for evaluated in seen:
            valid = accuracy if evaluated == task else 0.1
            for split, value in (
                ("train", 0.9),
                ("valid", valid),
                ("test", test_accuracy),
            ):
                rows.append(
                    {
                        "task": evaluated,
                        "training_task": task,
                        "epoch": task * 2 + task_epoch,
                        "task_epoch": task_epoch,
                        "split": split,
                        "accuracy": value,
                        "time": float(task * 2 + task_epoch),
                    }
                )
    return rows


def _history(test_accuracy):
    frame = pd.DataFrame(_rows(test_accuracy))
    frame.insert(0, "model", "dfcnn")
    frame.insert(0, "seed", 0)
    frame.insert(0, "run", "r")
    return frame


@pytest.mark.parametrize("poison", [0.0, 1.0, np.nan])
def test_lifelong_objective_ignores_test_rows(poison):
    assert valid_accuracy(_history(poison), "lifelong") == pytest.approx(PEAK_MEAN)


@pytest.mark.parametrize("poison", [0.0, 1.0, np.nan])
def test_mtl_objective_is_best_mean_valid_accuracy(poison):
    history = _history(poison)
    # per epoch, the mean over the tasks evaluated then; the best is epoch 2 (0.5)
    assert valid_accuracy(history, "mtl") == pytest.approx(0.5)


def test_objective_needs_validation_rows():
    history = _history(1.0)
    with pytest.raises(ValueError, match="no validation rows"):
        valid_accuracy(history[history["split"] != "valid"], "lifelong")


def _task(task_id, rng):
    def split(n):
        x = rng.normal(size=(n, 32, 32, 3)).astype(np.float32)
        return x, np.arange(n, dtype=np.int64) % 2

    return Task(task_id, (0, 1), *split(20), *split(6), *split(8))


def test_without_test_empties_only_the_test_split():
    task = _task(0, np.random.default_rng(0))
    [stripped] = without_test([task])
    assert stripped.x_test.shape == (0, 32, 32, 3)
    assert stripped.y_test.shape == (0,)
    assert stripped.x_test.dtype == task.x_test.dtype
    np.testing.assert_array_equal(stripped.x_valid, task.x_valid)
    np.testing.assert_array_equal(stripped.x_train, task.x_train)


@pytest.mark.parametrize("poison", [1.0, np.nan])
def test_fit_hides_test_data_and_scores_on_validation(monkeypatch, tmp_path, poison):
    seen = []

    class FakeLearner(LifelongLearner):
        def fit(self, tasks, on_task_end=None):
            seen.extend(tasks)
            for task in tasks:
                self.model.add_task(task.num_classes)
            return _rows(poison)

    monkeypatch.setattr(hypermodel_module, "LifelongLearner", FakeLearner)
    rng = np.random.default_rng(0)
    experiment = get_preset("cifar100_10_smoke").experiment("dfcnn")
    hypermodel = LifelongHyperModel(
        {"dfcnn": experiment},
        SearchSpace((), {"dfcnn": ()}),
        task_builder=lambda data, seed: [_task(t, rng) for t in range(2)],
    )
    hp = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    model = hypermodel.build(hp)
    result = hypermodel.fit(hp, model, trial_dir=tmp_path)
    assert result[OBJECTIVE] == pytest.approx(PEAK_MEAN)
    assert len(seen) == 2
    assert all(len(task.y_test) == 0 for task in seen)
    written = pd.read_csv(tmp_path / "history.csv")
    assert set(written["split"]) == {"train", "valid"}
