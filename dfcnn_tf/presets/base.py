"""The `Preset` record and small builders for per-layer specs."""

import dataclasses
from dataclasses import dataclass

from dfcnn_tf.config import (
    ConvSpec,
    DataConfig,
    Experiment,
    KnowledgeBaseSpec,
    TrainConfig,
    TransformSpec,
)
from dfcnn_tf.errors import ConfigError

# The paper-length lifelong presets' evaluation schedule (docs/method.md,
# section 'Training'): the task being trained after every epoch (the released
# code's metric reads its validation and test accuracy), every seen task every
# 20 epochs and at each task's end (forgetting curves, accuracy matrix).
PAPER_EVAL_SCHEDULE = {"eval_current_every": 1, "eval_all_every": 20}


def eval_every(epochs):
    """Both evaluation intervals at `epochs`: every seen task each time."""
    return {"eval_current_every": epochs, "eval_all_every": epochs}


@dataclass(frozen=True)
class Preset:
    """A named experiment: data, schedule and the models it defines.

    `smoke_learning_rate` is the learning rate of the tiny `_smoke` variant
    (None keeps the preset's).
    """

    name: str
    command: str
    target: str
    data: DataConfig
    train: TrainConfig
    models: dict
    smoke_learning_rate: float | None = None

    def experiment(self, model="dfcnn", seed=0):
        """Resolves the preset for one model and seed.

        Raises:
            ConfigError: if the preset defines no model of that name.
        """
        if model not in self.models:
            raise ConfigError(
                f"Unknown model {model!r} for preset {self.name!r}. "
                f"Valid models: {', '.join(sorted(self.models))}"
            )
        return Experiment(self.name, self.models[model], self.data, self.train, seed)


def smoke(preset):
    """The tiny variant of a preset: 3 tasks, 8 epochs each, for tests."""
    learning_rate = preset.smoke_learning_rate or preset.train.learning_rate
    return dataclasses.replace(
        preset,
        name=f"{preset.name}_smoke",
        command=preset.command.replace(preset.name, preset.name + "_smoke"),
        target="smoke test: finishes in seconds, accuracy above chance",
        data=dataclasses.replace(preset.data, num_tasks=min(preset.data.num_tasks, 3)),
        train=dataclasses.replace(
            preset.train,
            epochs_per_task=8,
            learning_rate=learning_rate,
            **eval_every(1),
        ),
    )


def conv_specs(channels, pools, kernels):
    """`ConvSpec`s from per-layer channels, pool sizes and kernel sizes."""
    return tuple(
        ConvSpec(c, k, p) for c, p, k in zip(channels, pools, kernels, strict=True)
    )


def kb_specs(*specs):
    """`KnowledgeBaseSpec`s from `(size, channels)` or `(size, channels, depth)`."""
    return tuple(KnowledgeBaseSpec(*spec) for spec in specs)


def transform_specs(*channels, size=3):
    """`TransformSpec`s of deconv size `size` and the given channels."""
    return tuple(TransformSpec(size, c) for c in channels)
