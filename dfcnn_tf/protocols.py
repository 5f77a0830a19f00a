"""The two training protocols and what each reports (SPEC sections 4 and 6).

`lifelong`: tasks one after another (Algorithm 1); lifelong metrics (peak
accuracy, forgetting, accuracy matrix). `mtl`: all tasks together, one random
task per epoch; error rates per task (appendix C).
"""

import dataclasses
from collections.abc import Callable

from dfcnn_tf import metrics, mtl_metrics
from dfcnn_tf.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Protocol:
    """How a protocol trains and which tables summarise its history.

    Attributes:
        train: `train(model, tasks, train_config, seed, progress, save,
            checkpoint=None)` runs the protocol, calling `save(rows)` whenever
            results should be written, resuming from and writing to the
            `RunCheckpoint` if given, and returns the history rows.
        epochs: `epochs(train_config, num_tasks)`, the epoch count that the
            progress display counts to.
        summarize: history -> pd.Series of the run's headline metrics.
        per_task: history -> pd.DataFrame of per-task metrics.
        tables: history -> `{file stem: DataFrame}` of further tables.
    """

    train: Callable
    epochs: Callable
    summarize: Callable
    per_task: Callable
    tables: Callable


def _train_lifelong(model, tasks, train, seed, progress, save, checkpoint=None):
    from dfcnn_tf.training import train_lifelong  # TensorFlow: imported when used

    def on_task_end(task_id, rows):
        save(rows)

    return train_lifelong(model, tasks, train, seed, progress, on_task_end, checkpoint)


def _train_mtl(model, tasks, train, seed, progress, save, checkpoint=None):
    from dfcnn_tf.training.multitask import train_multitask  # TensorFlow

    return train_multitask(
        model, tasks, train, seed, progress, on_save=save, checkpoint=checkpoint
    )


PROTOCOLS = {
    "lifelong": Protocol(
        train=_train_lifelong,
        epochs=lambda train, num_tasks: train.epochs_per_task,
        summarize=metrics.summarize,
        per_task=metrics.per_task_table,
        tables=lambda history: {"accuracy_matrix": metrics.accuracy_matrix(history)},
    ),
    "mtl": Protocol(
        train=_train_mtl,
        epochs=lambda train, num_tasks: train.epochs_per_task * num_tasks,
        summarize=mtl_metrics.summarize,
        per_task=mtl_metrics.error_rates,
        tables=lambda history: {},
    ),
}


def get_protocol(name):
    """The `Protocol` called `name`.

    Raises:
        ConfigError: listing the valid names if `name` is unknown.
    """
    if name not in PROTOCOLS:
        raise ConfigError(
            f"Unknown protocol {name!r}. Valid protocols: {', '.join(PROTOCOLS)}"
        )
    return PROTOCOLS[name]
