"""An interrupted run resumed from its checkpoint repeats the uninterrupted one.

In-process: the run is stopped by an exception from the progress display
(after an epoch, before its checkpoint is written) or from `on_task_end`
(after the task's checkpoint), then a freshly seeded, freshly built model
continues from the checkpoint folder, as a re-run command does. The recorded
accuracies must equal an uninterrupted run's exactly, row for row, and so
must the final weights (accuracies alone would miss small differences).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dfcnn_tf.registry import build_model
from dfcnn_tf.training import Progress, train_lifelong
from dfcnn_tf.training.checkpoint import RunCheckpoint
from dfcnn_tf.training.model_state import model_variables
from dfcnn_tf.training.multitask import train_multitask

from .tiny import INPUT_SHAPE, tiny_experiment, tiny_tasks

pytestmark = pytest.mark.slow


class KilledError(Exception):
    """Stands for the process being killed."""


class StopAfter(Progress):
    """A quiet progress display that interrupts the run at its `count`-th epoch."""

    def __init__(self, count):
        super().__init__(1, 1, quiet=True)
        self.count = count

    def epoch(self, *args):
        self.count -= 1
        if self.count == 0:
            raise KilledError


def launch(folder, name, stop, protocol="lifelong", tasks=2, every=1, train=None):
    """One "process": seeds, builds, opens the checkpoint, trains; returns the
    rows and final weights, or None if interrupted (`stop`: epochs, or
    ("task", t) to stop after task t's end; `train`: more `TrainConfig`
    fields)."""
    tf.config.experimental.enable_op_determinism()  # as run_experiment does
    train = dict(protocol=protocol, checkpoint_every=every) | (train or {})
    experiment = tiny_experiment(name, **train)
    keras.utils.set_random_seed(0)
    model = build_model(experiment.model, INPUT_SHAPE)
    checkpoint = RunCheckpoint(folder, "hash", every)
    checkpoint.open()
    progress = StopAfter(stop if isinstance(stop, int) else -1)

    def on_task_end(task_id, rows):
        if stop == ("task", task_id):
            raise KilledError

    data = tiny_tasks(tasks)
    try:
        if protocol == "mtl":
            train = experiment.train
            rows = train_multitask(model, data, train, 0, progress, None, checkpoint)
        else:
            rows = train_lifelong(
                model, data, experiment.train, 0, progress, on_task_end, checkpoint
            )
    except KilledError:
        return None
    return rows, {k: v.numpy() for k, v in model_variables(model).items()}


def accuracies(rows):
    return [{k: v for k, v in row.items() if k != "time"} for row in rows]


def resumed_equals_uninterrupted(tmp_path, name, stops, **options):
    reference = launch(tmp_path / "reference", name, None, **options)
    for stop in stops:
        assert launch(tmp_path / "run", name, stop, **options) is None
    rows, weights = launch(tmp_path / "run", name, None, **options)
    assert len(rows) == len(reference[0])
    assert accuracies(rows) == accuracies(reference[0])
    assert weights.keys() == reference[1].keys()
    for key, value in weights.items():
        np.testing.assert_array_equal(value, reference[1][key], err_msg=key)
    return rows


@pytest.mark.parametrize(
    "stops",
    [[2], [5], [2, 2, 2, 2], [("task", 0)]],
    ids=["mid-task-1", "mid-task-2", "every-epoch", "at-task-end"],
)
def test_dfcnn_resumes_exactly(tmp_path, stops):
    resumed_equals_uninterrupted(tmp_path, "dfcnn", stops)


def test_two_evaluation_schedules_resume_to_the_same_rows(tmp_path):
    """Current-task evaluations every epoch, every seen task's every 3rd: runs
    stopped after global epochs 2 and 6 (current-only epochs of tasks 1 and
    2) resume from the mid-task checkpoints of epochs 1 and 5 and repeat the
    uninterrupted rows, scopes included."""
    schedule = dict(epochs_per_task=4, eval_current_every=1, eval_all_every=3)
    reference = resumed_equals_uninterrupted(tmp_path, "dfcnn", [2, 5], train=schedule)
    scopes = {(r["training_task"], r["task_epoch"], r["scope"]) for r in reference}
    assert sorted(scopes) == [
        (t, e, "all" if e >= 3 else "current") for t in (0, 1) for e in (1, 2, 3, 4)
    ]


def test_mixed_bfloat16_resumes_exactly(tmp_path):
    resumed_equals_uninterrupted(
        tmp_path, "dfcnn", [2], train={"precision": "mixed_bfloat16"}
    )


def test_only_task_end_checkpoints(tmp_path):
    """`checkpoint_every=0`: a stop mid-task 2 restarts task 2 from its start."""
    resumed_equals_uninterrupted(tmp_path, "dfcnn", [5], every=0)


def test_tasks_added_after_a_resume_start_from_the_same_weights(tmp_path):
    resumed_equals_uninterrupted(tmp_path, "stl", [("task", 0)], tasks=3, every=0)


def test_den_resumes_at_task_ends_with_its_masks_and_anchors(tmp_path):
    """DEN's later tasks run several stages whose `finish` changes the network:
    they are checkpointed at their end only; task 0 (one stage) every epoch."""
    resumed_equals_uninterrupted(tmp_path, "den", [2, 3, 4], tasks=3)


def test_tucker_model_noise_for_new_tasks_repeats(tmp_path):
    """The TF model draws new-task noise from Keras' global seed generator."""
    resumed_equals_uninterrupted(tmp_path, "tf", [("task", 0)], tasks=3, every=0)


def test_prognn_resumes_exactly(tmp_path):
    resumed_equals_uninterrupted(tmp_path, "prognn", [4])


def test_multitask_resumes_exactly(tmp_path):
    resumed_equals_uninterrupted(tmp_path, "dfcnn", [3, 2], protocol="mtl", every=2)
