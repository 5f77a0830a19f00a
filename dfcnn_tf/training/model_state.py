"""Every variable of a lifelong model, under a name stable across rebuilds.

A checkpoint must hold the whole state of a model: the shared variables,
every task's variables, and what no `task_variables` lists: non-trainable
state such as DEN's unit masks and drift anchors, and the seed-generator
state of each Dropout layer (so dropout masks continue where they stopped).
A lifelong model is a `keras.Model`, so Keras tracks all of it
(`model.variables`); this module only names each variable by where it sits
in the tree of layers: the names of the layers that lead to it, then its own
name in its layer (`task0-task0_fc_0-kernel`,
`conv_0-conv_0_t1_split_mask`, `task0-task0_dropout-seed_generator_state`).

Every layer of a lifelong model has a name fixed by its place in the model,
so a model rebuilt from the same configuration, with the same tasks added,
has the same keys. Keras' `variable.path` is not used: a Dropout layer's
seed generator takes a process-wide counter in its name
(`seed_generator_12`), which changes from one build to the next.
"""

import collections
import re

import numpy as np

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def model_variables(model):
    """`{key: variable}` of every variable Keras tracks in `model`.

    Keys hold only letters, digits, `_` and `-` (the separator between a
    layer's name and what it holds), and follow the order in which Keras
    tracked the layers. A variable reached twice (a shared knowledge base
    seen from every task's layers) keeps its first key.

    Args:
        model: a `LifelongModel` (any Keras layer).

    Returns:
        A dict `{key: variable}`; its values are `model.variables`.
    """
    found, seen = {}, set()
    _collect(model, "", found, seen)
    return found


def manifest(variables):
    """`{key: [shape, dtype]}` of a `{key: variable}` dict (JSON-ready).

    Args:
        variables: a dict `{key: variable}`, as `model_variables` returns.

    Returns:
        A dict `{key: [shape as a list of ints, dtype name]}`.
    """
    return {
        key: [list(map(int, v.shape)), np.dtype(v.dtype).name]
        for key, v in variables.items()
    }


def _collect(layer, prefix, found, seen):
    """Adds `layer`'s own variables, then its sublayers', to `found`."""
    if id(layer) in seen:
        return
    seen.add(id(layer))
    sublayers = _sublayers(layer)
    inside = {id(v) for sub in sublayers for v in sub.variables}
    names = collections.Counter()
    for variable in layer.variables:  # own ones first, as Keras lists them
        if id(variable) in inside or id(variable) in seen:
            continue
        seen.add(id(variable))
        name = _UNSAFE.sub("_", variable.name)
        names[name] += 1
        if names[name] > 1:  # two of one name in a layer: number the later
            name = f"{name}_{names[name] - 1}"
        found[f"{prefix}{name}"] = variable
    for sub in sublayers:
        _collect(sub, f"{prefix}{_UNSAFE.sub('_', sub.name)}-", found, seen)


def _sublayers(layer):
    """The layers Keras tracks directly in `layer`, in tracking order.

    Keras has no public accessor for a plain layer's sublayers
    (`Model.layers` is this same call on a model).
    """
    return layer._flatten_layers(include_self=False, recursive=False)
