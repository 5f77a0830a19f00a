"""TensorBoard log of a run, written with the standard `tf.summary` API.

Scalars (step = global epoch): `loss/task_<k>` and `learning_rate` every
epoch, `accuracy/<split>/task_<k>` for every evaluated task and split (from
the history rows), and the run's configuration through TensorBoard's HParams
plugin. Open it with `tensorboard --logdir <out dir>`.
"""

import dataclasses

import tensorflow as tf

from dfcnn_tf.training.optimizer import learning_rate

LOG_DIR = "tensorboard"  # inside the run's folder


def flat_hparams(experiment):
    """The experiment's fields as `{"train.learning_rate": 0.0001, ...}`.

    Numbers, booleans and strings stay as they are; anything else (tuples,
    None, nested records) is written as its text.
    """
    flat = {}

    def walk(prefix, value):
        if dataclasses.is_dataclass(value):
            for field in dataclasses.fields(value):
                walk(f"{prefix}{field.name}.", getattr(value, field.name))
            return
        key = prefix[:-1]
        flat[key] = value if isinstance(value, bool | int | float | str) else str(value)

    walk("", experiment)
    return flat


class TensorBoardLog:
    """A progress observer that writes the run's TensorBoard event files.

    Args:
        log_dir: folder of the event files (`<run dir>/tensorboard`).
        experiment: the resolved `Experiment` (hyper-parameters, schedule).
        trial_id: the run's name in the HParams dashboard.
    """

    def __init__(self, log_dir, experiment, trial_id=None):
        from tensorboard.plugins.hparams import api as hparams_api

        self.train = experiment.train
        self.per_task = experiment.train.protocol == "lifelong"
        self.writer = tf.summary.create_file_writer(str(log_dir))
        self._logged_rows = 0
        with self.writer.as_default():
            hparams_api.hparams(flat_hparams(experiment), trial_id=trial_id)
        self.writer.flush()

    def start_task(self, task_id, classes):
        """Nothing to log when a task starts."""

    def epoch(self, task_id, task_epoch, loss, accuracy, elapsed):
        """Logs the epoch's loss and learning rate at the global epoch."""
        step = task_epoch
        if self.per_task:
            step += task_id * self.train.epochs_per_task
        with self.writer.as_default(step=step):
            tf.summary.scalar(f"loss/task_{task_id + 1}", loss)
            tf.summary.scalar("learning_rate", learning_rate(self.train, step - 1))
            tf.summary.scalar("time_s", elapsed)

    def message(self, text):
        """Free-form messages are not logged."""

    def record(self, rows):
        """Logs the accuracy of every history row not logged yet; returns `rows`."""
        with self.writer.as_default():
            for row in rows[self._logged_rows :]:
                name = f"accuracy/{row['split']}/task_{row['task'] + 1}"
                tf.summary.scalar(name, row["accuracy"], step=row["epoch"])
        self._logged_rows = len(rows)
        self.writer.flush()
        return rows

    def close(self):
        """Writes what is buffered and closes the event file."""
        self.writer.close()
