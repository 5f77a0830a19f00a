"""The TensorBoard log: scalars per task and split, loss, learning rate, hparams.

The event files are read back with `tf.compat.v1.train.summary_iterator`.
"""

import io

import pytest

pytest.importorskip("tensorboard", reason="pip install -r requirements.txt")

import tensorflow as tf  # noqa: E402

from dfcnn_tf.overrides import apply_overrides  # noqa: E402
from dfcnn_tf.presets import get_preset  # noqa: E402
from dfcnn_tf.training.optimizer import learning_rate  # noqa: E402
from dfcnn_tf.training.progress import run_observers  # noqa: E402
from dfcnn_tf.training.tensorboard import LOG_DIR, flat_hparams  # noqa: E402

EXPERIMENT = get_preset("cifar100_10_smoke").experiment("dfcnn", seed=3)
EPOCHS = EXPERIMENT.train.epochs_per_task


def _rows(task_id, epoch):
    return [
        {"task": t, "split": split, "accuracy": 0.1 * (t + 1), "epoch": epoch}
        for t in range(task_id + 1)
        for split in ("train", "valid", "test")
    ]


def _events(log_dir):
    """`{tag: {step: value}}` and the HParams plugin's tags in the event files."""
    scalars, plugin_tags = {}, set()
    for path in sorted(log_dir.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                if plugin == "hparams":
                    plugin_tags.add(value.tag)
                elif plugin == "scalars":
                    step_values = scalars.setdefault(value.tag, {})
                    step_values[event.step] = float(tf.make_ndarray(value.tensor))
    return scalars, plugin_tags


def _log_two_tasks(experiment, run_dir):
    observers = run_observers(experiment, run_dir, 2, EPOCHS, stream=io.StringIO())
    rows = []
    for task_id in range(2):
        observers.start_task(task_id, (task_id,))
        for task_epoch in range(1, EPOCHS + 1):
            observers.epoch(task_id, task_epoch, 1.0 / task_epoch, None, 0.1)
        rows += _rows(task_id, (task_id + 1) * EPOCHS)
        observers.record(rows)
    observers.close()


def test_scalars_per_task_and_split_loss_learning_rate(tmp_path):
    _log_two_tasks(EXPERIMENT, tmp_path)
    scalars, _ = _events(tmp_path / LOG_DIR)
    assert scalars["loss/task_2"][EPOCHS + 2] == pytest.approx(0.5)
    assert sorted(scalars["loss/task_1"]) == list(range(1, EPOCHS + 1))
    rate = learning_rate(EXPERIMENT.train, EPOCHS)  # global epoch EPOCHS + 1
    assert scalars["learning_rate"][EPOCHS + 1] == pytest.approx(rate)
    for split in ("train", "valid", "test"):
        assert scalars[f"accuracy/{split}/task_1"] == {
            EPOCHS: pytest.approx(0.1),
            2 * EPOCHS: pytest.approx(0.1),
        }
        assert scalars[f"accuracy/{split}/task_2"] == {2 * EPOCHS: pytest.approx(0.2)}


def test_hparams_of_the_run(tmp_path):
    _log_two_tasks(EXPERIMENT, tmp_path)
    _, plugin_tags = _events(tmp_path / LOG_DIR)
    assert "_hparams_/session_start_info" in plugin_tags
    hparams = flat_hparams(EXPERIMENT)
    assert hparams["train.learning_rate"] == EXPERIMENT.train.learning_rate
    assert hparams["model.name"] == "dfcnn" and hparams["seed"] == 3


def test_switched_off_writes_nothing(tmp_path):
    experiment = apply_overrides(EXPERIMENT, ["train.tensorboard=False"])
    _log_two_tasks(experiment, tmp_path)
    assert not (tmp_path / LOG_DIR).exists()
