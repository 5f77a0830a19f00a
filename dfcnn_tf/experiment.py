"""One run from a resolved `Experiment`: data, model, protocol, results."""

import dataclasses
import functools
from pathlib import Path

import keras
import pandas as pd
import tensorflow as tf

from dfcnn_tf.config import validate
from dfcnn_tf.data import build_binary_tasks, build_cifar100_tasks, load_arrays
from dfcnn_tf.errors import ConfigError, TrainingError
from dfcnn_tf.protocols import get_protocol
from dfcnn_tf.registry import build_model
from dfcnn_tf.results import (
    config_hash,
    finished_run,
    history_frame,
    read_history,
    remove_temporaries,
    run_id,
    write_run,
)
from dfcnn_tf.training.checkpoint import Resume, RunCheckpoint
from dfcnn_tf.training.progress import run_observers

CHECKPOINT_DIR = "checkpoints"  # inside the run's folder


def _cifar100_tasks(data, seed):
    return build_cifar100_tasks(
        load_arrays("cifar100", data.data_dir),
        num_tasks=data.num_tasks,
        classes_per_task=data.classes_per_task,
        train_per_class=data.train_per_class,
        valid_per_class=data.valid_per_class,
        partition=data.partition,
        task_order=data.task_order,
        seed=seed,
    )


def _binary_tasks(data, seed):
    return build_binary_tasks(
        load_arrays(data.dataset, data.data_dir),
        dataset=data.dataset,
        task_set=data.task_set,
        percent=data.percent,
        seed=seed,
        task_order=data.task_order,
    )


def _officehome_tasks(data, seed):
    from dfcnn_tf.data.officehome import load_officehome  # TF/TFDS builder
    from dfcnn_tf.data.officehome_tasks import build_officehome_tasks

    domains = tuple(data.domains)
    if data.num_tasks % len(domains):
        raise ConfigError(
            f"data.num_tasks={data.num_tasks} must be a multiple of the number of "
            f"data.domains ({len(domains)}: {', '.join(domains)})"
        )
    return build_officehome_tasks(
        load_officehome(data.data_dir, domains),
        domains=domains,
        tasks_per_domain=data.num_tasks // len(domains),
        classes_per_task=data.classes_per_task,
        seed=seed,
        task_order=data.task_order,
    )


TASK_BUILDERS = {
    "cifar100": _cifar100_tasks,
    "mnist": _binary_tasks,
    "cifar10": _binary_tasks,
    "officehome": _officehome_tasks,
}


def build_tasks(data, seed):
    """Loads the data set and cuts it into the lifelong tasks `data` describes.

    Raises:
        ConfigError: if no lifelong task set exists for `data.dataset`.
        DataError: if the data files are missing or malformed.
    """
    if data.dataset not in TASK_BUILDERS:
        raise ConfigError(
            f"Unknown data set {data.dataset!r}. "
            f"Valid data sets: {', '.join(sorted(TASK_BUILDERS))}"
        )
    return TASK_BUILDERS[data.dataset](data, seed)[: data.num_tasks]


def check_batch_size(train, tasks):
    """Raises `ConfigError` if a mini-batch is larger than a task's training set."""
    for task in tasks:
        if train.batch_size > len(task.y_train):
            raise ConfigError(
                f"train.batch_size={train.batch_size} is larger than task "
                f"{task.task_id + 1}'s training set ({len(task.y_train)} images)"
            )


def check_protocol(model, protocol):
    """Raises `ConfigError` if the model does not support the protocol."""
    if protocol not in model.protocols:
        raise ConfigError(
            f"Model {model.config.name!r} supports only --protocol "
            f"{' or '.join(model.protocols)}. Received: {protocol!r}"
        )


@dataclasses.dataclass(frozen=True)
class RunResult:
    """What a finished run returns: folder, protocol, history and summary."""

    run_dir: Path
    protocol: str
    history: pd.DataFrame
    summary: pd.Series
    reused: bool = False


def run_experiment(experiment, out_dir, quiet=False, fmt="csv", stream=None):
    """Runs one lifelong experiment and writes its results under `out_dir`.

    Results are rewritten after every task, so an interrupted run keeps every
    finished task; a run whose loss diverges is saved with status "failed".
    A finished run of the same configuration and seed in `out_dir` is read
    back instead of recomputed; an unfinished one continues from its latest
    checkpoint (`<run dir>/checkpoints`, removed once the run is finished)
    and ends with exactly the history of an uninterrupted run.

    Args:
        experiment: the resolved `Experiment`.
        out_dir: parent folder of the run's folder `<out_dir>/<run id>`.
        quiet: no progress display if true.
        fmt: history file format, "csv" or "parquet".
        stream: where progress goes (standard error by default).

    Returns:
        A `RunResult`.

    Raises:
        ConfigError, DataError: on bad configuration or data.
        CheckpointError: if the run's checkpoint is corrupt or was written by
            another configuration.
        TrainingError: if the loss diverges.
    """
    validate(experiment)
    train = experiment.train
    protocol = get_protocol(train.protocol)
    run_dir = Path(out_dir) / run_id(experiment)
    checkpoint = RunCheckpoint(
        run_dir / CHECKPOINT_DIR, config_hash(experiment), train.checkpoint_every
    )
    if finished_run(run_dir, experiment):  # the same command again: reuse it
        checkpoint.remove()  # left if the run was killed as it finished
        history = read_history(run_dir)
        summary = protocol.summarize(history)
        return RunResult(run_dir, train.protocol, history, summary, reused=True)
    tasks, model = prepare(experiment)
    epochs = protocol.epochs(train, len(tasks))
    progress = run_observers(experiment, run_dir, len(tasks), epochs, quiet, stream)
    resume = open_checkpoint(checkpoint, run_dir, progress)
    write = functools.partial(write_results, run_dir, experiment, model, fmt)
    write(resume.rows, "running")
    try:
        rows = protocol.train(
            model,
            tasks,
            train,
            experiment.seed,
            progress,
            lambda rows: write(progress.record(rows), "running"),
            checkpoint,
        )
    except TrainingError as error:
        write(progress.record(error.rows), "failed", error=str(error))
        progress.close()
        raise
    history = write(progress.record(rows), "finished")
    progress.close()
    checkpoint.remove()
    progress.message(f"results written to {run_dir}")
    return RunResult(run_dir, train.protocol, history, protocol.summarize(history))


def write_results(run_dir, experiment, model, fmt, rows, status, **extra):
    """Writes every results file of the run (atomically); returns the history."""
    history = history_frame(rows, experiment)
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
    if experiment.train.deterministic:
        tf.config.experimental.enable_op_determinism()  # process-wide
    keras.utils.set_random_seed(experiment.seed)
    tasks = build_tasks(experiment.data, experiment.seed)
    check_batch_size(experiment.train, tasks)
    model = build_model(experiment.model, tasks[0].x_train.shape[1:])
    check_protocol(model, experiment.train.protocol)
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
