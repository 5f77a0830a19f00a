"""Speed of the paper's CIFAR-100 lifelong protocol (issue 7): prints tables.

    python -m benchmarks.speed [--repeats 20] [--full-epochs 3] [--data-dir DIR]
        [--precision-repeats 10]

0. The CPU (family, model, the flags that matter) and its arithmetic limits
   (`benchmarks.cpu`).

1. Training step (batch 10, the cifar100_10 preset), DF-CNN and the plain
   CNN of identical shape (STL), and their ratio.
2. One "protocol epoch": 17 training steps + accuracy of every task on its
   train/valid/test splits (10 tasks: 12,000 images), as the paper recorded
   it every epoch; also with the seen tasks only, and where the time goes.
3. Evaluation throughput (images/s) of one task's 1,200 images, DF-CNN vs
   STL, and peak memory.
4. A full run through the real loop on real CIFAR-100 (synthetic images of
   the same shape if the data folder is missing), wall time per epoch.
5. Precision modes side by side (`train.precision`): the same protocol epoch
   (17 steps + all 10 tasks evaluated) under each mode, interleaved in this
   one process: ms/step, evaluation images/s and GFLOP/s against the CPU's
   limits, the all-task epoch and its speed-up over float32.
6. Projected wall time of one paper-protocol trial (10 tasks x 2,000 epochs)
   under each precision and evaluation schedule, from section 5's training
   epoch and per-task evaluation times.

Everything runs as runs do: TensorFlow op determinism on, TF1 RMSProp, the
code paths of `dfcnn_tf.training`. Medians over `--repeats` interleaved
repetitions (this machine's timings wander by 10-20% from one second to the
next). Data of sections 1-3 are random tensors of the real shapes: the cost
does not depend on the pixel values.
"""

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from benchmarks.cpu import cpu_info, describe, limits
from benchmarks.machine import machine, peak_memory
from dfcnn_tf.data import Task, build_cifar100_tasks, load_arrays
from dfcnn_tf.precision import PRECISIONS
from dfcnn_tf.presets import get_preset
from dfcnn_tf.registry import build_model
from dfcnn_tf.training import Evaluator, TaskLearner, make_optimizer, train_lifelong
from dfcnn_tf.training.loop import record_evaluation

PRESET = get_preset("cifar100_10")
TRAIN = PRESET.train
NUM_TASKS = PRESET.data.num_tasks
STEPS = 17  # 170 training images in batches of 10
SIZES = {"train": 170, "valid": 30, "test": 1000}


def synthetic_task(task_id, rng):
    """A task of random images with the real split sizes."""

    def split(n):
        x = rng.normal(size=(n, 32, 32, 3)).astype("float32")
        return x, rng.integers(0, 10, n).astype("int64")

    splits = [a for n in SIZES.values() for a in split(n)]
    return Task(task_id, tuple(range(10)), *splits)


class Setup:
    """A model with all 10 tasks added, its evaluator and task 10's learner,
    under `precision` (`TrainConfig.precision`) and `eval_batch_size` (the
    preset's by default)."""

    def __init__(self, name, tasks, precision="float32", eval_batch_size=None):
        keras.utils.set_random_seed(0)
        train = dataclasses.replace(TRAIN, precision=precision)
        if eval_batch_size is not None:
            train = dataclasses.replace(train, eval_batch_size=eval_batch_size)
        self.model = build_model(PRESET.models[name], (32, 32, 3))
        self.evaluator = Evaluator.for_train(self.model, train)
        for task in tasks:
            self.model.add_task(task.num_classes)
            self.evaluator.add_task(task)
        last = len(tasks) - 1
        self.learner = TaskLearner.for_task(
            self.model, last, make_optimizer(train), train
        )
        self.x, self.y = (tf.constant(a) for a in tasks[last].split("train"))
        self.rng = np.random.default_rng(0)

    def train_epoch(self):
        """Seconds of one training epoch (17 steps) of the last task."""
        order = tf.constant(self.rng.permutation(len(self.y)), tf.int32)
        start = time.perf_counter()
        self.learner.train_epoch(self.x, self.y, order, TRAIN.learning_rate)
        return time.perf_counter() - start

    def evaluate(self, task_ids):
        """Seconds to record the accuracy of `task_ids` as the loop does."""
        start = time.perf_counter()
        record_evaluation(self.evaluator, task_ids, (0, 1, 1, "all"), start, [])
        return time.perf_counter() - start


def interleaved(measures, repeats):
    """Median seconds of each `{name: callable}`, run in turns after a warm-up."""
    times = {name: [] for name in measures}
    for measure in measures.values():
        measure()  # compiles
    for _ in range(repeats):
        for name, measure in measures.items():
            times[name].append(measure())
    return {name: statistics.median(values) for name, values in times.items()}


