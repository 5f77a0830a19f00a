"""One task's compiled training epoch (paper Algorithm 1, inner loop).

The whole epoch is one `tf.function`: the task's data stay resident as
tensors, the shuffled order is passed in, and each mini-batch updates only
the variables the task may change (shared + its own). Under a bfloat16
precision the epoch is traced with the layers' policy set (see
`dfcnn_tf.precision`); the logits are cast to float32 before the loss, so the
loss, its gradients and the optimizer stay float32.
"""

import math

import tensorflow as tf

from dfcnn_tf.models.base import TrainingStage
from dfcnn_tf.precision import FLOAT32, layer_policy, training_policy
from dfcnn_tf.training.retracing import quiet_per_task_retracing

REDUCTIONS = {"sum": tf.reduce_sum, "mean": tf.reduce_mean}

quiet_per_task_retracing()  # one compiled epoch per task, by design


class TaskLearner:
    """Trains one task of a lifelong model with its own optimizer.

    Args:
        model: the `LifelongModel`, with task `task_id` already added.
        task_id: the task to train.
        optimizer: a fresh Keras optimizer for this task.
        batch_size: mini-batch size.
        loss_reduction: "sum" (released code) or "mean" over the batch.
        stage: the `TrainingStage` (variables, penalty, gradient masks).
        policy: the Keras dtype policy the epoch runs under.
    """

    def __init__(
        self, model, task_id, optimizer, batch_size, loss_reduction, stage, policy=None
    ):
        self.model = model
        self.policy = policy or FLOAT32
        self.task_id = task_id
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.reduce = REDUCTIONS[loss_reduction]
        self.variables = stage.variables()
        self.penalty = stage.penalty
        self.masks = stage.gradient_masks() if stage.gradient_masks else None
        self.hook = stage.hook
        optimizer.build(self.variables)  # eagerly: no variables inside tf.function
        self._epoch = tf.function(self._train_epoch)

    @classmethod
    def for_task(cls, model, task_id, optimizer, train, stage=None):
        """A learner with `train`'s batch size, loss reduction and precision.

        Args:
            model: the `LifelongModel`, with task `task_id` already added.
            task_id: the task to train.
            optimizer: a fresh Keras optimizer.
            train: the `TrainConfig`.
            stage: the `TrainingStage`; by default one stage over the task's
                trainable variables (shared + its own).
        """
        if stage is None:
            stage = TrainingStage(1, lambda: model.training_variables(task_id))
        policy = training_policy(train.precision)
        batch, reduction = train.batch_size, train.loss_reduction
        return cls(model, task_id, optimizer, batch, reduction, stage, policy)

    def train_epoch(self, x, y, order, learning_rate):
        """Runs one epoch over `x[order]`; returns the mean per-example loss.

        Args:
            x: the task's training images, a float32 tensor.
            y: the task's training labels, an int64 tensor.
            order: a permutation of `range(len(x))` (int32).
            learning_rate: the learning rate for this epoch.
        """
        self.optimizer.learning_rate = learning_rate
        num_batches = math.ceil(int(order.shape[0]) / self.batch_size)
        return float(self._epoch(x, y, order, tf.constant(num_batches)))

    def _train_epoch(self, x, y, order, num_batches):
        total = tf.constant(0.0)
        with layer_policy(self.model, self.policy):  # while tracing
            for batch in tf.range(num_batches):
                index = order[batch * self.batch_size : (batch + 1) * self.batch_size]
                total += self._step(tf.gather(x, index), tf.gather(y, index))
        return total / tf.cast(num_batches, tf.float32)

    def _step(self, x, y):
        with tf.GradientTape() as tape:
            logits = tf.cast(self.model(x, self.task_id, training=True), tf.float32)
            losses = tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits)
            objective = self.reduce(losses)
            if self.penalty is not None:
                objective += self.penalty()
            extra = None if self.hook is None else self.hook.loss(x, y, self.reduce)
            if extra is not None:
                objective += extra
        gradients = tape.gradient(objective, self.variables)
        if self.masks is not None:
            gradients = [
                g if m is None else g * m
                for g, m in zip(gradients, self.masks, strict=True)
            ]
        if self.hook is None:
            self.optimizer.apply(gradients, self.variables)
        else:
            gradients = self.hook.gradients(gradients, self.variables)
            apply = lambda g: self.optimizer.apply(g, self.variables)  # noqa: E731
            self.hook.update(apply, gradients, self.variables)
        return tf.reduce_mean(losses)  # per example, whatever the reduction
