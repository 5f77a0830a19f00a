"""Validation grid-search spaces, every preset's in one place (paper section 4).

The paper chose each method's sizes by a grid search on validation accuracy:
the DF-CNN's knowledge-base sizes `(kb, c_kb)` and task-transform sizes
`(p, c)` per layer, the learning rate, and the baselines' own knobs. A space
is a learning-rate list plus, per model, a tuple of `Knob`s; each knob's
first value is the preset's own, so the first grid point is the preset.

KB spatial sizes are never free values: a layer's KB must satisfy
`(kb - 1) * stride + 1 == kernel` (docs/method.md, section 'The DF-CNN
layer'), so the space offers deconvolution strides that divide `kernel - 1`
for *every* conv layer and derives each layer's `kb` from its kernel; an
invalid size cannot be drawn.
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from dfcnn_tf.data.datasets import BUILTIN_DATASETS
from dfcnn_tf.errors import ConfigError
from dfcnn_tf.presets import get_preset

#: Learning rates tried per data set (the data-set registry's); the preset's
#: own rate is tried first.
LEARNING_RATES = {
    name: entry.learning_rates for name, entry in BUILTIN_DATASETS.items()
}
CHANNEL_FACTORS = (1.0, 0.5)  # KB channels c_kb and transform channels c
DECONV_STRIDES = (2, 1, 4)  # kept only where they divide every kernel - 1
TRANSFORM_SIZES = (3,)  # deconvolution filter sizes p
FC_FACTORS = (1.0, 0.5, 2.0)  # STL / HPS hidden units
LATERAL_REDUCTIONS = (2.0, 1.0, 4.0)  # ProgNN adapters
EXPANSION_UNITS = (16, 8, 32)  # DEN
LOSS_THRESHOLDS = (0.01, 0.001, 0.1)  # DEN
ERROR_THRESHOLDS = (1e-3, 1e-2, 1e-1)  # Tucker factorisation (TF)
EWC_STRENGTHS = (10.0, 1.0, 100.0, 1000.0)  # EWC lambda
SI_STRENGTHS = (0.1, 0.01, 1.0)  # SI c
LWF_TEMPERATURES = (2.0, 1.0, 4.0)  # LwF T
LWF_STRENGTHS = (1.0, 0.5, 2.0)  # LwF lambda_o
MEMORY_PER_CLASS = (1, 3, 5)  # A-GEM, replay: images kept per class


@dataclass(frozen=True)
class Knob:
    """One searched hyper-parameter of a model.

    Attributes:
        name: hyper-parameter name, unique within a model (`kb_channels_1`).
        values: the values tried (one type, as `hp.Choice` needs), the
            preset's own first.
        keys: the `--set` keys of the fields it writes; a `--set` on any of
            them fixes those fields and removes the knob from the search.
        edit: `edit(experiment, value)` returns the `Experiment` with the
            value written in.
    """

    name: str
    values: tuple
    keys: tuple[str, ...]
    edit: Callable


@dataclass(frozen=True)
class SearchSpace:
    """Learning rates (global) and the knobs of every searched model."""

    learning_rates: tuple[float, ...]
    models: dict

    def without(self, keys):
        """The space less every knob (or the learning rate) writing `keys`."""
        keys = set(keys)
        rates = () if "train.learning_rate" in keys else self.learning_rates
        models = {
            name: tuple(k for k in knobs if not keys & set(k.keys))
            for name, knobs in self.models.items()
        }
        return SearchSpace(rates, models)

    def size(self, model):
        """Number of grid points of one model."""
        size = max(1, len(self.learning_rates))
        for knob in self.models[model]:
            size *= len(knob.values)
        return size


def search_space(preset_name, models):
    """The default space of `models` (registry names) under a preset.

    Raises:
        ConfigError: for an unknown preset or a model the preset lacks.
    """
    preset = get_preset(preset_name)
    rates = LEARNING_RATES.get(preset.data.dataset, ())
    rates = _first(preset.train.learning_rate, rates)
    knobs = {}
    for name in models:
        config = preset.experiment(name).model
        knobs[name] = MODEL_KNOBS[config.registry_name](config)
    return SearchSpace(rates, knobs)


def valid_kb_sizes(kernel, strides=DECONV_STRIDES):
    """`{stride: kb}` for each stride with `(kb - 1) * stride + 1 == kernel`.

    Only positive strides dividing `kernel - 1` have one; order is kept.
    """
    valid = (s for s in strides if s > 0 and (kernel - 1) % s == 0)
    return {s: (kernel - 1) // s + 1 for s in valid}


def valid_strides(conv, strides=DECONV_STRIDES):
    """The strides giving a valid KB size for every conv layer of `conv`."""
    return tuple(s for s in strides if all(s in valid_kb_sizes(c.kernel) for c in conv))


def dfcnn_knobs(
    config,
    channel_factors=CHANNEL_FACTORS,
    strides=DECONV_STRIDES,
    transform_sizes=TRANSFORM_SIZES,
):
    """DF-CNN knobs: stride (hence every `kb`), then per layer `c_kb`, `p`, `c`.

    Knobs with a single value are left out.
    """
    layer_strides = valid_strides(config.conv, _first(config.deconv_stride, strides))
    knobs = [_knob("deconv_stride", layer_strides, STRIDE_KEYS, _set_stride)]
    for i, kb in enumerate(config.knowledge_bases):
        edit = _layer_edit("knowledge_bases", i, "channels")
        values = _scaled(kb.channels, channel_factors)
        knobs.append(
            _knob(f"kb_channels_{i + 1}", values, ("model.knowledge_bases",), edit)
        )
    for i, ts in enumerate(config.transforms):
        keys = ("model.transforms",)
        sizes = _first(ts.size, transform_sizes)
        edit = _layer_edit("transforms", i, "size")
        knobs.append(_knob(f"ts_size_{i + 1}", sizes, keys, edit))
        if ts.channels is not None:  # the `direct` variant has no contraction
            edit = _layer_edit("transforms", i, "channels")
            values = _scaled(ts.channels, channel_factors)
            knobs.append(_knob(f"ts_channels_{i + 1}", values, keys, edit))
    return tuple(k for k in knobs if len(k.values) > 1)


def fc_knobs(config, factors=FC_FACTORS):
    """Hidden units of each task head's FC layer (STL, HPS)."""
    knobs = []
    for i, units in enumerate(config.fc_hidden):
        edit = _fc_edit(i)
        values = _scaled(units, factors)
        knobs.append(_knob(f"fc_hidden_{i + 1}", values, ("model.fc_hidden",), edit))
    return tuple(k for k in knobs if len(k.values) > 1)


