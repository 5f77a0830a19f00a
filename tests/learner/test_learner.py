"""LifelongLearner: learning, answering raw images, saving, loading, refusing."""

import dataclasses
import zipfile

import numpy as np
import pytest
import tensorflow as tf

from dfcnn_tf import LifelongLearner
from dfcnn_tf.data import Task, standardise
from dfcnn_tf.errors import ConfigError, DataError, LearnerError
from dfcnn_tf.learner_file import FORMAT, RECORD
from dfcnn_tf.training import train_lifelong
from dfcnn_tf.training.model_state import model_variables

from ..reliability.tiny import INPUT_SHAPE, tiny_experiment


def raw_task(task_id, seed=0, n_train=20, classes=3):
    """A task of random uint8 images, standardised, keeping its raw test images."""
    rng = np.random.default_rng(seed + 100 * task_id)
    raw = {
        split: rng.integers(0, 256, (n, *INPUT_SHAPE), dtype=np.uint8)
        for split, n in (("train", n_train), ("valid", 6), ("test", 9))
    }
    images, normalization = standardise(raw)
    labels = {
        s: rng.integers(0, classes, len(x)).astype("int64") for s, x in raw.items()
    }
    task = Task(
        task_id,
        tuple(range(task_id * classes, (task_id + 1) * classes)),
        *(a for s in ("train", "valid", "test") for a in (images[s], labels[s])),
        class_names=tuple(f"c{task_id}_{i}" for i in range(classes)),
        normalization=normalization,
    )
    return task, raw["test"]


@pytest.fixture(scope="module")
def trained():
    """A tiny DF-CNN learner after two tasks, with the tasks' raw test images."""
    learner = LifelongLearner(tiny_experiment("dfcnn"))
    tasks, raws = zip(*(raw_task(t) for t in range(2)), strict=True)
    for task in tasks:
        learner.learn(task)
    return learner, tasks, raws


def test_learn_equals_the_lifelong_loop(trained):
    learner, tasks, _ = trained
    reference = LifelongLearner(tiny_experiment("dfcnn"))
    reference._build_model(INPUT_SHAPE)
    rows = train_lifelong(reference.model, list(tasks), learner.experiment.train)
    assert [r["accuracy"] for r in rows] == [r["accuracy"] for r in learner.rows]
    ours, theirs = model_variables(learner.model), model_variables(reference.model)
    for key in ours:
        np.testing.assert_array_equal(ours[key].numpy(), theirs[key].numpy())


def test_predict_prepares_raw_images_with_the_task_statistics(trained):
    learner, tasks, raws = trained
    prediction = learner.predict(raws[1], task="task2")
    logits = learner.model.inference(1)(tf.constant(tasks[1].x_test))
    np.testing.assert_allclose(
        prediction.probabilities, tf.nn.softmax(logits).numpy(), atol=1e-6
    )
    np.testing.assert_allclose(prediction.probabilities.sum(axis=1), 1, atol=1e-5)
    assert prediction.names[0] in tasks[1].class_names
    assert prediction.top(2)[0][0][0] == prediction.names[0]


def test_predict_takes_one_image_and_float_images(trained):
    learner, _, raws = trained
    batch = learner.predict(raws[0], task=0).probabilities
    one = learner.predict(raws[0][3], task=0).probabilities
    np.testing.assert_allclose(one[0], batch[3], atol=1e-6)
    with pytest.warns(UserWarning, match=r"\[0, 1\]"):
        unit = learner.predict(raws[0] / 255.0, task=0).probabilities
    np.testing.assert_allclose(unit, batch, atol=1e-5)
    ranged = learner.predict(raws[0].astype("float32"), task=0, input_range=(0, 255))
    np.testing.assert_allclose(ranged.probabilities, batch, atol=1e-6)


@pytest.mark.parametrize(
    ("images", "match"),
    [
        (np.zeros((2, 8, 8, 1), np.uint8), r"8x8 images with 3 channel\(s\)"),
        (np.zeros((2, 9, 9, 3), np.uint8), "does not fit the task"),
        (np.full((2, 8, 8, 3), 300.0), r"\[0, 1\] or \[0, 255\]"),
        (np.full((2, 8, 8, 3), np.nan), "NaN"),
        (np.zeros((0, 8, 8, 3), np.uint8), "no images"),
        (np.array([["a"]]), "shape"),
    ],
)
def test_predict_refuses_images_that_do_not_fit(trained, images, match):
    learner, _, _ = trained
    with pytest.raises(DataError, match=match):
        learner.predict(images, task=0)


def test_unknown_task_lists_the_learned_ones(trained):
    learner, _, raws = trained
    with pytest.raises(LearnerError, match=r"unknown task 'dogs'.*task1, task2"):
        learner.predict(raws[0], task="dogs")
    with pytest.raises(LearnerError, match="unknown task 7"):
        learner.predict(raws[0], task=7)


def test_evaluate_a_task_by_name_or_data(trained):
    learner, tasks, _ = trained
    by_name = learner.evaluate("task1")
    assert by_name == learner.evaluate(tasks[0])
    assert set(by_name) == {"train", "valid", "test"}


