"""The saved STL learner a "TF (distillation)" model starts from, and its hash.

See docs/method.md, section 'Baselines'. `model.tucker.init_from` names a
learner file written by `--model stl --save-model FILE`. The released code
starts its TF (distillation) runs the same way, from the parameters its STL
run of the same trial saved. Those were the parameters at the STL's best
validation epoch; a saved learner holds its final ones.

A TF learner file keeps a copy of the STL file (`dfcnn_tf.saved_learner`).
Loading it registers that copy's hash under the path the configuration
names, so the run's identity stays the same once the original is gone.
"""

import hashlib
from pathlib import Path

from dfcnn_tf.errors import ConfigError, LearnerError

FIELD = "model.tucker.init_from"

_COPIES = {}  # init_from path -> SHA-256 of a learner file's copy of it


def load_stl_source(path):
    """The STL model saved in `path`, and the `TaskInfo` of each of its tasks.

    Reading the file leaves the process-wide random states as they were, so
    the model built from it draws what it would draw without it.

    Raises:
        ConfigError: naming the field, if `path` is not a readable learner
            file or holds a model of another method.
    """
    # Imported here: learner files import the model registry, which imports
    # this module.
    from dfcnn_tf.registry import build_model
    from dfcnn_tf.saved_learner import read_saved_learner
    from dfcnn_tf.training.rng_state import global_rng_state, set_global_rng_state

    _check_exists(path)
    state = global_rng_state()
    try:
        saved = read_saved_learner(path)
        method = saved.experiment.model.registry_name
        if method != "stl":
            raise ConfigError(
                f"{FIELD}={path}: the file holds a {method!r} learner; "
                "TF (distillation) starts from an 'stl' one"
            )
        model = build_model(saved.experiment.model, saved.input_shape)
        saved.restore_into(model)
    except LearnerError as error:
        raise ConfigError(f"{FIELD}: {error}") from None
    finally:
        set_global_rng_state(state)
    return model, tuple(saved.tasks)


def source_sha256(path):
    """The SHA-256 of the learner file: part of a run's identity, so a run
    started from another STL is never read back as the same run. Where the
    file no longer exists, that of a loaded learner's copy of it.

    Raises:
        ConfigError: naming the field, if there is no such file nor copy.
    """
    from dfcnn_tf.data.task_sources import file_sha256

    if not Path(path).is_file() and str(path) in _COPIES:
        return _COPIES[str(path)]
    _check_exists(path)
    return file_sha256(Path(path))


def register_copy(path, data):
    """Records that a loaded learner's copy `data` (bytes) stands for `path`."""
    _COPIES[str(path)] = hashlib.sha256(data).hexdigest()


def _check_exists(path):
    if not Path(path).is_file():
        raise ConfigError(
            f"{FIELD}={path}: no such file; it must name a saved STL learner "
            "(python -m dfcnn_tf.lifelong --model stl --save-model FILE)"
        )
