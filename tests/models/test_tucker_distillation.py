"""TF (distillation): a TF model started from a saved STL learner
(`model.tucker.init_from`), as the released code starts it from its STL run."""

import dataclasses
import shutil

import numpy as np
import pytest

from dfcnn_tf import LifelongLearner
from dfcnn_tf.errors import ConfigError
from dfcnn_tf.overrides import apply_overrides
from dfcnn_tf.registry import build_model
from dfcnn_tf.stl_source import load_stl_source
from dfcnn_tf.training.model_state import model_variables
from dfcnn_tf.training.rng_state import global_rng_state

from ..learner.test_learner import raw_task
from ..reliability.tiny import INPUT_SHAPE, tiny_experiment

pytestmark = pytest.mark.slow  # trains tiny learners


@pytest.fixture(scope="module")
def stl_file(tmp_path_factory):
    """A tiny STL learner after two tasks, saved; and those tasks."""
    learner = LifelongLearner(tiny_experiment("stl"))
    tasks = [raw_task(t)[0] for t in range(2)]
    for task in tasks:
        learner.learn(task)
    path = tmp_path_factory.mktemp("stl") / "stl.learner"
    learner.save(path)
    return path, learner, tasks


def tf_experiment(path, **train):
    experiment = tiny_experiment("tf", **train)
    return apply_overrides(experiment, [f"model.tucker.init_from={path}"])


def stl_copy(stl_file, folder):
    """A copy of the STL learner file in `folder` (free to delete), and its tasks."""
    path, _, tasks = stl_file
    shutil.copy(path, folder / "stl.learner")
    return folder / "stl.learner", tasks


def assert_same_variables(learner, other):
    ours, theirs = model_variables(learner.model), model_variables(other.model)
    assert ours.keys() == theirs.keys()
    for key in ours:
        np.testing.assert_array_equal(ours[key].numpy(), theirs[key].numpy())