def step_table(setups, repeats):
    times = interleaved({n: s.train_epoch for n, s in setups.items()}, repeats)
    step = {name: seconds / STEPS * 1e3 for name, seconds in times.items()}
    print("\n## 1. Training step (batch 10, task 10 of 10)\n")
    print("| model | ms/step | ratio to STL |\n|---|---|---|")
    for name, ms in step.items():
        print(f"| {name} | {ms:.2f} | {ms / step['stl']:.2f} |")


def protocol_table(setup, repeats):
    all_tasks, first = range(NUM_TASKS), range(1)
    measures = {
        "train": setup.train_epoch,
        "evaluate all 10 tasks": lambda: setup.evaluate(all_tasks),
        "evaluate task 1 only": lambda: setup.evaluate(first),
    }
    times = interleaved(measures, repeats)
    train, every, one = times.values()
    mean_seen = (NUM_TASKS + 1) / 2  # tasks seen, averaged over the run
    print("\n## 2. Protocol epoch, DF-CNN (17 steps + evaluation)\n")
    print("| epoch | training s | evaluation s | total s |\n|---|---|---|---|")
    rows = [
        ("all 10 tasks evaluated (12,000 images)", every),
        ("seen tasks only, run average (5.5 x one task)", one * mean_seen),
        ("seen tasks only, first task (1,200 images)", one),
    ]
    for label, evaluation in rows:
        total = train + evaluation
        print(f"| {label} | {train:.3f} | {evaluation:.3f} | {total:.3f} |")
    per_task = every / NUM_TASKS
    print(
        f"\nWhere the time of the all-task epoch goes: training {train:.3f} s "
        f"({train / STEPS * 1e3:.1f} ms x 17 steps), evaluation {every:.3f} s "
        f"({per_task * 1e3:.0f} ms per task of 1,200 images, "
        f"{12000 / every:,.0f} images/s)."
    )


def throughput_table(setups, repeats):
    measures = {n: (lambda s=s: s.evaluate(range(1))) for n, s in setups.items()}
    times = interleaved(measures, repeats)
    rate = {name: 1200 / seconds for name, seconds in times.items()}
    print("\n## 3. Evaluation throughput (one task: 1,200 images, batch 2,000)\n")
    print("| model | images/s | ratio to STL |\n|---|---|---|")
    for name, value in rate.items():
        print(f"| {name} | {value:,.0f} | {value / rate['stl']:.2f} |")
    print(f"\nPeak memory of this process: {peak_memory()}.")


def full_run_table(tasks, epochs, source):
    train = dataclasses.replace(
        TRAIN, epochs_per_task=epochs, eval_current_every=1, eval_all_every=1
    )
    keras.utils.set_random_seed(0)
    model = build_model(PRESET.models["dfcnn"], (32, 32, 3))
    start = time.perf_counter()
    rows = train_lifelong(model, tasks, train, seed=0)
    wall = time.perf_counter() - start
    steady = steady_epoch_seconds(pd.DataFrame(rows))
    print(f"\n## 4. Full run, DF-CNN, {source}, seen tasks evaluated every epoch\n")
    print("| epochs per task | wall s | s/epoch, end to end | s/epoch, steady |")
    print("|---|---|---|---|")
    per_epoch = wall / (epochs * len(tasks))
    print(f"| {epochs} | {wall:.1f} | {per_epoch:.3f} | {steady:.3f} |")
    hours = steady * PRESET.train.epochs_per_task * len(tasks) / 3600
    print(
        "\nEnd to end includes compiling each task's training and evaluation "
        "functions (once per task); steady = median epoch after a task's "
        f"first. At the steady rate the paper's protocol (2,000 epochs per "
        f"task) takes {hours:.1f} h per trial."
    )


def steady_epoch_seconds(history):
    """Median seconds between evaluations, leaving out each task's first epoch."""
    ends = history.groupby(["training_task", "task_epoch"]).time.max()
    durations = ends.groupby(level="training_task").diff().dropna()
    return float(durations.median())


