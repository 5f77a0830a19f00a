"""Whether a model, a protocol and a task fit together, checked before training."""

from dfcnn_tf.errors import ConfigError


def check_protocol(model, protocol):
    """Raises `ConfigError` if the model does not support the protocol."""
    if protocol not in model.protocols:
        raise ConfigError(
            f"Model {model.config.name!r} supports only --protocol "
            f"{' or '.join(model.protocols)}. Received: {protocol!r}"
        )


def check_task_fits(model, train, task, task_id=None):
    """Raises `ConfigError` if a task's images or size do not fit.

    Checks the image shape against the model's, that a mini-batch is not
    larger than the task's training set and, given the id the task will
    have, that it is the task the model was initialised for (if it was:
    `check_source_task`).
    """
    if task_id is not None:
        check_source_task(model, task_id, task)
    shape = tuple(task.x_train.shape[1:])
    if shape != tuple(model.input_shape):
        raise ConfigError(
            f"task {task.label!r} has images of shape {shape}; the model was "
            f"built for {tuple(model.input_shape)}"
        )
    if train.batch_size > len(task.y_train):
        raise ConfigError(
            f"train.batch_size={train.batch_size} is larger than task "
            f"{task.task_id + 1}'s training set ({len(task.y_train)} images)"
        )


def check_source_task(model, task_id, task):
    """Raises `ConfigError` if `model` started from a saved learner
    (`model.tucker.init_from`) whose task `task_id` is not `task`: other
    classes or normalisation statistics, i.e. other data or another seed."""
    if task_id >= len(model.source_tasks):
        return
    differences = model.source_tasks[task_id].differences(task)
    if differences:
        raise ConfigError(
            f"model.tucker.init_from: task {task_id + 1} ({task.label!r}) is not "
            f"the task the STL learner learned ({'; '.join(differences)}); train "
            "the STL on the same data and seed"
        )
