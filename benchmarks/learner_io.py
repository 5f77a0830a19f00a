"""Saving, loading and exporting a 10-task CIFAR-100 learner: time and size.

The learner holds the paper's cifar100_10 model with 10 tasks added (the
DF-CNN: 7,963,252 parameters, its knowledge bases stored once); its weights
are as initialised: time and size do not depend on the values. Save and
load are timed over several repetitions (median); the exported task is one
plain Keras `.keras` file.

    python -m benchmarks.learner_io [--models dfcnn,stl] [--repeats 5]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.machine import machine
from dfcnn_tf.data import Task
from dfcnn_tf.data.normalization import Normalization
from dfcnn_tf.learner import LifelongLearner
from dfcnn_tf.presets import get_preset
from dfcnn_tf.task_info import TaskInfo


def ten_task_learner(model):
    """A learner of the cifar100_10 preset with 10 tasks added (untrained)."""
    learner = LifelongLearner(get_preset("cifar100_10").experiment(model))
    learner._build_model((32, 32, 3))
    statistics_ = Normalization((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
    for task_id in range(10):
        learner.model.add_task(10)
        names = tuple(f"class{task_id}_{c}" for c in range(10))
        task = _empty_task(task_id, names, statistics_)
        learner.tasks.append(TaskInfo.of(task))
    return learner


def _empty_task(task_id, names, normalization):
    x, y = np.zeros((1, 32, 32, 3), np.float32), np.zeros(1, np.int64)
    classes = tuple(range(10 * task_id, 10 * task_id + 10))
    return Task(task_id, classes, x, y, x, y, x, y, "", names, normalization)


def measure(model, repeats, folder):
    """`{measure: value}` of one model's save, load and export."""
    learner = ten_task_learner(model)
    path = Path(folder) / f"{model}.learner"
    save = _median(lambda: learner.save(path), repeats)
    load = _median(lambda: LifelongLearner.load(path), repeats)
    exported = Path(folder) / f"{model}-task1.keras"
    export_model = learner.export_task(0, exported)
    return {
        "parameters": learner.model.count_params(),
        "file MB": path.stat().st_size / 1e6,
        "save s": save,
        "load s": load,
        "task model parameters": export_model.count_params(),
        "task .keras MB": exported.stat().st_size / 1e6,
    }


def _median(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    """Prints a table of the measures per model."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.learner_io")
    parser.add_argument("--models", default="dfcnn,stl,hps")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"# {machine()}")
    print("| model | parameters | file MB | save s | load s | task params | task MB |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for model in args.models.split(","):
            m = measure(model, args.repeats, folder)
            print(
                f"| {model} | {m['parameters']:,} | {m['file MB']:.1f} | "
                f"{m['save s']:.2f} | {m['load s']:.2f} | "
                f"{m['task model parameters']:,} | {m['task .keras MB']:.2f} |"
            )


if __name__ == "__main__":
    main()