def forward_flops(config, shape=(32, 32, 3), classes=10):
    """FLOP (2 per multiply-add) of one image's forward pass through the
    convolutions and FC layers of `config` (kernel generation excluded)."""
    height, width, channels = shape
    flops = 0
    for spec in config.conv:
        flops += 2 * height * width * spec.kernel**2 * channels * spec.filters
        height, width = -(-height // spec.pool), -(-width // spec.pool)
        channels = spec.filters
    units = height * width * channels
    for hidden in (*config.fc_hidden, classes):
        flops, units = flops + 2 * units * hidden, hidden
    return flops


def precision_epochs(setups, repeats):
    """Median training-epoch and all-task evaluation seconds per precision: each
    repetition runs one protocol epoch under every precision in turn."""
    all_tasks = range(NUM_TASKS)
    for setup in setups.values():  # compiles
        setup.train_epoch(), setup.evaluate(all_tasks)
    times = {p: {"train": [], "evaluate": [], "epoch": []} for p in setups}
    for _ in range(repeats):
        for precision, setup in setups.items():
            train, evaluate = setup.train_epoch(), setup.evaluate(all_tasks)
            record = times[precision]
            record["train"].append(train)
            record["evaluate"].append(evaluate)
            record["epoch"].append(train + evaluate)
    return {
        p: {k: statistics.median(v) for k, v in measures.items()}
        for p, measures in times.items()
    }


def precision_tables(tasks, repeats):
    setups = {p: Setup("dfcnn", tasks, p) for p in PRECISIONS}
    times = precision_epochs(setups, repeats)
    flops = forward_flops(PRESET.models["dfcnn"])
    print(
        "\n## 5. Precision modes side by side (DF-CNN, all-task protocol epoch, "
        f"medians of {repeats} interleaved repetitions)\n"
    )
    print("| precision | ms/step | evaluation images/s | evaluation GFLOP/s |", end="")
    print(" all-task epoch s | speed-up |\n|---|---|---|---|---|---|")
    base = times["float32"]["epoch"]
    for precision, t in times.items():
        rate = NUM_TASKS * sum(SIZES.values()) / t["evaluate"]
        print(
            f"| {precision} | {t['train'] / STEPS * 1e3:.2f} | {rate:,.0f} | "
            f"{rate * flops / 1e9:,.0f} | {t['epoch']:.3f} | {base / t['epoch']:.2f}x |"
        )
    found = "; ".join(f"{n} {g:,.0f}" for n, (g, _) in limits(cpu_info()).items())
    print(
        f"\nForward pass: {flops / 1e6:.1f} MFLOP per image. Limits: {found} GFLOP/s."
    )
    projection_table(times)


def trial_hours(train, per_task, every_all):
    """Hours of 10 tasks x 2,000 epochs: each epoch trains once and evaluates
    the current task; every `every_all` epochs (and at each task's end) it
    evaluates every seen task instead."""
    epochs, total = PRESET.train.epochs_per_task, 0.0
    for seen in range(1, NUM_TASKS + 1):
        full = epochs // every_all
        total += epochs * (train + per_task) + full * (seen - 1) * per_task
    return total / 3600


def projection_table(times):
    schedules = {
        "every seen task every epoch (the paper's)": 1,
        "current task every epoch, every seen task every 20": 20,
    }
    print("\n## 6. Projected wall time of one paper trial (10 tasks x 2,000 epochs)\n")
    print("| schedule | " + " | ".join(times) + " |")
    print("|---|" + "---|" * len(times))
    for label, every in schedules.items():
        cells = [
            f"{trial_hours(t['train'], t['evaluate'] / NUM_TASKS, every):.2f} h"
            for t in times.values()
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")


def real_tasks(data_dir):
    """The paper's 10 CIFAR-100 tasks, or None if the data file is missing."""
    if not (Path(data_dir) / "cifar100.npz").is_file():
        return None
    return build_cifar100_tasks(load_arrays("cifar100", data_dir), seed=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="timed repetitions")
    parser.add_argument("--full-epochs", type=int, default=3, help="section 4")
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument(
        "--precision-repeats", type=int, default=10, help="sections 5 and 6"
    )
    args = parser.parse_args(argv)
    tf.config.experimental.enable_op_determinism()  # as every run does
    print(f"machine: {machine()}")
    print("\n".join(describe(cpu_info())))
    print(f"command: python -m benchmarks.speed {' '.join(sys.argv[1:])}".rstrip())
    rng = np.random.default_rng(0)
    tasks = [synthetic_task(t, rng) for t in range(NUM_TASKS)]
    setups = {name: Setup(name, tasks) for name in ("dfcnn", "stl")}
    step_table(setups, args.repeats)
    protocol_table(setups["dfcnn"], args.repeats)
    throughput_table(setups, args.repeats)
    real = real_tasks(args.data_dir)
    source = f"real CIFAR-100 ({args.data_dir})" if real else "synthetic images"
    full_run_table(real or tasks, args.full_epochs, source)
    del setups
    precision_tables(tasks, args.precision_repeats)


if __name__ == "__main__":
    main()
