"""Serialization of a layer that several layers hold by reference (SPEC section 1).

Every task's `DFConv2D` of one conv layer holds the same `KnowledgeBase`
(and every task's `TuckerConv2D` the same `TuckerFactors`): one object, one
set of variables. A saved model must restore it as one object again.

Keras 3 restores one object for several configs when they carry the same
`"shared_object_id"` and they are deserialized inside its object-sharing
scope, which `Model.save` and `keras.saving.load_model` open. Keras marks a
repeated object itself, but only reliably for configs it serializes
directly: a holder's `get_config` serializes the shared layer, then Keras
copies the holder's config, so the mark Keras later adds to the *first*
holder's copy is lost. The first holder would then rebuild a private copy,
and loading the weights fails ("Layer 'kb' expected 1 variables, but
received 0"): the shared variable was saved once, under the first holder.
Here each holder marks the reference itself whenever the shared layer has
more than one holder.

Outside that scope (`keras.models.clone_model`, or `from_config` by hand)
a marked reference cannot be resolved to one object, so `deserialize_shared`
raises instead of silently giving each holder its own copy. Wrapping the call
in `sharing_scope()` keeps the sharing: `with sharing_scope():
keras.models.clone_model(model)` gives a clone whose holders share one new
layer.
"""

import weakref

import keras
from keras.src.backend.common import global_state
from keras.src.saving import serialization_lib

SHARED_ID_KEY = "shared_object_id"  # the key Keras' deserializer resolves
_HOLDERS = weakref.WeakKeyDictionary()  # shared layer -> WeakSet of its holders


def register_holder(shared, holder):
    """Records that layer `holder` holds `shared` by reference."""
    _HOLDERS.setdefault(shared, weakref.WeakSet()).add(holder)


def holder_count(shared):
    """Number of live layers that hold `shared`."""
    return len(_HOLDERS.get(shared, ()))


def sharing_scope():
    """A context manager in which deserialized shared layers stay one object.

    Returns:
        Keras' own object-sharing scope (the one `keras.saving.load_model`
        opens); inside it, references marked with the same id become one
        object.
    """
    return serialization_lib.ObjectSharingScope()


def _in_sharing_scope():
    # Keras keeps the scope's id -> object map in its global state (private
    # API; tests/layers/test_sharing.py notices if it moves).
    map_key = "shared_objects/id_to_obj_map"
    return global_state.get_global_attribute(map_key) is not None


def serialize_shared(shared):
    """The config of `shared`, marked as shared if several layers hold it.

    Args:
        shared: the shared layer (a `KnowledgeBase`, `TuckerFactors`).

    Returns:
        `keras.saving.serialize_keras_object(shared)`, with the Keras
        `"shared_object_id"` key set when `shared` has more than one holder.
    """
    config = keras.saving.serialize_keras_object(shared)
    if holder_count(shared) > 1:
        config[SHARED_ID_KEY] = id(shared)
    return config


def deserialize_shared(value, expected_class, holder, argument):
    """The shared layer a holder's `from_config` receives.

    Args:
        value: the config entry: a serialized layer, or a layer instance
            (used as it is: the way to attach a holder to a chosen object).
        expected_class: the class the layer must have.
        holder: the holder, for messages, e.g. "DFConv2D 'task0_dfconv_0'".
        argument: the holder's constructor argument, e.g. "knowledge_base".

    Returns:
        The layer: inside a sharing scope, one object per shared id.

    Raises:
        ValueError: if the config marks the layer as shared and no sharing
            scope is open, so the sharing would be silently lost.
    """
    if isinstance(value, expected_class):
        return value
    if SHARED_ID_KEY in value and not _in_sharing_scope():
        name = value.get("config", {}).get("name")
        raise ValueError(
            f"{holder} holds the {expected_class.__name__} '{name}' that other "
            "layers share. Rebuilding it from its config outside a sharing scope "
            "would give this layer a private copy and silently un-share it "
            "(keras.models.clone_model does this). Save and load the model "
            "(model.save, keras.saving.load_model), or run the call inside "
            "`with dfcnn_tf.layers.sharing_scope():`, or, for an independent "
            f"copy, put an instance of {expected_class.__name__} in "
            f"config['{argument}']."
        )
    return keras.saving.deserialize_keras_object(value)