def relative_error(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def test_each_task_starts_as_the_stl_task_of_its_index(stl_file):
    path, stl, tasks = stl_file
    model = build_model(tf_experiment(path).model, INPUT_SHAPE)
    assert model.num_tasks == 0 and len(model.source_tasks) == 2
    for task in tasks:
        task_id = model.add_task(task.num_classes)
        expected = np.asarray(stl.model(task.x_test, task_id))
        assert relative_error(np.asarray(model(task.x_test, task_id)), expected) < 1e-3
    third = model.add_task(3)  # beyond the STL's tasks: the rows' mean + noise
    assert np.isfinite(np.asarray(model(tasks[0].x_test, third))).all()


def test_trains_on_the_stl_tasks_and_saves_and_loads(stl_file, tmp_path):
    path, _, tasks = stl_file
    learner = LifelongLearner(tf_experiment(path, epochs_per_task=2))
    learner.fit(tasks)
    learner.save(tmp_path / "tf.learner")
    assert_same_variables(learner, LifelongLearner.load(tmp_path / "tf.learner"))


def test_a_saved_learner_loads_and_goes_on_without_the_stl_file(stl_file, tmp_path):
    """The learner file keeps a copy of the STL file: after the original is
    gone, the loaded learner learns the STL's next task exactly as a learner
    that never stopped, and saves and loads again."""
    copy, tasks = stl_copy(stl_file, tmp_path)
    uninterrupted = LifelongLearner(tf_experiment(copy, epochs_per_task=2))
    uninterrupted.learn(tasks[0])
    uninterrupted.save(tmp_path / "tf.learner")
    uninterrupted.learn(tasks[1])
    copy.unlink()
    loaded = LifelongLearner.load(tmp_path / "tf.learner")
    loaded.attach(tasks[0])
    loaded.learn(tasks[1])
    assert_same_variables(uninterrupted, loaded)
    loaded.save(tmp_path / "again.learner")
    again = LifelongLearner.load(tmp_path / "again.learner")
    np.testing.assert_array_equal(
        again.model(tasks[1].x_test, 1), loaded.model(tasks[1].x_test, 1)
    )


def test_the_run_identity_survives_the_stl_file(stl_file, tmp_path, monkeypatch):
    """`--from-model` names the continued run before loading the learner:
    the learner file's copy stands in for the missing STL file."""
    from dfcnn_tf import stl_source
    from dfcnn_tf.learner_file import read_record
    from dfcnn_tf.results import config_hash
    from dfcnn_tf.saved_learner import register_kept_source

    copy, tasks = stl_copy(stl_file, tmp_path)
    learner = LifelongLearner(tf_experiment(copy, epochs_per_task=1))
    learner.learn(tasks[0])
    learner.save(tmp_path / "tf.learner")
    before = config_hash(learner.experiment)
    copy.unlink()
    monkeypatch.setattr(stl_source, "_COPIES", {})  # a fresh process
    with pytest.raises(ConfigError, match="no such file"):
        config_hash(learner.experiment)
    record = read_record(tmp_path / "tf.learner")
    register_kept_source(tmp_path / "tf.learner", record, learner.experiment)
    assert config_hash(learner.experiment) == before


@pytest.mark.parametrize("protocol", ["lifelong", "mtl"])
def test_refuses_tasks_the_stl_did_not_learn(stl_file, protocol):
    path, _, tasks = stl_file
    other = [raw_task(t, seed=7)[0] for t in range(2)]  # same classes, other images
    learner = LifelongLearner(tf_experiment(path, protocol=protocol))
    with pytest.raises(ConfigError, match=r"init_from: task 1 .*normalization"):
        learner.fit(other)


def test_refuses_what_is_not_a_saved_stl_learner(stl_file, tmp_path):
    path, _, tasks = stl_file
    hps = LifelongLearner(tiny_experiment("hps", epochs_per_task=1))
    hps.learn(tasks[0])
    hps.save(tmp_path / "hps.learner")
    (tmp_path / "text.learner").write_text("not a learner")
    cases = {
        tmp_path / "missing.learner": "no such file",
        tmp_path / "hps.learner": "'hps' learner",
        tmp_path / "text.learner": "not a readable learner file",
    }
    for bad, message in cases.items():
        with pytest.raises(ConfigError, match=f"model.tucker.init_from.*{message}"):
            build_model(tf_experiment(bad).model, INPUT_SHAPE)


def test_refuses_an_stl_of_other_sizes(stl_file):
    path, _, _ = stl_file
    experiment = tf_experiment(path)
    wider = apply_overrides(experiment, ["model.conv=[[5, 3, 1], [4, 3, 2]]"])
    with pytest.raises(ConfigError, match="initial kernel"):
        build_model(wider.model, INPUT_SHAPE)


def test_reading_the_stl_leaves_the_random_states_alone(stl_file):
    path, _, _ = stl_file
    before = global_rng_state()
    load_stl_source(path)
    assert global_rng_state() == before


def test_other_methods_refuse_the_field(stl_file):
    path, _, _ = stl_file
    experiment = tiny_experiment("hps")
    tucker = dataclasses.replace(experiment.model.tucker, init_from=str(path))
    model = dataclasses.replace(experiment.model, tucker=tucker)
    from dfcnn_tf.method_options import check_option_records

    with pytest.raises(ConfigError, match="model.tucker is set but method hps"):
        check_option_records(model)


def test_the_stl_file_content_is_part_of_the_run_identity(stl_file, tmp_path):
    from dfcnn_tf.results import config_hash, run_identity

    path, _, _ = stl_file
    copy = tmp_path / "stl.learner"
    shutil.copy(path, copy)
    experiment = tf_experiment(copy)
    before = config_hash(experiment)
    assert "init_from_sha256" in run_identity(experiment)
    with open(copy, "ab") as file:  # another STL under the same name
        file.write(b"\0")
    assert config_hash(experiment) != before
    copy.unlink()
    with pytest.raises(ConfigError, match="init_from=.*no such file"):
        config_hash(experiment)


def test_a_moved_stl_file_leaves_the_run_key_alone(stl_file, tmp_path):
    """The key holds the file's content, not where it lies: a finished TF run
    is read back after its STL learner moved (and its folder says which
    STL it started from: the id carries the key)."""
    from dfcnn_tf.results import config_hash, run_id

    path, _, _ = stl_file
    moved = tmp_path / "elsewhere" / "renamed.learner"
    moved.parent.mkdir()
    shutil.copy(path, moved)
    here, there = tf_experiment(path), tf_experiment(moved)
    assert config_hash(there) == config_hash(here)
    assert run_id(there) == run_id(here)
    assert run_id(here).endswith(config_hash(here))
