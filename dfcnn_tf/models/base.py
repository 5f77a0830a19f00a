"""The one lifelong-model interface every method implements (paper Algorithm 1).

A lifelong model grows one task at a time. The training loop only ever asks
it to add a task, run a task, and name the variables a task may update: the
shared ones plus the task's own. Method-specific behaviour lives behind these.

Every lifelong model is a `keras.Model`: Keras tracks its layers and
variables, so `summary()`, `save_weights()` and `load_weights()` work once
tasks are added. Every layer has a name derived from its place in the model
(`task3_fc_0`), so a model rebuilt from the same configuration with the
same tasks added loads weights saved by another.
"""

import dataclasses
from collections.abc import Callable

import keras
import numpy as np


class StepHook:
    """What a method adds to each compiled training step (issue 19).

    The step calls `loss` inside its gradient tape, `gradients` on the
    gradients (after any masks) and `update` to apply them; the defaults
    add nothing, change nothing and apply the gradients as they are.
    """

    def loss(self, x, y, reduce):
        """A term added to the objective of the batch `(x, y)`, or None.

        `reduce` is the learner's reduction over examples (sum or mean).
        """
        return None

    def gradients(self, gradients, variables):
        """The gradients to apply (e.g. A-GEM's projection)."""
        return gradients

    def update(self, apply, gradients, variables):
        """Applies `gradients` by calling `apply(gradients)`; a method that
        tracks its updates (SI's path integral) reads the variables around it."""
        apply(gradients)


@dataclasses.dataclass(frozen=True)
class TrainingStage:
    """A run of epochs inside one task's training, with its own optimizer.

    Most models train a task in one stage; DEN uses several (selective
    retraining, expansion, split). The loop asks the model for the stages and
    runs each with a fresh optimizer over `variables()`, minimising the task's
    cross-entropy plus `penalty()`.

    Attributes:
        epochs: how many epochs this stage runs.
        variables: returns the variables this stage updates (called at its start).
        penalty: returns a scalar regulariser added to the loss (inside the
            compiled step), or None.
        gradient_masks: returns one 0/1 mask or None per variable, multiplied
            into its gradient, or None for no masking.
        finish: called as `finish(last_epoch_loss)` when the stage ends, before
            the next stage's `variables()` and `gradient_masks()` are read
            (DEN expands or splits units here), or None. The loss is the mean
            per-example cross-entropy of the stage's last epoch.
        hook: the method's `StepHook` for every step of the stage, or None.
    """

    epochs: int
    variables: Callable[[], list]
    penalty: Callable | None = None
    gradient_masks: Callable[[], list] | None = None
    finish: Callable[[float], None] | None = None
    hook: StepHook | None = None


class LifelongModel(keras.Model):
    """A model that learns tasks in sequence.

    Subclasses implement `_build_task`, `call`, `task_variables` and
    `shared_variables`.

    Args:
        config: the model's `ModelConfig`.
        input_shape: shape of one image, `(height, width, channels)`.
        name: the Keras name of the model (default: Keras' name for the class).
    """

    # the `ModelConfig` record of this method's options, if any
    # (dfcnn_tf/method_options.py)
    option_record = None
    # the generated-kernel fields of `ModelConfig` it reads (DF-CNN only)
    kernel_fields = ()
    # `TaskInfo` of the tasks of a saved learner it started from, by task id
    # (TF from an STL: `model.tucker.init_from`); checked before training
    source_tasks = ()
    # the bytes of that saved learner's file: a learner file of this model
    # keeps a copy, so it loads without the original (dfcnn_tf/saved_learner.py)
    source_file_bytes = None

    protocols = ("lifelong", "mtl")  # the training protocols the method supports

    def __init__(self, config, input_shape, name=None):
        super().__init__(name=name)  # keywords only: two positionals mean functional
        self.config = config
        self.input_shape = tuple(int(d) for d in input_shape)
        self._num_tasks = 0

    @property
    def num_tasks(self):
        """Number of tasks added so far."""
        return self._num_tasks

    def add_task(self, num_classes):
        """Creates the new task's own parameters.

        Args:
            num_classes: number of output classes of the new task.

        Returns:
            The new task's id (0-based, in order of arrival).
        """
        task_id = self._num_tasks
        self._build_task(task_id, num_classes)
        self._num_tasks += 1
        self.built = True  # for `summary()`; the tracker stays open for new tasks
        return task_id

    def __call__(self, inputs, task_id, training=False):
        """Logits of task `task_id` for a batch `(batch, height, width, channels)`.

        Calls `call` directly: Keras' `Layer.__call__` (input casting, masks,
        building from the first input) has nothing to do for a model whose
        tasks build their own layers, and leaving it out keeps the compiled
        training step exactly as before.
        """
        self._check_task(task_id)
        return self.call(inputs, task_id, training=training)

    def inference(self, task_id):
        """A function `inputs -> logits` of task `task_id`, without dropout.

        What does not depend on the inputs is computed here, once, so a
        caller that runs many batches through the function (inside one
        compiled function) pays for it once; the default computes nothing
        ahead. Models that generate their kernels override it.
        """
        self._check_task(task_id)
        return lambda inputs: self.call(inputs, task_id, training=False)

    def training_variables(self, task_id):
        """What training task `task_id` may update: shared + the task's own.

        (Keras' `trainable_variables` property is every trainable variable of
        every task.)
        """
        return list(self.shared_variables) + list(self.task_variables(task_id))

    def training_stages(self, task_id, epochs):
        """How task `task_id` is trained: one stage over all its epochs.

        Override for methods that train a task in several phases (DEN).
        """
        variables = lambda: self.training_variables(task_id)  # noqa: E731
        return [TrainingStage(epochs, variables, hook=self.step_hook(task_id))]

    def step_hook(self, task_id):
        """The `StepHook` of task `task_id`'s training steps, or None (default)."""
        return None

    def finish_task(self, task_id, x, y):
        """Called once task `task_id` is trained, with its training images and
        labels (normalised, as trained on): EWC's Fisher, SI's importance and
        the episodic memories are computed here. The default does nothing."""

    def count_params(self):
        """Number of scalar parameters over the shared part and every task.

        The paper's count: the variables `shared_variables` and
        `task_variables` name. It equals Keras' count (`model.weights`) for
        every model but DEN, which overrides it: Keras' count would add DEN's
        masks, drift anchors and dead units.

        Returns:
            An int.
        """
        seen = {}
        for variable in self.shared_variables:
            seen[id(variable)] = variable
        for task_id in range(self.num_tasks):
            for variable in self.task_variables(task_id):
                seen[id(variable)] = variable
        return int(sum(np.prod(v.shape) for v in seen.values()))

    def _check_task(self, task_id):
        if not 0 <= task_id < self.num_tasks:
            raise ValueError(
                f"task_id must be in [0, {self.num_tasks}) (tasks added so far). "
                f"Received: task_id={task_id}"
            )

    def _build_task(self, task_id, num_classes):
        """Creates and builds task `task_id`'s own layers."""
        raise NotImplementedError

    def call(self, inputs, task_id, training=False):
        """Forward pass of task `task_id`; returns logits."""
        raise NotImplementedError

    def task_variables(self, task_id):
        """The variables that belong to task `task_id` alone."""
        raise NotImplementedError

    @property
    def shared_variables(self):
        """The variables shared by all tasks (updated by every task)."""
        raise NotImplementedError
