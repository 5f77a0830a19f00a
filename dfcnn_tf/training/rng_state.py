"""The process-wide random states that decide a new task's initial weights.

`keras.utils.set_random_seed(seed)` seeds Python's `random` (unseeded Keras
initializers and Dropout layers draw their seeds from it when they are
created), NumPy's global generator, and TensorFlow; unseeded `keras.random`
ops (e.g. the Tucker model's new-task noise) draw from Keras' global
`SeedGenerator`. A checkpoint records them so that the tasks added after a
resume start from exactly the weights an uninterrupted run gives them.
Variables created later are not affected by TensorFlow's global seed (no op
here draws from it), so it needs no record.
"""

import random

import numpy as np
from keras.src.backend.common import global_state
from keras.src.random.seed_generator import (
    GLOBAL_SEED_GENERATOR,
    global_seed_generator,
)


def global_rng_state():
    """The global random states as a JSON-ready dict."""
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    generator = global_state.get_global_attribute(GLOBAL_SEED_GENERATOR)
    return {
        "python": [version, list(internal), gauss],
        "numpy": [name, keys.tolist(), pos, has_gauss, cached],
        "keras": None if generator is None else generator.state.numpy().tolist(),
    }


def set_global_rng_state(state):
    """Restores the global random states recorded by `global_rng_state`."""
    if state["keras"] is not None:  # first: creating it draws from `random`
        generator = global_seed_generator()
        generator.state.assign(np.array(state["keras"], generator.state.dtype))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.array(keys, np.uint32), pos, has_gauss, cached))
