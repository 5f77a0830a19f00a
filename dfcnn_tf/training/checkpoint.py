"""Checkpoints of a run, and resuming from the latest one exactly.

A checkpoint (`tf.train.Checkpoint`, kept by a `tf.train.CheckpointManager`
in `<run dir>/checkpoints/`) holds
- `model/<key>`: every variable Keras tracks in the model, keyed by its
  place in the model's layers (`model_state.model_variables`: shared, every
  task's, masks, anchors, dropout seed states);
- `optimizer/<i>-<j>`: the variables of the optimizers in use (none at a
  task's end: the next task starts a fresh one);
- `state`: one JSON string with the loop's position (task, epoch of the
  task, global epoch, tasks added), the mini-batch `Generator` state, the
  global random states (`rng_state`), the recorded history rows, the elapsed
  time, the configuration hash and the variables' names and shapes.

Writing is atomic: TensorFlow writes the files under a `*_temp` name and
moves them into place, then the manager rewrites its index file
(`checkpoint`) atomically; a checkpoint is read only through that index, so
a write killed at any moment leaves the previous checkpoint in use.

Resuming rebuilds the model from the same configuration and seed, adds the
tasks in the same order (restoring the values known so far after each, so a
model whose structure depends on its state, like DEN's anchors, grows the
same way), then restores every variable, the optimizers and the random
states. A folder written by another configuration, an unreadable file, or
variables that do not match the rebuilt model raise `CheckpointError`.
"""

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import tensorflow as tf

from dfcnn_tf.atomic import atomic_path
from dfcnn_tf.errors import CheckpointError
from dfcnn_tf.eval_scope import ALL
from dfcnn_tf.training.model_state import manifest, model_variables
from dfcnn_tf.training.restore import (
    StateMismatchError,
    assign_known,
    check_manifest,
    restore_model,
)
from dfcnn_tf.training.rng_state import global_rng_state, set_global_rng_state

FORMAT = 2  # 2: model keys from Keras' layer tree (1: from attribute names)
RECORD = "run.json"  # the folder's configuration record, written first
STATE_KEY = "state/.ATTRIBUTES/VARIABLE_VALUE"
# What TensorFlow's checkpoint reader raises on a corrupt or truncated file.
READ_ERRORS = (tf.errors.OpError, ValueError, TypeError, IndexError, RuntimeError)


@dataclasses.dataclass(frozen=True)
class Position:
    """Where the loop stands: the task to continue (its index; the number of
    tasks when all are done), epochs of it done, global epochs done."""

    task: int = 0
    task_epoch: int = 0
    epoch: int = 0


@dataclasses.dataclass(frozen=True)
class Resume:
    """What a run continues from: position, rows, elapsed seconds, the
    mini-batch generator's state (None: a fresh start)."""

    position: Position = Position()
    rows: list = dataclasses.field(default_factory=list)
    elapsed: float = 0.0
    rng: dict | None = None


