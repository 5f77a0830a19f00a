"""The model registry, keyed by method: every entry point builds models
through it. Size variants (`stl_large`, `dfcnn_small`) are presets'
configurations of a method (`ModelConfig.method`), not entries here.

Adding a method is one file in `dfcnn_tf/models/` with `@register_model`
and its search space in `tuning/spaces.py` (README, 'Add a method').
"""

from dfcnn_tf.errors import ConfigError

_MODELS = {}


def register_model(name):
    """Class decorator registering a `LifelongModel` under its method's name."""

    def decorator(cls):
        if name in _MODELS:
            raise ValueError(f"Model name {name!r} is already registered")
        _MODELS[name] = cls
        return cls

    return decorator


def model_names():
    """Sorted names of every registered method."""
    _import_models()
    return sorted(_MODELS)


def get_model_class(name):
    """The class registered under `name`.

    Raises:
        ConfigError: listing the registered names if `name` is unknown.
    """
    _import_models()
    if name not in _MODELS:
        raise ConfigError(
            f"Unknown model {name!r}. Valid models: {', '.join(sorted(_MODELS))}"
        )
    return _MODELS[name]


def build_model(config, input_shape, **options):
    """Builds the lifelong model of `config`'s method, with no tasks yet
    (`options`: keyword arguments of that method's class)."""
    return get_model_class(config.registry_name)(config, input_shape, **options)


def _import_models():
    import dfcnn_tf.models  # noqa: F401  (registers every model)
