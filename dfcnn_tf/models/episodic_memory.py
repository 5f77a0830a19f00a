"""The episodic memory of A-GEM and experience replay (Chaudhry et al. 2019).

See docs/method.md, section 'Continual-learning baselines'.

Each task gets `per_class` memory slots per class, fixed-size variables made
when the task is added. When the task is trained they are filled,
class-balanced, with its normalised training images: per class, a uniform
sample without replacement of `per_class` of its images (what a reservoir
over the class's images holds), drawn with the model's own seed generator
(its state is checkpointed); a class with fewer images fills its slots by
repeating them in order. A step draws `batch` memories uniformly without
replacement from the memories of every earlier task (all when there are
fewer), each with its task id and label.
"""

import keras
import numpy as np
import tensorflow as tf

from dfcnn_tf.errors import ConfigError
from dfcnn_tf.models.continual import ContinualHPS


class EpisodicMemoryHPS(ContinualHPS):
    """HPS with a class-balanced episodic memory of every finished task.

    `option_record` names the `ModelConfig` record holding `per_class` and `batch`.
    """

    option_record = "replay"

    def __init__(self, config, input_shape):
        super().__init__(config, input_shape)
        record = getattr(config, self.option_record)
        for field in ("per_class", "batch"):
            value = getattr(record, field)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(
                    f"model.{self.option_record}.{field} must be a positive integer. "
                    f"Received: {value!r}"
                )
        self.per_class, self.memory_batch_size = record.per_class, record.batch
        self.memory_seed = keras.random.SeedGenerator(name="memory_seed")
        self.memory = []  # per task: (images, labels)

    def _build_task(self, task_id, num_classes):
        super()._build_task(task_id, num_classes)
        size = self.per_class * num_classes
        images = np.zeros((size, *self.input_shape), "float32")
        labels = np.zeros(size, "int64")
        self.memory.append(
            (
                keras.Variable(images, trainable=False, name=f"task{task_id}_memory_x"),
                keras.Variable(labels, trainable=False, name=f"task{task_id}_memory_y"),
            )
        )

    def finish_task(self, task_id, x, y):
        images, labels = self.memory[task_id]
        classes = int(labels.shape[0]) // self.per_class
        chosen = []
        for label in range(classes):
            members = np.flatnonzero(y == label)
            if not len(members):
                raise ConfigError(
                    f"task {task_id} has no training image of class {label}"
                )
            keys = keras.random.uniform((len(members),), seed=self.memory_seed)
            picked = members[
                np.argsort(keras.ops.convert_to_numpy(keys), kind="stable")
            ]
            chosen.extend(np.resize(picked[: self.per_class], self.per_class))
        images.assign(x[chosen])
        labels.assign(np.repeat(np.arange(classes, dtype="int64"), self.per_class))

    def memory_sample(self, task_id):
        """`(images, labels, task ids)` of `batch` memories of tasks < `task_id`."""
        images = tf.concat([self.memory[s][0] for s in range(task_id)], 0)
        labels = tf.concat([self.memory[s][1] for s in range(task_id)], 0)
        tasks = tf.concat(
            [
                tf.fill(tf.shape(self.memory[s][1]), tf.constant(s, tf.int64))
                for s in range(task_id)
            ],
            0,
        )
        total = int(images.shape[0])
        if total <= self.memory_batch_size:
            return images, labels, tasks
        order = keras.random.shuffle(tf.range(total), seed=self.memory_seed)
        index = order[: self.memory_batch_size]
        return (
            tf.gather(images, index),
            tf.gather(labels, index),
            tf.gather(tasks, index),
        )

    def memory_loss(self, task_id, reduce, training=True):
        """`reduce` of the cross-entropy of a memory sample, each through its head."""
        images, labels, tasks = self.memory_sample(task_id)
        features = self.trunk(images, training=training)
        return reduce(self.head_losses(features, labels, tasks, training))
