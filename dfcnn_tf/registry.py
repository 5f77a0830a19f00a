"""The model registry: every entry point builds models through it by name."""

from dfcnn_tf.errors import ConfigError

_MODELS = {}


def register_model(*names):
    """Class decorator registering a `LifelongModel` under one or more names."""

    def decorator(cls):
        for name in names:
            if name in _MODELS:
                raise ValueError(f"Model name {name!r} is already registered")
            _MODELS[name] = cls
        return cls

    return decorator


def model_names():
    """Sorted names of every registered model."""
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


def build_model(config, input_shape):
    """Builds the lifelong model that `config.name` names, with no tasks yet."""
    return get_model_class(config.name)(config, input_shape)


def _import_models():
    import dfcnn_tf.models  # noqa: F401  (registers every model)
