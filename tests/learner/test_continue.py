"""Continue exactly: save after three tasks, load in a fresh process, learn a
fourth; weights and accuracy history equal those of a learner that learned
the four tasks without stopping, for every model of the lifelong protocol."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dfcnn_tf.learner import LifelongLearner
from dfcnn_tf.registry import get_model_class, model_names
from dfcnn_tf.training.model_state import model_variables

from ..reliability.tiny import tiny_experiment, tiny_tasks

ROOT = Path(__file__).resolve().parents[2]
LIFELONG = [m for m in model_names() if "lifelong" in get_model_class(m).protocols]
# ProgNN needs lateral channels for four columns of 4-channel layers.
EXTRA = {"prognn": ["model.prognn.lateral_reduction=1.0"]}

CONTINUE = """
import json, sys
import numpy as np
from dfcnn_tf.learner import LifelongLearner
from dfcnn_tf.training.model_state import model_variables
from tests.reliability.tiny import tiny_tasks

folder = sys.argv[1]
tasks = tiny_tasks(4)
for name in sys.argv[2:]:
    learner = LifelongLearner.load(f"{folder}/{name}.learner")
    before = {k: v.numpy() for k, v in model_variables(learner.model).items()}
    for task in tasks[:3]:
        learner.attach(task)
    learner.learn(tasks[3])
    after = {k: v.numpy() for k, v in model_variables(learner.model).items()}
    np.savez(f"{folder}/{name}-loaded.npz", **after)
    np.savez(f"{folder}/{name}-at-save.npz", **before)
    rows = [[r["task"], r["epoch"], r["split"], r["accuracy"]] for r in learner.rows]
    with open(f"{folder}/{name}-rows.json", "w") as file:
        json.dump(rows, file)
"""


def experiment(name):
    from dfcnn_tf.overrides import apply_overrides

    return apply_overrides(tiny_experiment(name), EXTRA.get(name, []))


def history(rows):
    return [[r["task"], r["epoch"], r["split"], r["accuracy"]] for r in rows]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Per model: the uninterrupted learner's state, and the folder where the
    fresh process wrote the continued learner's."""
    folder = tmp_path_factory.mktemp("continue")
    tasks = tiny_tasks(4)
    uninterrupted = {}
    for name in LIFELONG:
        learner = LifelongLearner(experiment(name))
        for task in tasks[:3]:
            learner.learn(task)
        learner.save(folder / f"{name}.learner")
        own = [v.numpy() for t in range(3) for v in learner.model.task_variables(t)]
        learner.learn(tasks[3])
        uninterrupted[name] = (learner, own)
    subprocess.run(
        [sys.executable, "-c", CONTINUE, str(folder), *LIFELONG],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return folder, uninterrupted


@pytest.mark.slow
@pytest.mark.parametrize("name", LIFELONG)
def test_continued_learner_equals_uninterrupted(runs, name):
    folder, uninterrupted = runs
    learner, _ = uninterrupted[name]
    expected = {k: v.numpy() for k, v in model_variables(learner.model).items()}
    loaded = np.load(folder / f"{name}-loaded.npz")
    assert sorted(loaded.files) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(loaded[key], value, err_msg=key)
    rows = json.loads((folder / f"{name}-rows.json").read_text())
    assert rows == history(learner.rows)
    assert {row[0] for row in rows} == {0, 1, 2, 3}  # earlier tasks re-evaluated


@pytest.mark.slow
@pytest.mark.parametrize("name", LIFELONG)
def test_earlier_tasks_stay_bit_identical(runs, name):
    folder, uninterrupted = runs
    learner, own_at_save = uninterrupted[name]
    now = [v.numpy() for t in range(3) for v in learner.model.task_variables(t)]
    for saved, final in zip(own_at_save, now, strict=True):
        np.testing.assert_array_equal(saved, final)
    at_save = np.load(folder / f"{name}-at-save.npz")
    loaded = np.load(folder / f"{name}-loaded.npz")
    reloaded = LifelongLearner.load(folder / f"{name}.learner")
    keys = model_variables(reloaded.model)
    own = {id(v) for t in range(3) for v in reloaded.model.task_variables(t)}
    for key, variable in keys.items():
        if id(variable) in own:
            np.testing.assert_array_equal(at_save[key], loaded[key], err_msg=key)
