"""Per-epoch training time of every model on the cifar100_10 preset.

One epoch = one pass over a task's 170 training images in mini-batches of 10
(17 compiled steps), the paper's CIFAR-100 lifelong protocol, in the first of
the task's training stages (with the method's step hook: EWC's and SI's
penalties, LwF's distillation, A-GEM's projection, replayed memories). Timed
for the first task (1 task added) and the last (10 tasks added; ProgNN's
column then has 9 lateral inputs; the baselines' penalties and memories cover
9 finished tasks). Data are random tensors of the real shapes: the cost
does not depend on the pixel values. "state" counts the values a method keeps
besides its parameters after 10 tasks (EWC's Fisher and anchors, SI's
importance and anchors, LwF's frozen copy, the episodic memory's images and
labels; DEN's masks), all in non-trainable variables.

    python -m benchmarks.epoch_time [--models dfcnn,stl] [--epochs 5]
"""

import argparse
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

from benchmarks.machine import machine
from dfcnn_tf.presets import get_preset
from dfcnn_tf.registry import build_model, model_names
from dfcnn_tf.training import TaskLearner, make_optimizer

PRESET = get_preset("cifar100_10")


def epoch_seconds(name, task_id, epochs):
    """Median wall seconds of one training epoch of task `task_id`."""
    keras.utils.set_random_seed(0)
    train = PRESET.train
    model = build_model(PRESET.models[name], (32, 32, 3))
    for _ in range(task_id + 1):
        model.add_task(10)
    stage = model.training_stages(task_id, epochs + 1)[0]  # with its step hook
    learner = TaskLearner.for_task(model, task_id, make_optimizer(train), train, stage)
    n = PRESET.data.classes_per_task * PRESET.data.train_per_class
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(n, 32, 32, 3)).astype("float32"))
    y = tf.constant(rng.integers(0, 10, n).astype("int64"))
    times = []
    for _ in range(epochs + 1):  # the first epoch compiles
        order = tf.constant(rng.permutation(n), tf.int32)
        start = time.perf_counter()
        learner.train_epoch(x, y, order, train.learning_rate)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(model_names()))
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"command: python -m benchmarks.epoch_time --epochs {args.epochs}")
    print(
        "\n| model | parameters (10 tasks) | state (10 tasks) "
        "| s/epoch, task 1 | s/epoch, task 10 |"
    )
    print("|---|---|---|---|---|")
    for name in args.models.split(","):
        model = build_model(PRESET.models[name], (32, 32, 3))
        for _ in range(10):
            model.add_task(10)
        first = epoch_seconds(name, 0, args.epochs)
        last = epoch_seconds(name, 9, args.epochs)
        params = model.count_params()
        state = sum(int(np.prod(v.shape)) for v in model.non_trainable_weights)
        print(
            f"| {name} | {params:,} | {state:,} | {first:.3f} | {last:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
