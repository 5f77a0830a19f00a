"""Grid search with a stub `fit`: exact trial counts, resuming, export."""

import keras_tuner
import pandas as pd
import pytest
from stub_search import GRID_SIZE, StubHyperModel, score

from dfcnn_tf.config_file import read_experiment
from dfcnn_tf.errors import ConfigError, TrainingError
from dfcnn_tf.models.dfcnn import DFCNN
from tuning import tuner as tuner_module
from tuning.export import BEST_FILE, TABLE_FILE, export
from tuning.grid import GridOracle, grid_points
from tuning.objective import OBJECTIVE
from tuning.search import run_search
from tuning.tuner import LifelongTuner, make_oracle, make_tuner


@pytest.fixture(autouse=True)
def _no_session_clearing(monkeypatch):
    """Stub trials build no graphs worth freeing; clearing costs ~0.4 s each."""
    monkeypatch.setattr(tuner_module.keras.backend, "clear_session", lambda: None)


def _key(values):
    return frozenset(values.items())


def _grid(hypermodel):
    hp = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    return [_key(v) for v in grid_points(hp)]


def _search(hypermodel, out_dir, max_trials=None):
    tuner = make_tuner(hypermodel, out_dir, "grid", max_trials)
    tuner.search(verbose=0)
    return tuner


def test_grid_has_exactly_the_expected_points():
    hypermodel = StubHyperModel()
    points = _grid(hypermodel)
    assert len(points) == len(set(points)) == GRID_SIZE
    sizes = hypermodel.space.size("dfcnn") + hypermodel.space.size("stl")
    assert sizes == GRID_SIZE


def test_search_runs_every_grid_point_once(tmp_path):
    hypermodel = StubHyperModel()
    tuner = _search(hypermodel, tmp_path)
    assert isinstance(tuner, LifelongTuner)
    assert isinstance(tuner.oracle, GridOracle)
    ran = [_key(values) for values in hypermodel.calls]
    assert len(ran) == GRID_SIZE
    assert set(ran) == set(_grid(hypermodel))
    trials = tuner.oracle.trials.values()
    assert [t.status for t in trials] == ["COMPLETED"] * GRID_SIZE
    for trial in trials:
        assert trial.score == score(trial.hyperparameters.values)


def test_build_goes_through_the_registry():
    hypermodel = StubHyperModel()
    hp = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    model = hypermodel.build(hp)
    assert isinstance(model, DFCNN)
    assert model.config == hypermodel.experiment(hp).model


def test_resumed_search_continues_and_never_repeats(tmp_path):
    first = StubHyperModel()
    _search(first, tmp_path, max_trials=5)
    assert len(first.calls) == 5
    second = StubHyperModel()
    tuner = _search(second, tmp_path)
    assert len(second.calls) == GRID_SIZE - 5
    ran = [_key(v) for v in first.calls + second.calls]
    assert sorted(ran, key=str) == sorted(_grid(first), key=str)
    assert len(tuner.oracle.trials) == GRID_SIZE
    third = StubHyperModel()
    _search(third, tmp_path)
    assert third.calls == []  # finished: nothing is redone


def test_export_writes_sorted_table_and_best_config(tmp_path):
    hypermodel = StubHyperModel()
    tuner, table, path = run_search(hypermodel, tmp_path, "grid", verbose=0)
    on_disk = pd.read_csv(tmp_path / TABLE_FILE)
    assert len(table) == len(on_disk) == GRID_SIZE
    assert table[OBJECTIVE].is_monotonic_decreasing
    assert list(on_disk[OBJECTIVE]) == pytest.approx(list(table[OBJECTIVE]))
    best = max(hypermodel.calls, key=score)
    assert table[OBJECTIVE].iloc[0] == pytest.approx(score(best))
    assert path == tmp_path / BEST_FILE
    hp = tuner.oracle.get_best_trials(1)[0].hyperparameters
    assert read_experiment(path) == hypermodel.experiment(hp)
    table_again, _ = export(tuner, tmp_path)
    assert table_again.equals(table)


@pytest.mark.parametrize("kind", ["random", "bayesian"])
def test_sampling_tuners_take_max_trials(tmp_path, kind):
    if kind == "bayesian":
        pytest.importorskip("sklearn", reason="keras-tuner[bayesian] not installed")
    hypermodel = StubHyperModel()
    tuner = make_tuner(hypermodel, tmp_path, kind, max_trials=3, seed=1)
    tuner.search(verbose=0)
    assert len(hypermodel.calls) == 3
    assert len({_key(v) for v in hypermodel.calls}) == 3


def test_unknown_tuner_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="grid, random, bayesian"):
        make_oracle("annealing")


def test_bayesian_without_its_extras_names_them(monkeypatch):
    monkeypatch.setattr(tuner_module, "_has_modules", lambda *names: False)
    with pytest.raises(ConfigError, match="scikit-learn"):
        make_oracle("bayesian")


def test_load_model_says_how_to_retrain(tmp_path):
    tuner = _search(StubHyperModel(), tmp_path, max_trials=1)
    with pytest.raises(NotImplementedError, match="--config"):
        tuner.get_best_models(1)


class _DivergingStub(StubHyperModel):
    """Diverges (like a too-large learning rate) whenever `learning_rate=1e-3`."""

    def fit(self, hp, model, *args, **kwargs):
        if hp.get("learning_rate") == 1e-3:
            raise TrainingError("Loss became nan in task 1")
        return super().fit(hp, model, *args, **kwargs)


def test_diverging_trials_fail_and_the_search_goes_on(tmp_path):
    hypermodel = _DivergingStub()
    tuner, table, path = run_search(hypermodel, tmp_path, "grid", verbose=0)
    assert len(table) == GRID_SIZE
    failed = table[table["status"] == "FAILED"]
    assert len(failed) == GRID_SIZE // 2
    assert (failed["learning_rate"] == 1e-3).all()
    assert failed[OBJECTIVE].isna().all()
    completed = list(table["status"].iloc[: GRID_SIZE // 2])
    assert completed == ["COMPLETED"] * (GRID_SIZE // 2)
    assert read_experiment(path).train.learning_rate == 1e-4


def test_grid_oracle_gives_every_worker_a_point_at_once(tmp_path):
    oracle = GridOracle(objective=keras_tuner.Objective(OBJECTIVE, "max"))
    oracle._set_project_dir(str(tmp_path), "p")  # what a tuner does
    hp = oracle.get_space()
    hp.Choice("a", [1, 2, 3])
    hp.Choice("b", [1, 2])
    oracle.update_space(hp)
    trials = [oracle.create_trial(f"worker{i}") for i in range(6)]
    assert [t.status for t in trials] == ["RUNNING"] * 6  # KerasTuner's: 2, IDLE
    assert len({_key(t.hyperparameters.values) for t in trials}) == 6
    assert oracle.create_trial("worker6").status == "IDLE"  # 6 still running
    for trial in trials:
        trial.status = "COMPLETED"
        oracle.update_trial(trial.trial_id, {OBJECTIVE: 0.5})
        oracle.end_trial(trial)
    assert oracle.create_trial("worker6").status == "STOPPED"
