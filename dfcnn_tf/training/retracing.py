"""Silences TensorFlow's "triggered tf.function retracing" warning for the
functions that are compiled once per task by design.

Every task gets its own compiled training epoch (`TaskLearner`) and its own
evaluation function (`Evaluator`): different variables, different data
shapes. TensorFlow counts traces per Python function, not per `tf.function`
object, so from the sixth task on it warns that "tracing is expensive" on
every new task, though each function is traced once. The filter drops only
those warnings that name these functions; any other retracing is still
reported.
"""

import logging

import tensorflow as tf

PER_TASK = ("TaskLearner._train_epoch", "Evaluator.add_task")


class PerTaskRetracing(logging.Filter):
    """Drops the retracing warning when it names a per-task function."""

    def filter(self, record):
        message = record.getMessage()
        return not (
            "triggered tf.function retracing" in message
            and any(name in message for name in PER_TASK)
        )


def quiet_per_task_retracing():
    """Installs the filter on TensorFlow's logger (once)."""
    logger = tf.get_logger()
    if not any(isinstance(f, PerTaskRetracing) for f in logger.filters):
        logger.addFilter(PerTaskRetracing())
