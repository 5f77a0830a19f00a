"""Accuracy of every task seen so far, on every split: what is recorded.

See docs/method.md, section 'Training'.

Each task's train, validation and test splits are concatenated once into one
resident tensor. Evaluating a task is one compiled call: it asks the model
for the task's `inference` function once (the DF-CNN generates its kernels
there, once per evaluation) and runs every batch of up to `batch_size`
images through it in a graph loop, counting correct predictions per split,
under the dtype policy of the run's precision (`dfcnn_tf.precision`).
"""

import numpy as np
import tensorflow as tf

from dfcnn_tf.precision import FLOAT32, evaluation_policy, layer_policy
from dfcnn_tf.training.retracing import quiet_per_task_retracing

SPLITS = ("train", "valid", "test")

quiet_per_task_retracing()  # one compiled function per task, by design


class Evaluator:
    """Computes per-split accuracy of the tasks of a lifelong model.

    Args:
        model: the `LifelongModel` being trained.
        batch_size: images per forward pass (large: evaluation has no dropout).
        policy: the Keras dtype policy the forward passes run under.
    """

    def __init__(self, model, batch_size, policy=None):
        self.model = model
        self.batch_size = batch_size
        self.policy = policy or FLOAT32
        self._data = {}
        self._count = {}

    @classmethod
    def for_train(cls, model, train):
        """An evaluator with `train`'s batch size and precision (`TrainConfig`)."""
        return cls(model, train.eval_batch_size, evaluation_policy(train.precision))

    def add_task(self, task, task_id=None):
        """Registers the splits of task `task_id` (default: the next id)."""
        xs, ys, split_ids = [], [], []
        for split_id, split in enumerate(SPLITS):
            x, y = task.split(split)
            xs.append(x)
            ys.append(y)
            split_ids.append(np.full(len(y), split_id, np.int32))
        split_ids = np.concatenate(split_ids)
        totals = np.bincount(split_ids, minlength=len(SPLITS))
        tensors = tuple(tf.constant(np.concatenate(a)) for a in (xs, ys))
        task_id = len(self._data) if task_id is None else task_id
        self._data[task_id] = (*tensors, tf.constant(split_ids), totals)
        self._count[task_id] = tf.function(lambda *data: self._correct(task_id, *data))

    def task_ids(self, num_tasks):
        """The tasks among `range(num_tasks)` whose data it holds, in order."""
        return [t for t in range(num_tasks) if t in self._data]

    def evaluate(self, task_id):
        """Accuracy of task `task_id` on each split, as `{split: accuracy}`."""
        x, y, split_ids, totals = self._data[task_id]
        correct = self._count[task_id](x, y, split_ids).numpy()
        return {s: correct[i] / totals[i] for i, s in enumerate(SPLITS)}

    def _correct(self, task_id, x, y, split_ids):
        """Correct predictions per split, `(len(SPLITS),)` float64."""
        with layer_policy(self.model, self.policy):  # while tracing
            forward = self.model.inference(task_id)
            correct = tf.zeros(len(SPLITS), tf.float64)
            for start in tf.range(0, tf.shape(y)[0], self.batch_size):
                batch = slice(start, start + self.batch_size)
                predicted = tf.argmax(forward(x[batch]), axis=-1)
                hits = tf.cast(tf.equal(predicted, y[batch]), tf.float64)
                correct += tf.math.unsorted_segment_sum(
                    hits, split_ids[batch], len(SPLITS)
                )
        return correct
