"""One run from a resolved `Experiment`: data, model, protocol, results."""

import contextlib
import dataclasses
import functools
from pathlib import Path

import keras
import pandas as pd
import tensorflow as tf

from dfcnn_tf.atomic import remove_temporaries
from dfcnn_tf.config import RUN_CONTROL_KEYS
from dfcnn_tf.config_checks import validate
from dfcnn_tf.data.datasets import builtin_dataset
from dfcnn_tf.data.own_tasks import build_source_tasks
from dfcnn_tf.errors import LearnerError, TrainingError
from dfcnn_tf.fit_checks import check_protocol, check_task_fits
from dfcnn_tf.learner import LifelongLearner
from dfcnn_tf.process import apply_process_settings
from dfcnn_tf.protocols import get_protocol
from dfcnn_tf.registry import build_model
from dfcnn_tf.results import (
    config_hash,
    history_format,
    history_frame,
    read_finished,
    record_history,
    run_id,
    write_history,
    write_run,
)
from dfcnn_tf.run_lock import run_lock
from dfcnn_tf.training.checkpoint import Resume, RunCheckpoint
from dfcnn_tf.training.interrupt import Interrupted, StopSignals
from dfcnn_tf.training.progress import run_observers

CHECKPOINT_DIR = "checkpoints"  # inside the run's folder
SHARED_DATA_SEED = 0  # draws the task set when data.resample_per_seed is false


def data_seed(data, seed):
    """The seed the task set is drawn with: the trial's, or one shared by all.

    With `data.resample_per_seed` (the default) every trial draws its own task
    set (the paper: "its own random subsets"). Without it every trial gets the
    set drawn with `SHARED_DATA_SEED`, as in the released code, whose trials
    share one draw of images; initialisation, dropout and batch order still
    follow the trial's seed. docs/method.md, section "Data protocols".
    """
    return seed if data.resample_per_seed else SHARED_DATA_SEED


def build_tasks(data, seed):
    """Loads the data set and cuts it into the lifelong tasks `data` describes:
    `data.source` (your own data, `dfcnn_tf.data.task_sources`) if set, else
    the built-in task set of `data.dataset`.

    The same `data_seed` for every data set and source: it draws the
    partition (when random), the task order (when permuted) and the images
    of each task.

    Raises:
        ConfigError: if no lifelong task set exists for `data.dataset`.
        DataError: if the data files are missing or malformed.
    """
    if data.source:
        return build_source_tasks(data, data_seed(data, seed))
    entry = builtin_dataset(data.dataset)  # the registry, `dfcnn_tf.data.datasets`
    return entry.build_tasks(data, data_seed(data, seed))[: data.num_tasks]


@dataclasses.dataclass(frozen=True)
class RunResult:
    """What a finished run returns: folder, protocol, history and summary."""

    run_dir: Path
    protocol: str
    history: pd.DataFrame
    summary: pd.Series
    reused: bool = False


def run_experiment(
    experiment,
    out_dir,
    quiet=False,
    fmt="csv",
    stream=None,
    save_model=None,
    from_model=None,
):
    """Runs one lifelong experiment and writes its results under `out_dir`.

    Results are rewritten after every task; a failed or interrupted run says
    so in `run.json`. A finished run of the same configuration is read back;
    an unfinished one resumes exactly from its latest checkpoint.

    Args:
        experiment: the resolved `Experiment`.
        out_dir: parent folder of the run's folder `<out_dir>/<run id>`.
        quiet: no progress display if true.
        fmt: history file format, "csv" or "parquet".
        stream: where progress goes (standard error by default).
        save_model: a file to keep the trained `LifelongLearner` in, or None.
        from_model: a saved learner that learned the first tasks of this
            experiment (see `check_continuation`) and learns the rest.

    Returns:
        A `RunResult`.

    Raises:
        ConfigError, DataError: on bad configuration or data.
        CheckpointError, LearnerError: a corrupt or foreign checkpoint; a
            `from_model` that cannot be continued, or `save_model` unwritable.
        TrainingError: if the loss diverges.
        Interrupted: after SIGINT or SIGTERM (a checkpoint is written).
    """
    validate(experiment)
    run_dir = Path(out_dir) / run_id(experiment)
    checkpoint = _checkpoint(run_dir, experiment)
    history = read_finished(run_dir, experiment)
    if history is not None:  # the same command again: read it back
        return _reuse(run_dir, experiment, history, checkpoint, save_model, fmt)
    loaded = None if from_model is None else load_continuation(from_model, experiment)
    protocol = get_protocol(experiment.train.protocol)
    tasks, learner = _learner(experiment, loaded)  # data errors: nothing written
    progress = _progress(experiment, run_dir, protocol, quiet, stream)
    with run_lock(run_dir), StopSignals() as stop:
        resume = open_checkpoint(checkpoint, run_dir, progress)
        if loaded is not None and resume.rng is not None:  # the checkpoint holds more
            tasks, learner = _learner(experiment, None)
        learner.progress, learner.checkpoint, learner.stop = progress, checkpoint, stop
        write = functools.partial(write_results, run_dir, experiment, learner, fmt)
        write(resume.rows or learner.rows, "running")
        try:
            history = _train(learner, tasks, write, save_model)
        finally:
            progress.close()
        checkpoint.remove()
    progress.message(f"results written to {run_dir}")
    summary = protocol.summarize(history)
    return RunResult(run_dir, experiment.train.protocol, history, summary)


def _checkpoint(run_dir, experiment):
    every = experiment.train.checkpoint_every
    return RunCheckpoint(run_dir / CHECKPOINT_DIR, config_hash(experiment), every)


