"""Per-task compiled functions do not trip TensorFlow's retracing warning,
which still reaches the user for any other function."""

import logging

import tensorflow as tf

from dfcnn_tf.training import Evaluator, TaskLearner, make_optimizer
from dfcnn_tf.training.retracing import PerTaskRetracing

from ..reliability.tiny import tiny_experiment, tiny_tasks
from .test_evaluation import model_with_tasks

TASKS = 7  # TensorFlow warns from the sixth trace of one Python function


class Recorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def warnings_while(action):
    logger, recorder = tf.get_logger(), Recorder()
    logger.addHandler(recorder)
    try:
        action()
    finally:
        logger.removeHandler(recorder)
    return [m for m in recorder.messages if "retracing" in m]


def test_one_function_per_task_traces_without_a_warning():
    experiment = tiny_experiment("stl")
    tasks = tiny_tasks(count=TASKS, n_train=10)
    model = model_with_tasks("stl", tasks)
    evaluator = Evaluator(model, 100)

    def learn_all():
        for task_id, task in enumerate(tasks):
            evaluator.add_task(task)
            evaluator.evaluate(task_id)
            learner = TaskLearner.for_task(
                model, task_id, make_optimizer(experiment.train), experiment.train
            )
            x, y = (tf.constant(a) for a in task.split("train"))
            order = tf.range(len(task.split("train")[1]))
            learner.train_epoch(x, y, order, experiment.train.learning_rate)

    assert warnings_while(learn_all) == []


def test_other_functions_still_warn():
    def retrace_one_function():
        for n in range(1, TASKS + 1):
            tf.function(lambda x: x * 2)(tf.zeros(n))

    kept = warnings_while(retrace_one_function)
    assert kept and "triggered tf.function retracing" in kept[0]


def test_the_filter_drops_only_per_task_names():
    def record(message):
        return logging.LogRecord(
            "tensorflow", logging.WARNING, "", 0, message, (), None
        )

    keep = PerTaskRetracing().filter
    ours = "5 out of the last 6 calls to <bound method TaskLearner._train_epoch of"
    assert not keep(record(ours + " x> triggered tf.function retracing."))
    assert keep(
        record(
            "5 out of the last 6 calls to <function f> triggered tf.function retracing."
        )
    )
    assert keep(record("TaskLearner._train_epoch: something else"))
