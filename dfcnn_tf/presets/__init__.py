"""Named experiment presets.

See docs/method.md, sections 'Architectures and sizes', 'Optimizer', 'Data protocols'.

Each preset names the command that runs it and the paper result it targets,
and holds one `ModelConfig` per model it supports. Every preset has a tiny
`<name>_smoke` variant (3 tasks, 8 epochs) for tests and notebooks.
"""

from dfcnn_tf.errors import ConfigError
from dfcnn_tf.presets import cifar100, multitask, officehome
from dfcnn_tf.presets.base import Preset, smoke
from dfcnn_tf.presets.cifar100 import CIFAR_DFCNN

_BASE = cifar100.PRESETS + multitask.PRESETS + officehome.PRESETS
PRESETS = {p.name: p for base in _BASE for p in (base, smoke(base))}


def get_preset(name):
    """Looks a preset up by name.

    Raises:
        ConfigError: listing the valid names if `name` is unknown.
    """
    if name not in PRESETS:
        raise ConfigError(
            f"Unknown preset {name!r}. Valid presets: {', '.join(sorted(PRESETS))}"
        )
    return PRESETS[name]


def preset_models():
    """Sorted names of every model some preset configures (no TensorFlow import).

    Returns:
        The names a user can pass as `--model`; each is also a registry name.
    """
    return sorted({name for preset in PRESETS.values() for name in preset.models})


def model_method(name):
    """The registry method a `--model` name builds: the method of the presets'
    configuration of that name (`stl_large` -> `stl`), else `name` itself."""
    for preset in PRESETS.values():
        config = preset.models.get(name)
        if config is not None:
            return config.registry_name
    return name


__all__ = [
    "CIFAR_DFCNN",
    "PRESETS",
    "Preset",
    "get_preset",
    "model_method",
    "preset_models",
    "smoke",
]
