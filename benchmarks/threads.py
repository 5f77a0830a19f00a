"""Thread settings side by side (`train.intra_op_threads`,
`train.inter_op_threads`, `train.eval_batch_size`): prints a table.

    python -m benchmarks.threads [--rounds 5] [--repeats 8]

TensorFlow fixes its thread counts when a process starts, so each setting
runs in a process of its own: every round starts one child process per
setting, in turn, and each child times the DF-CNN's protocol epoch of
`benchmarks.speed` (17 training steps of task 10 at batch 10; one task's
evaluation, 1,200 images; all 10 tasks' evaluation) as medians of
`--repeats` repetitions after a warm-up. The table gives the median over
rounds of each figure, the all-task epoch's speed-up over TensorFlow's
default threads in float32 (the faithful path), and the projected wall time
of one paper trial (10 tasks x 2,000 epochs; current task evaluated every
epoch, every seen task every 20) as section 6 of `benchmarks.speed`
projects it. Op determinism is on, as in every run.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

import numpy as np

# (label, precision, intra-op threads, inter-op threads, evaluation batch);
# 0 threads: TensorFlow's default (one per core)
SETTINGS = (
    ("float32, default threads", "float32", 0, 0, 2000),
    ("float32, 1 thread per op, 2 ops at a time", "float32", 1, 2, 300),
    ("mixed_bfloat16, default threads", "mixed_bfloat16", 0, 0, 2000),
    ("mixed_bfloat16, 1 thread per op, 2 ops at a time", "mixed_bfloat16", 1, 2, 300),
)
FIGURES = ("train", "evaluate_one", "evaluate_all")


def child(precision, intra, inter, eval_batch, repeats):
    """Times one setting in this (fresh) process; prints its medians as JSON."""
    import tensorflow as tf

    if intra:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
    if inter:
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    tf.config.experimental.enable_op_determinism()
    from benchmarks.speed import NUM_TASKS, Setup, synthetic_task

    rng = np.random.default_rng(0)
    tasks = [synthetic_task(t, rng) for t in range(NUM_TASKS)]
    setup = Setup("dfcnn", tasks, precision, eval_batch)
    measures = {
        "train": setup.train_epoch,
        "evaluate_one": lambda: setup.evaluate(range(1)),
        "evaluate_all": lambda: setup.evaluate(range(NUM_TASKS)),
    }
    for measure in measures.values():
        measure()  # compiles
    times = {name: [] for name in measures}
    for _ in range(repeats):
        for name, measure in measures.items():
            times[name].append(measure())
    print(json.dumps({k: statistics.median(v) for k, v in times.items()}))


def run_child(setting, repeats):
    _, precision, intra, inter, eval_batch = setting
    command = [sys.executable, "-m", "benchmarks.threads", "--child"]
    command += [precision, str(intra), str(inter), str(eval_batch), str(repeats)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(results):
    from benchmarks.speed import PRESET, STEPS, trial_hours

    base = results[SETTINGS[0][0]]
    base_epoch = base["train"] + base["evaluate_all"]
    print("| setting | eval batch | ms/step | one task's evaluation | ", end="")
    print("all-task epoch | speed-up | paper trial (split schedule) |")
    print("|---|---|---|---|---|---|---|")
    for label, *_, eval_batch in SETTINGS:
        t = results[label]
        epoch = t["train"] + t["evaluate_all"]
        every_all = PRESET.train.eval_all_every
        hours = trial_hours(t["train"], t["evaluate_one"], every_all)
        print(
            f"| {label} | {eval_batch} | {t['train'] / STEPS * 1e3:.2f} | "
            f"{t['evaluate_one'] * 1e3:.0f} ms | {epoch:.3f} s | "
            f"{base_epoch / epoch:.2f}x | {hours:.2f} h |"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="processes per setting")
    parser.add_argument("--repeats", type=int, default=8, help="timings per process")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        precision, *numbers = args.child
        child(precision, *map(int, numbers))
        return
    from benchmarks.cpu import cpu_info, describe
    from benchmarks.machine import machine

    print(f"machine: {machine()}")
    print("\n".join(describe(cpu_info())))
    print(f"command: python -m benchmarks.threads {' '.join(sys.argv[1:])}".rstrip())
    rounds = {s[0]: [] for s in SETTINGS}
    for _ in range(args.rounds):
        for setting in SETTINGS:
            rounds[setting[0]].append(run_child(setting, args.repeats))
    results = {
        label: {f: statistics.median(r[f] for r in runs) for f in FIGURES}
        for label, runs in rounds.items()
    }
    print(f"\nDF-CNN, medians over {args.rounds} processes per setting:\n")
    table(results)


if __name__ == "__main__":
    main()
