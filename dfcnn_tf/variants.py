"""Which runs of a results folder are trials of one configuration.

A folder may hold runs of one model under several configurations, e.g.
`--precision mixed_bfloat16` beside float32. Averaging them as trials of one
model would mix configurations silently, so every run is labelled: the model
name, and in brackets the settings that vary among that model's runs in the
folder and that the run has away from its preset's default, e.g.
`dfcnn [train.precision=mixed_bfloat16]`. Settings shared by all of a model's
runs (say `--eval-all-every 5` throughout) make no label. The seed is an
input of a trial, not of the configuration, and so is
`model.tucker.init_from` (a trained STL of the same trial, one file per
seed), which `results.settings` leaves out.
"""

import json

from dfcnn_tf.errors import ConfigError
from dfcnn_tf.presets import get_preset
from dfcnn_tf.results import settings

PER_TRIAL = ("seed",)


def flat_settings(config):
    """A config dict's settings (`results.settings`) as `{dotted key: JSON text}`,
    without the per-trial inputs."""
    flat = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else key, item)
        else:  # 3 and 3.0 are one setting (older configs wrote some ints)
            integral = isinstance(value, float) and value.is_integer()
            flat[prefix] = json.dumps(int(value) if integral else value, sort_keys=True)

    walk("", settings(config))
    return {k: v for k, v in flat.items() if k not in PER_TRIAL}


def variant_labels(configs):
    """`{run: label}` for `{run: config dict}` (each run's config.json).

    A setting is shown where it varies among the model's runs and differs
    from the run's preset default (every varying one where the preset or
    model is unknown).
    """
    by_model = {}
    for run, config in configs.items():
        by_model.setdefault(config["model"]["name"], {})[run] = config
    labels = {}
    for model, runs in by_model.items():
        flat = {run: flat_settings(config) for run, config in runs.items()}
        keys = sorted({key for values in flat.values() for key in values})
        varying = [k for k in keys if len({v.get(k) for v in flat.values()}) > 1]
        for run, values in flat.items():
            default = _preset_default(runs[run])
            shown = [
                f"{key}={_text(values.get(key))}"
                for key in varying
                if default is None or values.get(key) != default.get(key)
            ]
            labels[run] = f"{model} [{', '.join(shown)}]" if shown else model
    return labels


def _preset_default(config):
    try:
        preset = get_preset(config["preset"])
        default = preset.experiment(config["model"]["name"], config["seed"])
    except (ConfigError, KeyError):  # an unknown preset or model: show all
        return None
    return flat_settings(default.to_dict())


def _text(value):
    """A setting's JSON text, strings without quotes ("default" if unset)."""
    if value is None:
        return "default"
    loaded = json.loads(value)
    return loaded if isinstance(loaded, str) else value
