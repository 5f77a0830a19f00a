"""Accuracy of every task seen so far (SPEC section 6: what to record).

Each task's train, validation and test splits are concatenated once into one
resident tensor; a compiled function per task counts correct predictions per
split in large batches, so a task's kernels are generated once per batch of
up to `batch_size` images rather than once per split.
"""

import numpy as np
import tensorflow as tf

SPLITS = ("train", "valid", "test")


class Evaluator:
    """Computes per-split accuracy of the tasks of a lifelong model.

    Args:
        model: the `LifelongModel` being trained.
        batch_size: images per compiled call (large: evaluation has no dropout).
    """

    def __init__(self, model, batch_size):
        self.model = model
        self.batch_size = batch_size
        self._data = []
        self._count = []

    def add_task(self, task):
        """Registers a task's splits; call after `model.add_task`."""
        xs, ys, split_ids = [], [], []
        for split_id, split in enumerate(SPLITS):
            x, y = task.split(split)
            xs.append(x)
            ys.append(y)
            split_ids.append(np.full(len(y), split_id, np.int32))
        split_ids = np.concatenate(split_ids)
        totals = np.bincount(split_ids, minlength=len(SPLITS))
        tensors = tuple(tf.constant(np.concatenate(a)) for a in (xs, ys))
        self._data.append((*tensors, tf.constant(split_ids), totals))
        task_id = len(self._count)
        signature = [
            tf.TensorSpec((None, *xs[0].shape[1:]), tf.float32),
            tf.TensorSpec((None,), tf.int64),
            tf.TensorSpec((None,), tf.int32),
        ]
        count = tf.function(
            lambda x, y, s: self._correct(task_id, x, y, s), input_signature=signature
        )
        self._count.append(count)

    def evaluate(self, task_id):
        """Accuracy of task `task_id` on each split, as `{split: accuracy}`."""
        x, y, split_ids, totals = self._data[task_id]
        correct = np.zeros(len(SPLITS))
        for start in range(0, int(y.shape[0]), self.batch_size):
            stop = start + self.batch_size
            batch = (x[start:stop], y[start:stop], split_ids[start:stop])
            correct += self._count[task_id](*batch).numpy()
        return {s: correct[i] / totals[i] for i, s in enumerate(SPLITS)}

    def _correct(self, task_id, x, y, split_ids):
        logits = self.model(x, task_id, training=False)
        hits = tf.cast(tf.equal(tf.argmax(logits, axis=-1), y), tf.float64)
        return tf.math.unsorted_segment_sum(hits, split_ids, len(SPLITS))
