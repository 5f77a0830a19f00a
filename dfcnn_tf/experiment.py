"""One lifelong run from a resolved `Experiment`: data, model, loop, results."""

import dataclasses
from pathlib import Path

import keras
import pandas as pd

from dfcnn_tf import metrics
from dfcnn_tf.config import validate
from dfcnn_tf.data import build_cifar100_tasks, load_arrays
from dfcnn_tf.errors import ConfigError, TrainingError
from dfcnn_tf.registry import build_model
from dfcnn_tf.results import history_frame, run_id, write_run
from dfcnn_tf.training import Progress, train_lifelong


def _cifar100_tasks(arrays, data, seed):
    return build_cifar100_tasks(
        arrays,
        num_tasks=data.num_tasks,
        classes_per_task=data.classes_per_task,
        train_per_class=data.train_per_class,
        valid_per_class=data.valid_per_class,
        partition=data.partition,
        task_order=data.task_order,
        seed=seed,
    )


TASK_BUILDERS = {"cifar100": _cifar100_tasks}


def build_tasks(data, seed):
    """Loads the data set and cuts it into the lifelong tasks `data` describes.

    Raises:
        ConfigError: if no lifelong task set exists for `data.dataset`.
        DataError: if the data files are missing or malformed.
    """
    if data.dataset not in TASK_BUILDERS:
        raise ConfigError(
            f"Unknown lifelong data set {data.dataset!r}. "
            f"Valid data sets: {', '.join(sorted(TASK_BUILDERS))}"
        )
    arrays = load_arrays(data.dataset, data.data_dir)
    return TASK_BUILDERS[data.dataset](arrays, data, seed)


@dataclasses.dataclass(frozen=True)
class RunResult:
    """What a finished run returns: its folder, history and summary metrics."""

    run_dir: Path
    history: pd.DataFrame
    summary: pd.Series


def run_experiment(experiment, out_dir, quiet=False, fmt="csv", stream=None):
    """Runs one lifelong experiment and writes its results under `out_dir`.

    Results are rewritten after every task, so an interrupted run keeps every
    finished task; a run whose loss diverges is saved with status "failed".

    Args:
        experiment: the resolved `Experiment`.
        out_dir: parent folder of the run's folder `<out_dir>/<run id>`.
        quiet: no progress display if true.
        fmt: history file format, "csv" or "parquet".
        stream: where progress goes (standard error by default).

    Returns:
        A `RunResult`.
    """
    validate(experiment)
    keras.utils.set_random_seed(experiment.seed)
    tasks = build_tasks(experiment.data, experiment.seed)
    model = build_model(experiment.model, tasks[0].x_train.shape[1:])
    run_dir = Path(out_dir) / run_id(experiment)
    train = experiment.train
    progress = Progress(len(tasks), train.epochs_per_task, quiet, stream)

    def save(rows, status, **extra):
        history = history_frame(rows, experiment)
        extra.update(tasks_added=model.num_tasks, parameters=model.count_params())
        write_run(run_dir, experiment, history, status, fmt, extra)
        return history

    save([], "running")
    try:
        rows = train_lifelong(
            model,
            tasks,
            train,
            seed=experiment.seed,
            progress=progress,
            on_task_end=lambda task_id, rows: save(rows, "running"),
        )
    except TrainingError as error:
        save(error.rows, "failed", error=str(error))
        raise
    history = save(rows, "finished")
    progress.message(f"results written to {run_dir}")
    return RunResult(run_dir, history, metrics.summarize(history))
