"""The loop's two evaluation schedules: which rows it records, and what an
evaluation of the current task alone costs (its own images, nothing more).

2 tiny tasks of 4 epochs, `eval_current_every=1`, `eval_all_every=3`: task
epochs 1 and 2 evaluate the task being trained (scope "current"), epoch 3
(every 3rd) and epoch 4 (the task's end) every task seen so far ("all").
"""

import keras
import tensorflow as tf

from dfcnn_tf.registry import build_model
from dfcnn_tf.training import Progress, train_lifelong
from dfcnn_tf.training.evaluation import SPLITS

from ..reliability.tiny import INPUT_SHAPE, tiny_experiment, tiny_tasks

TASKS, EPOCHS = 2, 4
IMAGES = 20 + 6 + 9  # a tiny task's train, valid and test images
SCHEDULE = dict(epochs_per_task=EPOCHS, eval_current_every=1, eval_all_every=3)


def expected_rows():
    """(task, training_task, epoch, task_epoch, split, scope), in order."""
    rows = []
    for training_task in range(TASKS):
        for task_epoch in range(1, EPOCHS + 1):
            scope = "all" if task_epoch in (3, 4) else "current"
            seen = range(training_task + 1) if scope == "all" else [training_task]
            epoch = training_task * EPOCHS + task_epoch
            point = (training_task, epoch, task_epoch)
            rows += [(t, *point, s, scope) for t in seen for s in SPLITS]
    return rows


class ImagesPerEpoch(Progress):
    """A quiet display that notes how many images were evaluated each epoch."""

    def __init__(self, counter):
        super().__init__(1, 1, quiet=True)
        self.counter, self.per_epoch = counter, []

    def epoch(self, *args):
        self.per_epoch.append(int(self.counter.numpy()))
        self.counter.assign(0)


def counting_inference(model, counter):
    """Makes every forward pass of an evaluation add its batch size to `counter`."""
    inference = model.inference

    def counted(task_id):
        forward = inference(task_id)

        def run(x):
            counter.assign_add(tf.cast(tf.shape(x)[0], tf.int64))
            return forward(x)

        return run

    model.inference = counted


def test_rows_and_evaluated_images_follow_the_two_schedules():
    experiment = tiny_experiment("stl", **SCHEDULE)
    keras.utils.set_random_seed(0)
    model = build_model(experiment.model, INPUT_SHAPE)
    counter = tf.Variable(0, dtype=tf.int64)
    counting_inference(model, counter)
    progress = ImagesPerEpoch(counter)
    rows = train_lifelong(model, tiny_tasks(TASKS), experiment.train, 0, progress)
    keys = ("task", "training_task", "epoch", "task_epoch", "split", "scope")
    assert [tuple(row[k] for k in keys) for row in rows] == expected_rows()
    # a current-task evaluation runs the task's own images; "all": every seen task's
    epochs = range(1, EPOCHS + 1)
    expected = [IMAGES * (t + 1 if e >= 3 else 1) for t in range(TASKS) for e in epochs]
    assert progress.per_epoch == expected
