"""What a saved learner records, and how a learner is rebuilt from it.

`save_learner` gathers a `LifelongLearner`'s whole state into one record
plus the model's variables (`dfcnn_tf.learner_file` writes them as one
archive); `read_saved_learner` reads and checks a file, and
`SavedLearner.restore_into` brings a model built from the recorded
configuration to the recorded values (adding the tasks in order, as the
checkpoints do: `dfcnn_tf.training.restore`). The global random states are
restored last, so the next task starts exactly where the saved learner
would have gone on.

A model built from another file (TF (distillation) from the saved STL
learner `model.tucker.init_from` names) is saved with a copy of that file,
so its learner file loads, and goes on learning the STL's tasks, wherever it
is moved and whatever becomes of the original.
"""

import contextlib
import dataclasses
import tempfile
from pathlib import Path

from dfcnn_tf.config_file import experiment_from_dict
from dfcnn_tf.errors import ConfigError, LearnerError
from dfcnn_tf.learner_file import read_kept_file, read_learner, write_learner
from dfcnn_tf.provenance import versions
from dfcnn_tf.stl_source import register_copy
from dfcnn_tf.task_info import TaskInfo
from dfcnn_tf.training.checkpoint import Resume, columns_to_rows, rows_to_columns
from dfcnn_tf.training.model_state import manifest, model_variables
from dfcnn_tf.training.restore import StateMismatchError, restore_model
from dfcnn_tf.training.rng_state import global_rng_state, set_global_rng_state

SOURCE = "init_from.learner"  # the copy of the file the model started from


def save_learner(learner, state, path):
    """Writes `learner` (with its run's `Resume` `state`) to `path`.

    Raises:
        LearnerError: if the file cannot be written.
    """
    variables = model_variables(learner.model)
    record = {
        "library": "dfcnn_tf",
        "versions": versions(),
        "experiment": learner.experiment.to_dict(),
        "input_shape": list(learner.model.input_shape),
        "tasks": [info.to_dict() for info in learner.tasks],
        "rows": rows_to_columns(state.rows),
        "elapsed": state.elapsed,
        "rng": state.rng,
        "global_rng": global_rng_state(),
        "parameters": learner.model.count_params(),
        "manifest": manifest(variables),
    }
    values = {key: variable.numpy() for key, variable in variables.items()}
    source = learner.model.source_file_bytes
    write_learner(path, record, values, {} if source is None else {SOURCE: source})


@dataclasses.dataclass(frozen=True)
class SavedLearner:
    """A learner file's contents, checked.

    Attributes:
        path: the file.
        experiment: the resolved `Experiment`.
        tasks: a `TaskInfo` per learned task.
        input_shape: the model's image shape.
        state: the run's `Resume` (rows, clock, mini-batch generator).
        record: the whole record.
        read: `read(key)` -> a variable's saved value.
        files: `{name: bytes}` of the files kept inside.
    """

    path: str
    experiment: object
    tasks: list
    input_shape: tuple
    state: Resume
    record: dict
    read: object
    files: dict

    @contextlib.contextmanager
    def model_options(self):
        """The keyword arguments of `build_model` that rebuild the model from
        the files kept inside, which stay on disk while the context lasts."""
        if SOURCE not in self.files:
            yield {}
            return
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / SOURCE
            path.write_bytes(self.files[SOURCE])
            yield {"source_file": str(path)}

    def restore_into(self, model):
        """Adds the saved tasks to `model` (built, no tasks) and assigns the
        saved values, then restores the global random states.

        Raises:
            LearnerError: if the model does not match the saved variables.
        """
        add = lambda t: model.add_task(self.tasks[t].num_classes)  # noqa: E731
        manifest_ = self.record["manifest"]
        try:
            restore_model(model, add, len(self.tasks), self.read, manifest_)
        except StateMismatchError as error:
            raise LearnerError(f"{self.path}: {error}") from None
        set_global_rng_state(self.record["global_rng"])


def register_kept_source(path, record, experiment):
    """Before the learner file `path` (its `record`) is loaded: a run of its
    `experiment` is identified by its copy of the STL file, should the file
    `model.tucker.init_from` names be gone (`stl_source.source_sha256`)."""
    source = experiment.model.tucker.init_from
    if source and SOURCE in record.get("files", []):
        register_copy(source, read_kept_file(path, SOURCE))


def read_saved_learner(path):
    """Reads and checks the learner file at `path`.

    Raises:
        LearnerError: if the file is missing, not a learner file, of another
            format version, or damaged.
    """
    record, read, files = read_learner(path)
    try:
        experiment = experiment_from_dict(record["experiment"], f"learner {path}")
        tasks = [TaskInfo.from_dict(t) for t in record["tasks"]]
        shape = tuple(int(d) for d in record["input_shape"])
        state = Resume(
            rows=columns_to_rows(record["rows"]),
            elapsed=float(record["elapsed"]),
            rng=record["rng"],
        )
        record["global_rng"]  # noqa: B018  (present, or the file is damaged)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        if isinstance(error, ConfigError):
            raise LearnerError(str(error)) from None
        raise LearnerError(f"{path}: damaged record ({error!r})") from None
    return SavedLearner(str(path), experiment, tasks, shape, state, record, read, files)
