"""The command line keeps a learner (--save-model), continues it (--from-model),
asks it about images (python -m dfcnn_tf.predict) and exports a task."""

import numpy as np
import pandas as pd
import pytest

from dfcnn_tf.lifelong import main as lifelong
from dfcnn_tf.predict import main as predict

SMOKE = ["--preset", "cifar100_10_smoke", "--epochs-per-task", "2", "--quiet"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory, data_dir):
    """Two real CIFAR-100 tasks learned and saved; then continued to three
    from the file, and three learned without stopping."""
    root = tmp_path_factory.mktemp("cli")
    common = [*SMOKE, "--data-dir", str(data_dir), "--out", str(root / "out")]
    two, three = root / "two.learner", root / "three.learner"
    assert lifelong([*common, "--num-tasks", "2", "--save-model", str(two)]) == 0
    continued = ["--from-model", str(two), "--data-dir", str(data_dir), "--quiet"]
    cont = ["--out", str(root / "cont"), "--save-model", str(three)]
    assert lifelong([*continued, *cont]) == 0
    assert lifelong([*common, "--num-tasks", "3"]) == 0  # without stopping
    return root, data_dir, two, three


@pytest.mark.slow
def test_continued_run_equals_the_uninterrupted_one(saved):
    root, _, _, _ = saved
    [path] = (root / "cont").glob("*/history.csv")
    continued = pd.read_csv(path).drop(columns="time")
    same_run = root / "out" / path.parent.name / "history.csv"
    uninterrupted = pd.read_csv(same_run).drop(columns="time")
    pd.testing.assert_frame_equal(continued, uninterrupted)
    assert set(continued["task"]) == {0, 1, 2}
    assert continued["accuracy"].max() > 0.2  # real data: above chance (0.1)


@pytest.mark.slow
def test_predict_lists_tasks_and_names_classes(saved, capsys):
    root, _, _, three = saved
    assert predict(["--model", str(three), "--list-tasks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["task1", "task2", "task3"]
    images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), np.uint8)
    np.savez(root / "images.npz", x=images)
    argv = ["--model", str(three), "--task", "task3", "--top", "2"]
    assert predict([*argv, str(root / "images.npz")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and lines[0].startswith(f"{root / 'images.npz'}[0]: ")
    assert lines[0].count(",") == 1  # two classes shown


@pytest.mark.slow
def test_export_task_writes_a_plain_keras_model(saved, capsys):
    import keras

    from dfcnn_tf import LifelongLearner

    root, _, _, three = saved
    path = root / "task2.keras"
    assert (
        predict(["--model", str(three), "--task", "1", "--export-task", str(path)]) == 0
    )
    exported = keras.saving.load_model(path)
    images = np.random.default_rng(1).integers(0, 256, (3, 32, 32, 3), np.uint8)
    expected = LifelongLearner.load(three).predict(images, 1).probabilities
    np.testing.assert_allclose(exported.predict(images, verbose=0), expected, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from-model", "{two}", "--preset", "cifar100_10"], "drop --preset"),
        (["--from-model", "{two}", "--num-tasks", "2"], "learned 2 tasks already"),
        (
            ["--from-model", "{two}", "--set", "train.learning_rate=0.5"],
            "learning_rate",
        ),
        (["--from-model", "{text}"], "not a readable learner file"),
        ([*SMOKE, "--save-model", "{root}/missing/x.learner"], "does not exist"),
    ],
)
def test_lifelong_refuses_bad_learner_options(saved, capsys, argv, message):
    root, data, two, _ = saved
    (root / "text.learner").write_text("not a learner")
    names = {"two": two, "text": root / "text.learner", "root": root}
    argv = [a.format(**names) for a in argv]
    out = root / "refused"
    code = lifelong([*argv, "--data-dir", str(data), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--task", "dogs", "{img}"], "unknown task 'dogs'"),
        (["{img}"], "--task is needed"),
        (["--task", "0", "{root}/nothing.png"], "no such image file"),
        (["--task", "0", "{bad}"], "not a readable image file"),
        (["--task", "0", "{grey}"], "does not fit the task"),
        (["--task", "0", "--input-range", "x", "{img}"], "--input-range"),
    ],
)
def test_predict_refuses_bad_input(saved, capsys, argv, message):
    root, _, _, three = saved
    names = {"root": root, "img": root / "one.npz", "bad": root / "bad.png"}
    names["grey"] = root / "grey.npz"
    np.savez(names["img"], x=np.zeros((1, 32, 32, 3), np.uint8))
    np.savez(names["grey"], x=np.zeros((1, 32, 32, 1), np.uint8))
    names["bad"].write_bytes(b"not a png")
    code = predict(["--model", str(three), *[a.format(**names) for a in argv]])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
