"""Experiment files: a resolved `Experiment` as JSON, read back for `--config`.

The file holds `Experiment.to_dict()` (what every run writes as
`config.json`, and what `python -m tuning.search` writes as
`best_config.json`). Reading it takes the named preset's experiment for the
named model and applies every other field as a `--set` override, so each
value is type-checked per field and a file may leave fields out (they keep
the preset's value). Every error names the file.
"""

import json
from pathlib import Path

from dfcnn_tf.config_checks import validate
from dfcnn_tf.errors import ConfigError
from dfcnn_tf.overrides import FIXED_KEYS, apply_overrides, valid_keys
from dfcnn_tf.presets import get_preset


def write_experiment(experiment, path):
    """Writes the resolved `experiment` as indented JSON to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(experiment.to_dict(), indent=2) + "\n")
    temporary.replace(path)


def read_experiment(path):
    """The `Experiment` an experiment file describes.

    Args:
        path: a JSON file with at least `preset` and `model.name`.

    Returns:
        The validated `Experiment`.

    Raises:
        ConfigError: naming the file, if it cannot be read, is not a JSON
            object, lacks `preset` or `model.name`, names an unknown preset or
            model, or has an unknown field or a value of the wrong type.
    """
    return experiment_from_dict(_load(path), f"config file {path}")


def experiment_from_dict(data, source):
    """The `Experiment` that a dict of `Experiment.to_dict()` form describes.

    Args:
        data: the dict (fields left out keep the named preset's values).
        source: what the dict came from, for error messages (e.g. a file).

    Raises:
        ConfigError: naming `source`, as `read_experiment`.
    """
    try:
        model = data.get("model")
        if not isinstance(data.get("preset"), str) or not isinstance(model, dict):
            raise ConfigError("needs a 'preset' name and a 'model' object")
        if not isinstance(model.get("name"), str):
            raise ConfigError("needs the model's registry name in 'model.name'")
        experiment = get_preset(data["preset"]).experiment(model["name"])
        keys = set(valid_keys(experiment))
        experiment = apply_overrides(experiment, list(_assignments(data, keys)))
        validate(experiment)
    except ConfigError as error:  # the messages speak of --set: drop that
        message = str(error).replace("--set ", "")
        raise ConfigError(f"{source}: {message}") from None
    return experiment


def _load(path):
    try:
        data = json.loads(Path(path).read_text())
    except OSError as error:
        raise ConfigError(
            f"config file {path} cannot be read: {error.strerror}"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"config file {path} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path} must hold a JSON object (an experiment). "
            f"Received: {type(data).__name__}"
        )
    return data


def _assignments(data, keys, prefix=""):
    """`key=value` strings for every field of `data` (nested dicts flattened)."""
    for name, value in data.items():
        key = prefix + str(name)
        if key in FIXED_KEYS:
            continue
        if isinstance(value, dict) and key not in keys:
            yield from _assignments(value, keys, key + ".")
        else:
            yield f"{key}={value!r}"
