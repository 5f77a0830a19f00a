"""Command line: `python -m dfcnn_tf.lifelong` runs one experiment (lifelong or MTL).

Example (a few minutes on 2 CPU cores, real CIFAR-100):

    python -m dfcnn_tf.lifelong --preset cifar100_10_quick --data-dir ../shared/data
"""

import argparse
import dataclasses
import sys

import pandas as pd

from dfcnn_tf.config_file import read_experiment
from dfcnn_tf.errors import CheckpointError, ConfigError, DataError, TrainingError
from dfcnn_tf.overrides import apply_overrides
from dfcnn_tf.presets import PRESETS, get_preset, preset_models
from dfcnn_tf.protocols import get_protocol
from dfcnn_tf.registry import get_model_class

DEFAULT_PRESET = "cifar100_10_quick"
DEFAULT_MODEL = "dfcnn"


def build_parser():
    """The argument parser; `--help` documents every option."""
    parser = argparse.ArgumentParser(
        prog="python -m dfcnn_tf.lifelong",
        description="Train a lifelong model on a sequence of tasks and write its "
        "accuracy history, resolved configuration and metrics.",
    )
    add = parser.add_argument
    add(
        "--preset",
        help=f"experiment preset (default: {DEFAULT_PRESET}); one of "
        f"{', '.join(PRESETS)}",
    )
    add(
        "--config",
        metavar="FILE",
        help="experiment file (JSON of a resolved experiment, e.g. the "
        "best_config.json of python -m tuning.search, or a run's config.json); "
        "it replaces --preset, and --model, --seed and --set still override it",
    )
    add(
        "--model",
        help="registered model, or several separated by commas (default: "
        f"{DEFAULT_MODEL}, or the --config file's); of " + ", ".join(preset_models()),
    )
    add(
        "--seed",
        type=int,
        help="seed of data subsets, task order, initialisation and dropout "
        "(default: 0, or the --config file's)",
    )
    add(
        "--seeds",
        type=parse_seeds,
        help="several trials, e.g. 0-4 or 0,3,7 (overrides --seed); a run already "
        "finished in --out with the same configuration and seed is not redone",
    )
    add(
        "--protocol",
        choices=("lifelong", "mtl"),
        help="lifelong (tasks in sequence) or mtl (all tasks together, one random "
        "task per epoch); default: the preset's",
    )
    _add_schedule_and_output_options(add)
    return parser


def _add_schedule_and_output_options(add):
    """Options of the schedule, the data folder, the output and the display."""
    add("--epochs-per-task", type=int, help="override the preset's epochs per task")
    add(
        "--eval-every",
        type=int,
        help="evaluate every seen task every N epochs (and at each task's end)",
    )
    add(
        "--data-dir",
        help="folder with local array files (e.g. cifar100.npz); default: "
        "$DFCNN_DATA_DIR, else download with tensorflow-datasets",
    )
    add("--out", default="results", help="results folder (default: %(default)s)")
    add(
        "--format",
        choices=("csv", "parquet"),
        default="csv",
        help="history table format (default: %(default)s)",
    )
    add(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any config field, e.g. --set train.learning_rate=1e-3 "
        "(repeatable; an unknown key lists the valid ones)",
    )
    add("--quiet", action="store_true", help="no per-task/epoch progress display")
    add(
        "--no-tensorboard",
        dest="tensorboard",
        action="store_false",
        default=None,
        help="write no TensorBoard log (default: <run dir>/tensorboard)",
    )


