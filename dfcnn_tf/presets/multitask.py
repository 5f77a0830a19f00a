"""MNIST and CIFAR-10 multi-task presets (paper appendix C, tables 1-2).

    python -m dfcnn_tf.lifelong --preset mnist_hetero --model dfcnn --data-dir DIR
    python -m dfcnn_tf.lifelong --preset cifar10_hetero --set data.percent=10 ...

Sizes, batch sizes, learning rates and KB/TS sizes from docs/method.md,
sections 'Architectures and sizes' and 'Optimizer' (the released
configuration). Total epochs are 500 (MNIST) and 2000 (CIFAR-10);
`epochs_per_task` is that total divided by the number of tasks.
"""

import dataclasses

from dfcnn_tf.config import DataConfig, ModelConfig, TrainConfig
from dfcnn_tf.presets.base import Preset, conv_specs, kb_specs, transform_specs
from dfcnn_tf.presets.cifar100 import (
    CIFAR_DFCNN,
    CIFAR_DFCNN_DIRECT,
    CIFAR_DFCNN_TC2,
    CIFAR_STL,
)

MNIST_CONV = conv_specs((32, 64), (2, 2), (5, 5))
MNIST_STL = ModelConfig(name="stl", conv=MNIST_CONV, fc_hidden=(32,))
MTL_BASELINES = ("stl", "hps", "tf")


def _mnist_models(kb_channels, ts_channels, direct_channels):
    dfcnn = ModelConfig(
        name="dfcnn",
        conv=MNIST_CONV,
        fc_hidden=(32,),
        knowledge_bases=kb_specs(*((3, c) for c in kb_channels)),
        transforms=transform_specs(*ts_channels),
    )
    direct = dataclasses.replace(
        dfcnn,
        name="dfcnn_direct",
        method="dfcnn",
        variant="direct",
        knowledge_bases=kb_specs(*((3, c) for c in direct_channels)),
        transforms=transform_specs(None, None),
    )
    tc2 = dataclasses.replace(
        dfcnn,
        name="dfcnn_tc2",
        method="dfcnn",
        variant="tc2",
        knowledge_bases=kb_specs((3, 12, 1), (3, 24, 16)),
        transforms=transform_specs(24, 48),
    )
    baselines = [dataclasses.replace(MNIST_STL, name=n) for n in MTL_BASELINES]
    return {m.name: m for m in (dfcnn, direct, tc2, *baselines)}


def _cifar10_models():
    baselines = [dataclasses.replace(CIFAR_STL, name=n) for n in MTL_BASELINES]
    models = (CIFAR_DFCNN, CIFAR_DFCNN_DIRECT, CIFAR_DFCNN_TC2, *baselines)
    return {m.name: m for m in models}


def _preset(name, data, train, models, target):
    command = f"python -m dfcnn_tf.lifelong --preset {name} --model dfcnn"
    return Preset(name, command, target, data, train, models)


MNIST_TRAIN = TrainConfig(
    protocol="mtl", batch_size=10, learning_rate=1e-3, lr_decay=1 / 250
)
CIFAR10_TRAIN = TrainConfig(
    protocol="mtl", batch_size=20, learning_rate=2.5e-4, lr_decay=1 / 1000
)

PRESETS = (
    _preset(
        "mnist_hetero",
        DataConfig(dataset="mnist", num_tasks=5, task_set="heterogeneous", percent=3.0),
        dataclasses.replace(MNIST_TRAIN, epochs_per_task=100),
        _mnist_models((12, 24), (24, 48), (24, 48)),
        "Table 1 (appendix C): MNIST heterogeneous, 3% of data: DF-CNN 0.78% error",
    ),
    _preset(
        "mnist_homog",
        DataConfig(dataset="mnist", num_tasks=10, task_set="homogeneous", percent=3.0),
        dataclasses.replace(MNIST_TRAIN, epochs_per_task=50),
        _mnist_models((12, 40), (24, 64), (24, 64)),
        "Table 1 (appendix C): MNIST homogeneous error rates",
    ),
    _preset(
        "cifar10_hetero",
        DataConfig(
            dataset="cifar10", num_tasks=5, task_set="heterogeneous", percent=4.0
        ),
        dataclasses.replace(CIFAR10_TRAIN, epochs_per_task=400),
        _cifar10_models(),
        "Table 2 (appendix C): CIFAR-10 heterogeneous; at 70%: DF-CNN 6.9% error",
    ),
    _preset(
        "cifar10_homog",
        DataConfig(
            dataset="cifar10", num_tasks=10, task_set="homogeneous", percent=4.0
        ),
        dataclasses.replace(CIFAR10_TRAIN, epochs_per_task=200),
        _cifar10_models(),
        "Table 2 (appendix C): CIFAR-10 homogeneous error rates",
    ),
)
