"""Command line: `python -m dfcnn_tf.lifelong` runs one experiment (lifelong or MTL).

Example (a few minutes on 2 CPU cores, real CIFAR-100):

    python -m dfcnn_tf.lifelong --preset cifar100_10_quick --data-dir ../shared/data
"""

import argparse
import sys

import pandas as pd

from dfcnn_tf.errors import ConfigError, DataError, TrainingError
from dfcnn_tf.overrides import apply_overrides
from dfcnn_tf.presets import PRESETS, get_preset
from dfcnn_tf.protocols import get_protocol
from dfcnn_tf.registry import get_model_class, model_names


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
        default="cifar100_10_quick",
        help=f"experiment preset (default: %(default)s); one of {', '.join(PRESETS)}",
    )
    add(
        "--model",
        default="dfcnn",
        help="registered model (default: %(default)s); one of "
        + ", ".join(model_names()),
    )
    add(
        "--seed",
        type=int,
        default=0,
        help="seed of data subsets, task order, initialisation and dropout",
    )
    add(
        "--protocol",
        choices=("lifelong", "mtl"),
        help="lifelong (tasks in sequence) or mtl (all tasks together, one random "
        "task per epoch); default: the preset's",
    )
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
    return parser


def resolve(args):
    """The `Experiment` the parsed arguments describe (validated names/types)."""
    get_model_class(args.model)  # unknown names list every registered model
    experiment = get_preset(args.preset).experiment(args.model, args.seed)
    shortcuts = {
        "train.protocol": args.protocol,
        "train.epochs_per_task": args.epochs_per_task,
        "train.eval_every": args.eval_every,
        "data.data_dir": args.data_dir,
    }
    assignments = [f"{k}={v!r}" for k, v in shortcuts.items() if v is not None]
    return apply_overrides(experiment, assignments + args.set)


def print_summary(result, stream=None):
    """Prints the per-task table and the run's summary metrics."""
    stream = stream or sys.stdout
    per_task = get_protocol(result.protocol).per_task(result.history)
    with pd.option_context("display.float_format", "{:.4f}".format):
        print(f"\nper-task metrics ({result.run_dir.name}, test split):", file=stream)
        print(per_task.to_string(), file=stream)
        print("\nsummary:", file=stream)
        print(result.summary.to_string(), file=stream)


def main(argv=None):
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    from dfcnn_tf.experiment import run_experiment  # heavy: TensorFlow

    try:
        experiment = resolve(args)
        result = run_experiment(experiment, args.out, args.quiet, args.format)
    except (ConfigError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except TrainingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print_summary(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