class RunCheckpoint:
    """The checkpoints of one run.

    Args:
        directory: the run's checkpoint folder.
        config_hash: `results.config_hash` of the run's configuration.
        every: also checkpoint every `every` epochs (0: only at task ends).
    """

    def __init__(self, directory, config_hash, every=0):
        self.directory = Path(directory)
        self.config_hash = config_hash
        self.every = every
        self.resume = None  # the `Resume` that `open` found, if any
        self._latest = None  # (prefix, state) of that checkpoint

    def open(self):
        """Checks the folder and reads its latest checkpoint.

        Returns:
            The `Resume` of the latest checkpoint (also kept as `resume`), or
            None if there is none (the folder is created, with its
            configuration record).

        Raises:
            CheckpointError: if the folder belongs to another configuration
                or the latest checkpoint is unreadable.
        """
        self._check_record()
        prefix = self._latest_prefix()
        if prefix is None:
            return None
        state = _read_state(prefix)
        if state.get("format") != FORMAT or state.get("config_hash") != (
            self.config_hash
        ):
            raise self._foreign(state.get("config_hash"))
        self._latest = (prefix, state)
        self.resume = Resume(
            Position(**state["position"]),
            columns_to_rows(state["rows"]),
            state["elapsed"],
            state["rng"],
        )
        return self.resume

    def due(self, epoch):
        """True if a periodic checkpoint falls on global epoch `epoch`."""
        return self.every > 0 and epoch % self.every == 0

    def save(self, model, optimizers, resume):
        """Writes a checkpoint of the run at `resume.position` (atomically).

        Args:
            model: the `LifelongModel`.
            optimizers: the optimizers whose state must survive (may be empty).
            resume: the `Resume` to record: position, rows, elapsed seconds,
                and the mini-batch generator's `bit_generator.state`.
        """
        variables = model_variables(model)
        slots = _optimizer_variables(optimizers)
        state = {
            "format": FORMAT,
            "config_hash": self.config_hash,
            "position": dataclasses.asdict(resume.position),
            "tasks_added": model.num_tasks,
            "rows": rows_to_columns(resume.rows),
            "elapsed": resume.elapsed,
            "rng": resume.rng,
            "global_rng": global_rng_state(),
            "model": manifest(variables),
            "optimizer": manifest(slots),
        }
        text = tf.Variable(json.dumps(state), dtype=tf.string)
        checkpoint = tf.train.Checkpoint(model=variables, optimizer=slots, state=text)
        manager = tf.train.CheckpointManager(checkpoint, self.directory, max_to_keep=1)
        manager.save(checkpoint_number=resume.position.epoch)

    def restore_model(self, model, add_task):
        """Brings a freshly built `model` to the checkpoint's state.

        Args:
            model: the rebuilt `LifelongModel`, no task added yet.
            add_task: `add_task(task_id)` adds task `task_id` to the model
                (and whatever the loop keeps per task), as the run did.

        Raises:
            CheckpointError: if the variables do not match the checkpoint's.
        """
        prefix, state = self._latest
        read = self._read_group(_reader(prefix), "model")
        try:
            restore_model(model, add_task, state["tasks_added"], read, state["model"])
        except StateMismatchError as error:
            raise self._mismatch("model", error) from None
        set_global_rng_state(state["global_rng"])

    def restore_optimizers(self, optimizers):
        """Restores the optimizers (built, in the order they were saved)."""
        prefix, state = self._latest
        slots = _optimizer_variables(optimizers)
        read = self._read_group(_reader(prefix), "optimizer")
        try:
            check_manifest(manifest(slots), state["optimizer"])
            assign_known(slots, read, state["optimizer"])
        except StateMismatchError as error:
            raise self._mismatch("optimizer", error) from None

    def remove(self):
        """Deletes the folder (the run is finished and its results written)."""
        shutil.rmtree(self.directory, ignore_errors=True)

    # ------------------------------------------------------------- helpers

    def _check_record(self):
        """Creates the folder's configuration record, or checks it."""
        record = self.directory / RECORD
        if not self.directory.exists():
            self.directory.mkdir(parents=True)
        if not record.exists():
            if (self.directory / "checkpoint").exists():
                raise CheckpointError(
                    f"{self.directory} holds checkpoints without the record of "
                    f"their configuration ({RECORD}); refusing to resume from "
                    "them: use another --out or delete that folder"
                )
            _write_record(record, {"config_hash": self.config_hash, "format": FORMAT})
            return
        try:
            found = json.loads(record.read_text()).get("config_hash")
        except OSError as error:
            raise CheckpointError(
                f"{record}: cannot read the checkpoints' record ({error.strerror}); "
                "check the folder's permissions"
            ) from None
        except (ValueError, AttributeError):
            found = "an unreadable record"
        if found != self.config_hash:
            raise self._foreign(found)

    def _latest_prefix(self):
        """The prefix the manager's index names (stale partial writes removed)."""
        for stale in self.directory.glob("*_temp"):
            shutil.rmtree(stale, ignore_errors=True)
        logger = tf.get_logger()
        level = logger.level
        logger.setLevel("ERROR")  # TensorFlow warns, then ignores a bad index
        try:
            prefix = tf.train.latest_checkpoint(str(self.directory))
        except READ_ERRORS as error:
            raise _corrupt(self.directory / "checkpoint", error) from None
        finally:
            logger.setLevel(level)
        if prefix is None and (self.directory / "checkpoint").exists():
            missing = FileNotFoundError(
                "the index names no checkpoint whose files exist (or is unparsable)"
            )
            raise _corrupt(self.directory / "checkpoint", missing)
        return prefix

    def _foreign(self, found):
        return CheckpointError(
            f"{self.directory} holds checkpoints of another configuration "
            f"(hash {found}, this run {self.config_hash}); refusing to mix them: "
            "use another --out or delete that folder"
        )

    def _mismatch(self, group, error):
        return CheckpointError(
            f"{self.directory}: the checkpoint's {group} variables do not match "
            f"the rebuilt model's ({len(error.saved)} saved, {len(error.now)} now; "
            f"first difference: {error.key!r} saved {error.saved.get(error.key)}, "
            f"now {error.now.get(error.key)}); refusing to resume from it"
        )

    def _read_group(self, reader, group):
        """`read(key)` of the checkpoint's variable `group/key`."""

        def read(key):
            try:
                return reader.get_tensor(f"{group}/{key}/.ATTRIBUTES/VARIABLE_VALUE")
            except READ_ERRORS as error:
                raise _corrupt(self.directory, error) from None

        return read