def _progress(experiment, run_dir, protocol, quiet, stream):
    """The progress display, plus the TensorBoard log if enabled."""
    num_tasks = experiment.data.num_tasks
    epochs = protocol.epochs(experiment.train, num_tasks)
    return run_observers(experiment, run_dir, num_tasks, epochs, quiet, stream)


def _train(learner, tasks, write, save_model):
    """Trains, keeps the learner if asked, records the run as finished."""
    rows = _fit(learner, tasks, write)
    if save_model is not None:
        learner.save(save_model)
        learner.progress.message(f"learner saved to {save_model}")
    return write(rows, "finished")


def _fit(learner, tasks, write):
    """`learner.fit(tasks)`, writing the results after every task; a run
    that stops is recorded as "failed" or "interrupted", with the reason."""
    try:
        return learner.fit(tasks, lambda rows: write(rows, "running"))
    except TrainingError as error:
        write(error.rows, "failed", error=str(error))
        raise
    except Interrupted as error:
        write(error.rows, "interrupted", error=str(error))
        raise
    except KeyboardInterrupt:
        _try_write(write, learner.rows, "interrupted", "a second signal")
        raise
    except (OSError, tf.errors.OpError) as error:
        _try_write(write, learner.rows, "failed", f"{type(error).__name__}: {error}")
        raise


def _try_write(write, rows, status, reason):
    """Records the status if the file system still lets us (a full disk may not)."""
    with contextlib.suppress(OSError):
        write(rows, status, error=reason)


def _reuse(run_dir, experiment, history, checkpoint, save_model, fmt):
    """The `RunResult` of a run finished before (nothing is trained); its
    history is rewritten in `fmt` if it was kept in the other format."""
    if save_model is not None:
        raise LearnerError(
            f"--save-model: the run in {run_dir} finished before and kept no "
            "weights; use another --out (or delete that folder) to train it again"
        )
    checkpoint.remove()  # left if the run was killed as it finished
    if history_format(run_dir) != fmt:
        record_history(run_dir, write_history(run_dir, history, fmt))
    summary = get_protocol(experiment.train.protocol).summarize(history)
    return RunResult(run_dir, experiment.train.protocol, history, summary, True)


def _learner(experiment, loaded):
    """The run's tasks, and the `loaded` learner or else a fresh one."""
    if loaded is None:
        tasks, model = prepare(experiment)
        return tasks, LifelongLearner(experiment, model)
    return build_tasks(experiment.data, experiment.seed), loaded


def load_continuation(path, experiment):
    """The saved learner at `path`, checked to continue `experiment`.

    Raises:
        LearnerError: see `check_continuation`, or an unreadable file.
    """
    learner = LifelongLearner.load(path)
    check_continuation(learner, experiment, path)
    return learner


def check_continuation(learner, experiment, path):
    """Raises `LearnerError` unless `experiment` continues the saved learner:
    the same configuration but for more tasks (`data.num_tasks`) and the
    data folder, in the lifelong protocol."""
    learned = learner.num_tasks
    if experiment.data.num_tasks <= learned:
        raise LearnerError(
            f"{path}: the learner learned {learned} tasks already; ask for more "
            f"(--num-tasks N with N > {learned})"
        )
    ignored = {"data.num_tasks", "data.data_dir", *RUN_CONTROL_KEYS}
    mine, theirs = _flat(learner.experiment.to_dict()), _flat(experiment.to_dict())
    different = sorted(
        k
        for k in mine.keys() | theirs.keys()
        if k not in ignored and mine.get(k) != theirs.get(k)
    )
    if different:
        key = different[0]
        raise LearnerError(
            f"{path}: the learner was trained with {key}={mine.get(key)!r}, this "
            f"run asks for {theirs.get(key)!r}; continuing needs the same "
            f"configuration ({len(different)} field(s) differ: "
            f"{', '.join(different[:5])})"
        )


def _flat(config, prefix=""):
    """`{"section.field": value}` of a nested configuration dict."""
    flat = {}
    for name, value in config.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def write_results(run_dir, experiment, learner, fmt, rows, status, **extra):
    """Writes every results file of the run (atomically); returns the history.

    The rows go to the learner's observers first (the TensorBoard log).
    """
    if learner.progress is not None:
        rows = learner.progress.record(rows)
    history = history_frame(rows, experiment)
    model = learner.model
    extra.update(tasks_added=model.num_tasks, parameters=model.count_params())
    write_run(run_dir, experiment, history, status, fmt, extra)
    return history


def prepare(experiment):
    """Seeds every generator, builds the tasks and the model; returns both.

    `experiment.seed` reaches the data subsets and task order (through the
    task builders), the initial weights and the dropout masks (through
    `keras.utils.set_random_seed`); the loop seeds the mini-batch order.

    Raises:
        ConfigError, DataError: on bad configuration or data.
    """
    apply_process_settings(experiment.train)
    keras.utils.set_random_seed(experiment.seed)
    tasks = build_tasks(experiment.data, experiment.seed)
    model = build_model(experiment.model, tasks[0].x_train.shape[1:])
    check_protocol(model, experiment.train.protocol)
    for task in tasks:
        check_task_fits(model, experiment.train, task)
    return tasks, model


def open_checkpoint(checkpoint, run_dir, progress):
    """Opens the run's checkpoint folder; returns the `Resume` to start from.

    Raises:
        CheckpointError: if the folder is foreign or its checkpoint unreadable.
    """
    if run_dir.exists():
        remove_temporaries(run_dir)
    resume = checkpoint.open()
    if resume is None:
        return Resume()
    progress.message(
        f"resuming from the checkpoint in {checkpoint.directory} "
        f"(after global epoch {resume.position.epoch})"
    )
    return resume
