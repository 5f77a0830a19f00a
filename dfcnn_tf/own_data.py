"""The experiment of a run on your own data (`--data SPEC`).

The architecture and schedule come from `--preset`, or else from the preset
`default_preset` picks by input size (the CIFAR stack for small colour
images, the MNIST one for grey images, the Office-Home one for images of 64
pixels or more); the protocol is lifelong unless `--protocol` says otherwise.
"""

import dataclasses

from dfcnn_tf.config import DataConfig
from dfcnn_tf.data import load_source
from dfcnn_tf.data.own_tasks import default_preset
from dfcnn_tf.errors import ConfigError
from dfcnn_tf.presets import get_preset

DEFAULT_CLASSES_PER_TASK = 2


def own_data_experiment(spec, preset, model, seed, classes_per_task=None):
    """The `Experiment` that learns tasks cut from the data `spec` names.

    Args:
        spec: a data spec (``tfds:NAME``, ``folder:PATH``, ``npz:FILE``).
        preset: a preset name for the architecture, or None for the default.
        model: the registered model name.
        seed: the run's seed.
        classes_per_task: K classes per task (default 2).

    Returns:
        The experiment, with as many tasks as the classes allow.

    Raises:
        ConfigError, DataError: for a bad spec or data.
    """
    images = load_source(spec)
    name = preset or default_preset(images.x_train.shape[1:])
    experiment = get_preset(name).experiment(model, seed)
    per_task = classes_per_task or DEFAULT_CLASSES_PER_TASK
    num_tasks = (
        len(images.domains) if images.domains else images.num_classes // per_task
    )
    if num_tasks < 1:
        raise ConfigError(
            f"{spec} has {images.num_classes} classes, fewer than one task of "
            f"{per_task} classes"
        )
    data = DataConfig(  # the preset's data-set fields are not read here
        source=spec,
        resample_per_seed=experiment.data.resample_per_seed,
        num_tasks=num_tasks,
        classes_per_task=per_task,
        partition="domain" if images.domains else "random",
    )
    train = dataclasses.replace(experiment.train, protocol="lifelong")
    return dataclasses.replace(experiment, data=data, train=train)
