"""The two training protocols and what each reports.

See docs/method.md, sections 'Training' and 'Metrics'.

`lifelong`: tasks one after another (Algorithm 1); lifelong metrics (peak
accuracy, forgetting, accuracy matrix). `mtl`: all tasks together, one random
task per epoch; error rates per task (appendix C).
"""

import dataclasses
from collections.abc import Callable

from dfcnn_tf import metrics, mtl_metrics, run_metrics
from dfcnn_tf.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Protocol:
    """How long a protocol runs and which tables summarise its history.

    Training itself goes through `LifelongLearner.fit`.

    Attributes:
        epochs: `epochs(train_config, num_tasks)`, the epoch count that the
            progress display counts to.
        summarize: history -> pd.Series of the run's headline metrics.
        per_task: history -> pd.DataFrame of per-task metrics.
        tables: history -> `{file stem: DataFrame}` of further tables.
    """

    epochs: Callable
    summarize: Callable
    per_task: Callable
    tables: Callable


PROTOCOLS = {
    "lifelong": Protocol(
        epochs=lambda train, num_tasks: train.epochs_per_task,
        summarize=run_metrics.summarize,
        per_task=run_metrics.per_task_table,
        tables=lambda history: {"accuracy_matrix": metrics.accuracy_matrix(history)},
    ),
    "mtl": Protocol(
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
