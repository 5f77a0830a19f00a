"""Office-Home lifelong preset (paper section 4, Figure 5).

See docs/method.md, sections 'Architectures and sizes', 'Optimizer', 'Data protocols'.

    python -m dfcnn_tf.lifelong --preset officehome --model dfcnn --data-dir DIR

DIR holds the extracted Office-Home folders (`Product/`, `Real World/`, ...).
10 tasks (5 from Product, 5 from Real-World) of 13 classes, 128x128 images.
"""

import dataclasses

from dfcnn_tf.config import DataConfig, ModelConfig, TrainConfig
from dfcnn_tf.presets.base import (
    PAPER_EVAL_SCHEDULE,
    Preset,
    conv_specs,
    kb_specs,
    transform_specs,
)
from dfcnn_tf.presets.cifar100 import CONTINUAL_BASELINES

OFFICEHOME_CONV = conv_specs((64, 256, 256, 256), (3, 3, 2, 2), (11, 5, 3, 3))
OFFICEHOME_STL = ModelConfig(name="stl", conv=OFFICEHOME_CONV, fc_hidden=(256, 64))
OFFICEHOME_DFCNN = dataclasses.replace(
    OFFICEHOME_STL,
    name="dfcnn",
    knowledge_bases=kb_specs((6, 24), (3, 64), (2, 64), (2, 64)),
    transforms=transform_specs(48, 128, 128, 128),
)

OFFICEHOME = Preset(
    name="officehome",
    command="python -m dfcnn_tf.lifelong --preset officehome --model dfcnn "
    "--data-dir OFFICE_HOME_DIR",
    target="Figure 5: Office-Home peak accuracy DF-CNN 49.1%, STL 45.5%, HPS 52.0%",
    data=DataConfig(dataset="officehome", num_tasks=10, classes_per_task=13),
    train=TrainConfig(
        batch_size=16,
        learning_rate=5e-6,
        lr_decay=1 / 1000,
        epochs_per_task=1000,
        **PAPER_EVAL_SCHEDULE,
    ),
    models={
        m.name: m
        for m in (
            OFFICEHOME_DFCNN,
            OFFICEHOME_STL,
            dataclasses.replace(OFFICEHOME_STL, name="hps"),
            dataclasses.replace(OFFICEHOME_STL, name="prognn"),
            dataclasses.replace(OFFICEHOME_STL, name="den"),
            *(dataclasses.replace(OFFICEHOME_STL, name=n) for n in CONTINUAL_BASELINES),
        )
    },
)

PRESETS = (OFFICEHOME,)