def test_attach_refuses_other_data_under_a_learned_name(trained):
    learner, tasks, _ = trained
    other, _ = raw_task(0, seed=5)
    with pytest.raises(LearnerError, match="normalization"):
        learner.attach(other)
    relabelled = dataclasses.replace(tasks[0], classes=(7, 8, 9))
    with pytest.raises(LearnerError, match="classes"):
        learner.attach(relabelled)


def test_a_task_name_is_learned_once(trained):
    learner, tasks, _ = trained
    with pytest.raises(LearnerError, match="learned already"):
        learner.learn(tasks[0])


def test_images_of_another_shape_are_refused():
    learner = LifelongLearner(tiny_experiment("stl"))
    task, _ = raw_task(0)
    learner.learn(task)
    small = dataclasses.replace(
        task,
        name="small",
        x_train=task.x_train[:, :4, :4],
        x_valid=task.x_valid[:, :4, :4],
    )
    with pytest.raises(ConfigError, match=r"shape \(4, 4, 3\).*\(8, 8, 3\)"):
        learner.learn(small)


def test_save_and_load_keep_tasks_history_and_answers(trained, tmp_path):
    learner, _, raws = trained
    path = tmp_path / "tiny.learner"
    learner.save(path)
    loaded = LifelongLearner.load(path)
    assert loaded.tasks == learner.tasks
    assert loaded.experiment == learner.experiment
    assert loaded.history.drop(columns="time").equals(
        learner.history.drop(columns="time")
    )
    for task_id in range(2):
        np.testing.assert_array_equal(
            loaded.predict(raws[task_id], task_id).probabilities,
            learner.predict(raws[task_id], task_id).probabilities,
        )
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    kb = [n for n in names if "kb" in n or "knowledge" in n]
    assert len(names) == 1 + len(model_variables(learner.model))
    assert kb, names  # the knowledge bases are stored, each once (distinct keys)


def test_saving_nothing_is_refused(tmp_path):
    with pytest.raises(LearnerError, match="learned no task"):
        LifelongLearner(tiny_experiment()).save(tmp_path / "x.learner")


def test_a_failed_save_leaves_the_previous_file(trained, tmp_path, monkeypatch):
    learner, _, _ = trained
    path = tmp_path / "tiny.learner"
    learner.save(path)
    before = path.read_bytes()
    import dfcnn_tf.learner_file as learner_file

    def broken(file, record, variables, files):
        file.write(b"PK half an archive")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(learner_file, "_write_archive", broken)
    with pytest.raises(LearnerError, match="No space left"):
        learner.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.learner"]


def _rewrite_record(path, edit):
    import json

    with zipfile.ZipFile(path) as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    record = json.loads(entries[RECORD])
    edit(record)
    entries[RECORD] = json.dumps(record).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def test_damaged_or_foreign_files_are_refused(trained, tmp_path):
    learner, _, _ = trained
    good = tmp_path / "good.learner"
    learner.save(good)
    cases = {}
    cases["text"] = tmp_path / "text.learner"
    cases["text"].write_text("hello")
    cases["foreign zip"] = tmp_path / "foreign.learner"
    with zipfile.ZipFile(cases["foreign zip"], "w") as archive:
        archive.writestr("config.json", "{}")
    cases["truncated"] = tmp_path / "truncated.learner"
    cases["truncated"].write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    cases["format 99"] = tmp_path / "future.learner"
    cases["format 99"].write_bytes(good.read_bytes())
    _rewrite_record(cases["format 99"], lambda r: r.update(format=99))
    cases["other model"] = tmp_path / "other.learner"
    cases["other model"].write_bytes(good.read_bytes())
    _rewrite_record(cases["other model"], lambda r: r["experiment"].update(seed="x"))
    cases["folder"] = tmp_path
    expected = {
        "text": "not a readable learner file",
        "foreign zip": "not a learner file",
        "truncated": "not a readable learner file",
        "format 99": f"format 99; this version of dfcnn_tf reads format {FORMAT}",
        "other model": "seed",
        "folder": "is a folder",
    }
    for case, path in cases.items():
        with pytest.raises(LearnerError, match=expected[case]):
            LifelongLearner.load(path)


def test_flipped_bytes_in_a_variable_are_detected(trained, tmp_path):
    learner, _, _ = trained
    path = tmp_path / "flipped.learner"
    learner.save(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside some variable's values
    path.write_bytes(bytes(data))
    with pytest.raises(LearnerError, match="not a readable learner file"):
        LifelongLearner.load(path)


def test_a_multitask_learner_predicts_but_does_not_continue(tmp_path):
    experiment = tiny_experiment("hps", protocol="mtl", epochs_per_task=2)
    learner = LifelongLearner(experiment)
    (first, raw), (second, _) = raw_task(0), raw_task(1)
    learner.fit([first, second])
    learner.save(tmp_path / "mtl.learner")
    loaded = LifelongLearner.load(tmp_path / "mtl.learner")
    np.testing.assert_array_equal(
        loaded.predict(raw, 0).probabilities, learner.predict(raw, 0).probabilities
    )
    third, _ = raw_task(2)
    with pytest.raises(LearnerError, match="multi-task protocol"):
        loaded.learn(third)
