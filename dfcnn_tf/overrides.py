"""`--set key=value` overrides of a resolved `Experiment`, type-checked per field.

Keys are dotted field paths (`train.learning_rate`, `data.partition`,
`model.fc_hidden`, `seed`); values are Python literals (`1e-3`, `[64, 32]`,
`None`) or bare strings. Per-layer records take lists, e.g.
`model.knowledge_bases=[[2, 16], [2, 24], [2, 32], [2, 36]]`. The former
key `train.eval_every` is still accepted (configuration files, saved
learners and results folders written before it was split carry it): it sets
`train.eval_current_every` and `train.eval_all_every` alike.
"""

import ast
import dataclasses
import types
import typing

from dfcnn_tf.config import EVAL_EVERY_ALIAS, EVAL_SCHEDULE
from dfcnn_tf.errors import ConfigError

FIXED_KEYS = ("preset", "model.name", "model.method")  # chosen with --preset / --model


def valid_keys(obj, prefix=""):
    """Every settable dotted key of a (nested) config dataclass."""
    keys = []
    for field in dataclasses.fields(obj):
        key = prefix + field.name
        value = getattr(obj, field.name)
        if dataclasses.is_dataclass(value):
            keys += valid_keys(value, key + ".")
        elif key not in FIXED_KEYS:
            keys.append(key)
    return keys


def apply_overrides(experiment, assignments):
    """Applies `key=value` strings in order; returns the new `Experiment`.

    Raises:
        ConfigError: on a malformed assignment, an unknown key (listing the
            valid ones) or a value of the wrong type (naming the key).
    """
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set takes key=value. Received: {assignment!r}")
        key = key.strip()
        if key == EVAL_EVERY_ALIAS:  # the former single schedule sets both
            both = [f"train.{name}={text}" for name in EVAL_SCHEDULE]
            experiment = apply_overrides(experiment, both)
            continue
        if key not in valid_keys(experiment):
            raise ConfigError(
                f"Unknown --set key {key!r}. Valid keys: "
                f"{', '.join(valid_keys(experiment))}"
            )
        experiment = _replace(experiment, key.split("."), _parse(text), key)
    return experiment


def _replace(obj, path, value, key):
    name = path[0]
    if len(path) > 1:
        value = _replace(getattr(obj, name), path[1:], value, key)
    else:
        value = _coerce(value, typing.get_type_hints(type(obj))[name], key)
    return dataclasses.replace(obj, **{name: value})


def _parse(text):
    text = text.strip()
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _coerce(value, hint, key):
    """Converts a parsed literal to the field's annotated type, or raises."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return _coerce_union(value, args, key)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            _wrong_type(key, value, hint)
        return tuple(_coerce(item, args[0], key) for item in value)
    if dataclasses.is_dataclass(hint):
        return _coerce_record(value, hint, key)
    return _coerce_scalar(value, hint, key)


def _coerce_union(value, args, key):
    if (value is None or value == "None") and type(None) in args:
        return None
    for arg in (a for a in args if a is not type(None)):
        try:
            return _coerce(value, arg, key)
        except ConfigError:
            continue
    _wrong_type(key, value, " | ".join(getattr(a, "__name__", str(a)) for a in args))


def _coerce_record(value, record, key):
    names = [f.name for f in dataclasses.fields(record)]
    if isinstance(value, list | tuple) and len(value) <= len(names):
        value = dict(zip(names, value, strict=False))
    if not isinstance(value, dict) or not set(value) <= set(names):
        _wrong_type(key, value, f"{record.__name__} with fields {names}")
    hints = typing.get_type_hints(record)
    fields = {n: _coerce(v, hints[n], f"{key}.{n}") for n, v in value.items()}
    try:
        return record(**fields)
    except TypeError as error:
        raise ConfigError(
            f"--set {key}: {value!r} is not a {record.__name__}: {error}"
        ) from None


def _coerce_scalar(value, hint, key):
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint is bool and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
        return value
    _wrong_type(key, value, hint.__name__)


def _wrong_type(key, value, expected):
    raise ConfigError(
        f"--set {key} needs a value of type {getattr(expected, '__name__', expected)}."
        f" Received: {value!r} ({type(value).__name__})"
    )