def option_knob(config, record, field, values):
    """A knob over one field of a method's option record (`prognn`, `den`, ...)."""
    current = getattr(getattr(config, record), field)

    def edit(experiment, value):
        model = experiment.model
        options = dataclasses.replace(getattr(model, record), **{field: value})
        model = dataclasses.replace(model, **{record: options})
        return dataclasses.replace(experiment, model=model)

    keys = (f"model.{record}.{field}",)
    return _knob(f"{record}.{field}", _first(current, values), keys, edit)


def set_learning_rate(experiment, value):
    """`experiment` with `train.learning_rate = value`."""
    train = dataclasses.replace(experiment.train, learning_rate=value)
    return dataclasses.replace(experiment, train=train)


STRIDE_KEYS = ("model.deconv_stride", "model.knowledge_bases")
MODEL_KNOBS = {
    "dfcnn": dfcnn_knobs,
    "stl": fc_knobs,
    "hps": fc_knobs,
    "prognn": lambda c: (
        option_knob(c, "prognn", "lateral_reduction", LATERAL_REDUCTIONS),
    ),
    "den": lambda c: (
        option_knob(c, "den", "expansion_units", EXPANSION_UNITS),
        option_knob(c, "den", "loss_threshold", LOSS_THRESHOLDS),
    ),
    "tf": lambda c: (option_knob(c, "tucker", "error_threshold", ERROR_THRESHOLDS),),
    "ewc": lambda c: (option_knob(c, "ewc", "strength", EWC_STRENGTHS),),
    "si": lambda c: (option_knob(c, "si", "strength", SI_STRENGTHS),),
    "lwf": lambda c: (
        option_knob(c, "lwf", "temperature", LWF_TEMPERATURES),
        option_knob(c, "lwf", "strength", LWF_STRENGTHS),
    ),
    "agem": lambda c: (option_knob(c, "agem", "per_class", MEMORY_PER_CLASS),),
    "er": lambda c: (option_knob(c, "replay", "per_class", MEMORY_PER_CLASS),),
}


def _set_stride(experiment, stride):
    """Writes the stride and the KB size it implies in every layer."""
    model = experiment.model
    bases = []
    for conv, kb in zip(model.conv, model.knowledge_bases, strict=True):
        sizes = valid_kb_sizes(conv.kernel, (stride,))
        if not sizes:
            raise ConfigError(
                f"deconv_stride={stride} gives no knowledge-base size for a "
                f"{conv.kernel}x{conv.kernel} kernel: (kb - 1) * stride + 1 != kernel"
            )
        bases.append(dataclasses.replace(kb, size=sizes[stride]))
    model = dataclasses.replace(
        model, deconv_stride=stride, knowledge_bases=tuple(bases)
    )
    return dataclasses.replace(experiment, model=model)


def _layer_edit(records, index, field):
    def edit(experiment, value):
        model = experiment.model
        specs = list(getattr(model, records))
        specs[index] = dataclasses.replace(specs[index], **{field: value})
        model = dataclasses.replace(model, **{records: tuple(specs)})
        return dataclasses.replace(experiment, model=model)

    return edit


def _fc_edit(index):
    def edit(experiment, value):
        units = list(experiment.model.fc_hidden)
        units[index] = value
        model = dataclasses.replace(experiment.model, fc_hidden=tuple(units))
        return dataclasses.replace(experiment, model=model)

    return edit


def _knob(name, values, keys, edit):
    return Knob(name, tuple(values), tuple(keys), edit)


def _first(value, values):
    """`values` with `value` moved (or added) to the front, duplicates removed."""
    return tuple(dict.fromkeys((value, *values)))


def _scaled(value, factors):
    """`value` times each factor, rounded, at least 1, duplicates removed."""
    return tuple(dict.fromkeys(max(1, round(value * f)) for f in factors))