def _optimizer_variables(optimizers):
    """`{"<i>-<j>": variable}` of the optimizers, in order."""
    return {
        f"{i}-{j}": variable
        for i, optimizer in enumerate(optimizers)
        for j, variable in enumerate(optimizer.variables)
    }


def _reader(prefix):
    try:
        return tf.train.load_checkpoint(prefix)
    except READ_ERRORS as error:
        raise _corrupt(prefix, error) from None


def _read_state(prefix):
    """The JSON state of checkpoint `prefix`, after reading every tensor once
    (TensorFlow checks each tensor's checksum), so a corrupt file is refused
    before anything is trained or written.
    """
    reader = _reader(prefix)
    try:
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
        return json.loads(reader.get_tensor(STATE_KEY))
    except READ_ERRORS as error:
        raise _corrupt(prefix, error) from None


def _corrupt(path, error):
    """A one-line `CheckpointError` for an unreadable checkpoint."""
    lines = str(error).strip().splitlines()
    detail = f"{type(error).__name__}: {lines[0] if lines else ''}"
    return CheckpointError(
        f"{path}: checkpoint unreadable (corrupt or truncated?): {detail}; "
        "refusing to resume: delete the checkpoints folder to start afresh"
    )


def _write_record(path, data):
    """Writes JSON to `path` atomically (temporary file, then rename)."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(data, indent=2) + "\n")


def rows_to_columns(rows):
    """History rows as `{column: [values]}` (a compact JSON form)."""
    names = list(rows[0]) if rows else []
    return {name: [_plain(row[name]) for row in rows] for name in names}


def columns_to_rows(columns):
    """The inverse of `rows_to_columns`. Rows stored before evaluations had
    a scope were evaluations of every seen task: they get scope "all"."""
    names = list(columns)
    count = len(columns[names[0]]) if names else 0
    rows = [{name: columns[name][i] for name in names} for i in range(count)]
    return [row if "scope" in row else row | {"scope": ALL} for row in rows]


def _plain(value):
    """A JSON value equal to `value` (NumPy scalars to Python ones)."""
    return value.item() if isinstance(value, np.generic) else value
