"""The evaluator: per-split accuracy equal to a direct count, for any batch
size, and each task's kernels generated once per evaluation, not per batch."""

import numpy as np
import pytest
import tensorflow as tf

from dfcnn_tf.layers import DFConv2D, TuckerConv2D
from dfcnn_tf.registry import build_model
from dfcnn_tf.training import SPLITS, Evaluator

from ..reliability.tiny import INPUT_SHAPE, tiny_experiment, tiny_tasks

MODELS = ("dfcnn", "dfcnn_tc2", "tf", "stl", "hps", "prognn", "den")


def model_with_tasks(name, tasks):
    model = build_model(tiny_experiment(name).model, INPUT_SHAPE)
    for task in tasks:
        model.add_task(task.num_classes)
    return model


def direct_accuracy(model, task_id, task):
    """Each split through `model(x, task_id)` at once, counted in NumPy."""
    result = {}
    for split in SPLITS:
        x, y = task.split(split)
        predicted = np.argmax(model(x, task_id).numpy(), axis=-1)
        result[split] = np.mean(predicted == y)
    return result


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("batch_size", [1, 7, 35, 1000])
def test_accuracy_equals_a_direct_count(name, batch_size):
    tasks = tiny_tasks(count=2, n_train=20)  # 20 + 6 + 9 = 35 images a task
    model = model_with_tasks(name, tasks)
    evaluator = Evaluator(model, batch_size)
    for task_id, task in enumerate(tasks):
        evaluator.add_task(task)
        expected = direct_accuracy(model, task_id, task)
        assert evaluator.evaluate(task_id) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("name", "layer"), [("dfcnn", DFConv2D), ("tf", TuckerConv2D)])
def test_kernels_generated_once_per_evaluation(name, layer, monkeypatch):
    calls = tf.Variable(0, dtype=tf.int64)
    generate = layer.generate_kernel

    def counted(self):  # counts executions, not traces
        with tf.control_dependencies([calls.assign_add(1)]):
            return tf.identity(generate(self))

    monkeypatch.setattr(layer, "generate_kernel", counted)
    tasks = tiny_tasks(count=1, n_train=20)
    model = model_with_tasks(name, tasks)
    evaluator = Evaluator(model, batch_size=4)  # 9 batches of the 35 images
    evaluator.add_task(tasks[0])
    for evaluation in range(1, 3):
        evaluator.evaluate(0)
        assert int(calls.numpy()) == evaluation * len(model.conv_layers(0))