def parse_seeds(text):
    """`"0-4"` -> [0, 1, 2, 3, 4]; `"0,3,7"` -> [0, 3, 7]."""
    seeds = []
    try:
        for part in text.split(","):
            first, _, last = part.strip().partition("-")
            seeds += list(range(int(first), int(last or first) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seeds takes ranges and lists like 0-4 or 0,3,7. Received: {text!r}"
        ) from None
    return seeds


def resolve(args):
    """The `Experiment`s the parsed arguments describe, one per model and seed.

    Everything is resolved and validated before anything runs.
    """
    models = [None]
    if args.model is not None:
        models = [name.strip() for name in args.model.split(",") if name.strip()]
    seeds = args.seeds if args.seeds is not None else [args.seed]
    return [resolve_one(args, m, seed) for m in models for seed in seeds]


def resolve_one(args, model, seed):
    """The `Experiment` of one model and seed (shortcut options, then --set).

    `model` or `seed` None means the default (or the --config file's).
    """
    experiment = base_experiment(args, model, seed)
    shortcuts = {
        "train.protocol": args.protocol,
        "train.epochs_per_task": args.epochs_per_task,
        "train.eval_every": args.eval_every,
        "data.data_dir": args.data_dir,
        "train.tensorboard": args.tensorboard,
    }
    assignments = [f"{k}={v!r}" for k, v in shortcuts.items() if v is not None]
    return apply_overrides(experiment, assignments + args.set)


def base_experiment(args, model, seed):
    """The preset's (or the --config file's) experiment for `model` and `seed`.

    With --config, another `model` takes its configuration from the file's
    preset; data, training and seed stay the file's.

    Raises:
        ConfigError: for an unknown model or preset, a malformed file, or
            --preset given together with --config.
    """
    if model is not None:
        get_model_class(model)  # unknown names list every registered model
    if args.config is None:
        preset = get_preset(args.preset or DEFAULT_PRESET)
        return preset.experiment(model or DEFAULT_MODEL, seed or 0)
    if args.preset is not None:
        raise ConfigError(
            "--preset cannot be combined with --config (the file names its preset)"
        )
    experiment = read_experiment(args.config)
    if model is not None and model != experiment.model.name:
        config = get_preset(experiment.preset).experiment(model).model
        experiment = dataclasses.replace(experiment, model=config)
    if seed is not None:
        experiment = dataclasses.replace(experiment, seed=seed)
    return experiment


def print_summary(result, stream=None):
    """Prints the per-task table and the run's summary metrics."""
    stream = stream or sys.stdout
    per_task = get_protocol(result.protocol).per_task(result.history)
    reused = " (finished before: read back)" if result.reused else ""
    with pd.option_context("display.float_format", "{:.4f}".format):
        title = f"\nper-task metrics ({result.run_dir.name}, test split){reused}:"
        print(title, file=stream)
        print(per_task.to_string(), file=stream)
        print("\nsummary:", file=stream)
        print(result.summary.to_string(), file=stream)


def main(argv=None):
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    from dfcnn_tf.experiment import run_experiment  # heavy: TensorFlow

    try:
        experiments = resolve(args)
        results = []
        for experiment in experiments:
            results.append(
                run_experiment(experiment, args.out, args.quiet, args.format)
            )
            print_summary(results[-1])
    except (ConfigError, DataError, CheckpointError) as error:
        print_error(error)
        return 2
    except TrainingError as error:
        print_error(error)
        return 1
    if len(results) > 1:
        print_aggregate(results)
    return 0


def print_error(error, stream=None):
    """Prints `error: <first line of the message>`; a longer message's other
    lines (e.g. where to put a data set) follow, indented, as details."""
    first, *details = str(error).splitlines() or [""]
    print(f"error: {first}", file=stream or sys.stderr)
    for line in details:
        print(f"  {line}", file=stream or sys.stderr)


def print_aggregate(results, stream=None):
    """Prints mean and 95% CI over trials per model (Figure 3(a) layout)."""
    from dfcnn_tf.aggregate import format_table, summary_table

    frames = []
    for result in results:
        frame = result.history.copy()
        frame["protocol"] = result.protocol
        frames.append(frame)
    table = format_table(summary_table(pd.concat(frames, ignore_index=True)))
    print("\nover trials (mean ± 95% CI):", file=stream or sys.stdout)
    print(table.to_string(), file=stream or sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
