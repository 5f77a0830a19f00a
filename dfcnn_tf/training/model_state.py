"""Every variable of a lifelong model, under a name stable across rebuilds.

A checkpoint must hold the whole state of a model: the shared variables,
every task's variables, and what no `task_variables` lists: non-trainable
state such as DEN's unit masks and drift anchors, and the seed-generator
state of each Dropout layer (so dropout masks continue where they stopped).
`model_variables` finds them all by walking the model's attributes; a
variable's key is the path that reaches it (`towers-0-5`,
`layers-1-blocks-2-anchor-0`), so a model rebuilt from the same
configuration, with the same tasks added, has the same keys.
"""

import dataclasses
import re

import keras
import numpy as np
import tensorflow as tf

PACKAGE = "dfcnn_tf"  # plain objects of this package are walked into
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def model_variables(model):
    """`{key: variable}` of every distinct variable reachable from `model`.

    Keys hold only letters, digits, `_` and `-` (the path separator), and
    follow the model's construction order. A variable reached twice (a
    shared knowledge base seen from every task's layers) keeps its first key.

    Args:
        model: a `LifelongModel` (or any object holding Keras layers and
            variables in attributes, lists, tuples, dicts and dataclasses).
    """
    found, seen = {}, set()
    _walk(vars(model), "", found, seen)
    return found


def manifest(variables):
    """`{key: [shape, dtype]}` of a `{key: variable}` dict (JSON-ready)."""
    return {
        key: [list(map(int, v.shape)), np.dtype(v.dtype).name]
        for key, v in variables.items()
    }


def _walk(obj, path, found, seen):
    if id(obj) in seen:
        return
    if isinstance(obj, keras.Variable | tf.Variable):
        seen.add(id(obj))
        found[path] = obj
        return
    children = _children(obj)
    if children is None:
        return
    seen.add(id(obj))
    for name, child in children:
        key = _UNSAFE.sub("_", str(name))
        _walk(child, f"{path}-{key}" if path else key, found, seen)


def _children(obj):
    """`(name, child)` pairs to walk into, or None for a leaf."""
    if isinstance(obj, keras.layers.Layer):  # its variables, sublayers included
        return list(enumerate(obj.variables))
    if isinstance(obj, dict):
        return list(obj.items())
    if isinstance(obj, list | tuple):
        return list(enumerate(obj))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)]
    if type(obj).__module__.startswith(PACKAGE) and hasattr(obj, "__dict__"):
        return list(vars(obj).items())
    return None
