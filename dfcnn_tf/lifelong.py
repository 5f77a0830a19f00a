"""Command line: `python -m dfcnn_tf.lifelong` runs one experiment (lifelong or MTL).

Example (a few minutes on 2 CPU cores, real CIFAR-100):

    python -m dfcnn_tf.lifelong --preset cifar100_10_quick --data-dir ../shared/data
"""

import dataclasses
import signal
import sys

from dfcnn_tf.cli import (
    BAD_INPUT,
    FAILED,
    ArgumentParser,
    check_out,
    describe_os_error,
    model_destinations,
    parse_seed,
    parse_seeds,
    print_error,
    show_notes,
    warn_long,
)
from dfcnn_tf.config import PRECISIONS
from dfcnn_tf.config_file import read_experiment
from dfcnn_tf.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    LearnerError,
    TrainingError,
)
from dfcnn_tf.overrides import apply_overrides
from dfcnn_tf.presets import PRESETS, get_preset, model_method, preset_models
from dfcnn_tf.registry import get_model_class
from dfcnn_tf.tf_import import import_tensorflow

DEFAULT_PRESET = "cifar100_10_quick"
DEFAULT_MODEL = "dfcnn"


def build_parser():
    """The argument parser; `--help` documents every option."""
    parser = ArgumentParser(
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
        type=parse_seed,
        help="seed of data subsets, task order, initialisation and dropout "
        "(data subsets and order: not with data.resample_per_seed=false) "
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
    _add_evaluation_options(add)
    add(
        "--data-dir",
        help="folder with local array files (e.g. cifar100.npz); default: "
        "$DFCNN_DATA_DIR, else download with tensorflow-datasets",
    )
    add(
        "--data",
        metavar="SPEC",
        help="your own data instead of the preset's: tfds:NAME (any "
        "tensorflow-datasets image set), folder:PATH (PATH/<class>/* or "
        "PATH/<domain>/<class>/*), npz:FILE (x_train, y_train[, x_test, y_test]); "
        "the architecture is --preset's, else chosen by image size",
    )
    add(
        "--classes-per-task",
        type=int,
        help="classes per task (data.classes_per_task; with --data: default 2, "
        "and as many tasks as the classes allow)",
    )
    add(
        "--precision",
        choices=PRECISIONS,
        help="train.precision: float32 (default), mixed_bfloat16 (bfloat16 "
        "compute, float32 variables) or bfloat16_eval (bfloat16 evaluation only)",
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
    _add_learner_options(add)


def _add_evaluation_options(add):
    """The two evaluation schedules (docs/method.md, section 'Training')."""
    add(
        "--eval-every",
        type=int,
        help="evaluate every seen task every N epochs (and at each task's end): "
        "sets both --eval-current-every and --eval-all-every",
    )
    add(
        "--eval-current-every",
        type=int,
        help="evaluate the task being trained every N epochs (peak, test "
        "accuracy at best validation, convergence); default: the preset's",
    )
    add(
        "--eval-all-every",
        type=int,
        help="evaluate every seen task every N epochs and at each task's end "
        "(forgetting, accuracy matrix; mtl: its only schedule); default: the "
        "preset's",
    )


def _add_learner_options(add):
    """Options that keep a trained learner or continue a saved one."""
    add(
        "--save-model",
        metavar="PATH",
        help="keep the trained learner in this file at the end of the run (with "
        "several models or seeds: a folder, one <run id>.learner file each); "
        "python -m dfcnn_tf.predict uses it, --from-model continues it",
    )
    add(
        "--from-model",
        metavar="PATH",
        help="continue a saved learner with the next tasks of its task set: its "
        "configuration and seed are the run's (--set, --data-dir, --out still "
        "apply); the run equals one that learned every task without stopping",
    )
    add(
        "--num-tasks",
        type=int,
        help="number of tasks of the task set to learn (data.num_tasks); with "
        "--from-model the default is one more than the learner learned",
    )


def resolve(args):
    """The `Experiment`s the parsed arguments describe, one per model and seed.

    Everything is resolved and validated before anything runs.
    """
    if args.from_model is not None:
        return [continuation(args)]
    models = [None]
    if args.model is not None:
        models = [name.strip() for name in args.model.split(",") if name.strip()]
        if not models:
            raise ConfigError(f"--model names no model. Received: {args.model!r}")
    seeds = args.seeds if args.seeds is not None else [args.seed]
    return [
        resolve_one(args, base_experiment(args, m, seed))
        for m in models
        for seed in seeds
    ]


def resolve_one(args, experiment):
    """`experiment` with the shortcut options, then --set, applied."""
    shortcuts = {
        "train.protocol": args.protocol,
        "train.epochs_per_task": args.epochs_per_task,
        "train.eval_every": args.eval_every,
        "train.eval_current_every": args.eval_current_every,
        "train.eval_all_every": args.eval_all_every,
        "data.data_dir": args.data_dir,
        "data.num_tasks": args.num_tasks,
        "train.tensorboard": args.tensorboard,
        "data.classes_per_task": args.classes_per_task,
        "train.precision": args.precision,
    }
    assignments = [f"{k}={v!r}" for k, v in shortcuts.items() if v is not None]
    return apply_overrides(experiment, assignments + args.set)


def continuation(args):
    """The `Experiment` that continues the learner saved in `--from-model`.

    Raises:
        ConfigError: if options that choose another experiment are given.
        LearnerError: if the file is not a readable learner.
    """
    from dfcnn_tf.config_file import experiment_from_dict
    from dfcnn_tf.learner_file import read_record
    from dfcnn_tf.saved_learner import register_kept_source

    chosen = {"--preset": args.preset, "--config": args.config, "--model": args.model}
    chosen |= {"--seed": args.seed, "--seeds": args.seeds}
    given = [name for name, value in chosen.items() if value is not None]
    if given:
        raise ConfigError(
            f"--from-model continues the saved learner's own experiment; drop "
            f"{', '.join(given)}"
        )
    record = read_record(args.from_model)
    experiment = experiment_from_dict(record["experiment"], args.from_model)
    register_kept_source(args.from_model, record, experiment)
    learned = len(record.get("tasks", []))
    if args.num_tasks is None:
        experiment = dataclasses.replace(
            experiment, data=dataclasses.replace(experiment.data, num_tasks=learned + 1)
        )
    return resolve_one(args, experiment)


def base_experiment(args, model, seed):
    """The preset's (or the --config file's) experiment for `model` and `seed`.

    With --config, another `model` takes its configuration from the file's
    preset; data, training and seed stay the file's.

    Raises:
        ConfigError: for an unknown model or preset, a malformed file, or
            --preset given together with --config.
    """
    if model is not None:
        get_model_class(model_method(model))  # unknown: lists every method
    if args.config is None and args.data is not None:
        from dfcnn_tf.own_data import own_data_experiment

        return own_data_experiment(
            args.data,
            args.preset,
            model or DEFAULT_MODEL,
            seed or 0,
            args.classes_per_task,
        )
    if args.config is None:
        preset = get_preset(args.preset or DEFAULT_PRESET)
        return preset.experiment(model or DEFAULT_MODEL, seed or 0)
    if args.preset is not None or args.data is not None:
        option = "--preset" if args.preset is not None else "--data"
        raise ConfigError(
            f"{option} cannot be combined with --config (the file names its "
            "preset and data)"
        )
    experiment = read_experiment(args.config)
    if model is not None and model != experiment.model.name:
        config = get_preset(experiment.preset).experiment(model).model
        experiment = dataclasses.replace(experiment, model=config)
    if seed is not None:
        experiment = dataclasses.replace(experiment, seed=seed)
    return experiment


def print_summary(result, stream=None):
    """Prints the per-task table and the run's summary metrics (accuracies in
    %, backward transfer in points: `dfcnn_tf.units`)."""
    from dfcnn_tf.protocols import get_protocol  # pandas: not needed for --help
    from dfcnn_tf.units import table_text

    stream = stream or sys.stdout
    per_task = get_protocol(result.protocol).per_task(result.history)
    reused = " (finished before: read back)" if result.reused else ""
    title = f"\nper-task metrics ({result.run_dir.name}, test split){reused}:"
    print(title, file=stream)
    print(table_text(per_task), file=stream)
    print("\nsummary:", file=stream)
    print(table_text(result.summary), file=stream)


def main(argv=None):
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    tf = import_tensorflow()
    show_notes()
    from dfcnn_tf.experiment import run_experiment  # heavy: TensorFlow
    from dfcnn_tf.results import run_id
    from dfcnn_tf.training.interrupt import Interrupted

    try:
        check_out(args.out)
        experiments = resolve(args)
        warn_long(experiments)
        destinations = model_destinations(args.save_model, experiments, run_id)
        results = []
        for experiment, destination in zip(experiments, destinations, strict=True):
            results.append(
                run_experiment(
                    experiment,
                    args.out,
                    args.quiet,
                    args.format,
                    save_model=destination,
                    from_model=args.from_model,
                )
            )
            print_summary(results[-1])
    except (ConfigError, DataError, CheckpointError, LearnerError) as error:
        print_error(error)
        return BAD_INPUT
    except TrainingError as error:
        print_error(error)
        return FAILED
    except Interrupted as error:
        print_error(error)
        return error.exit_code
    except KeyboardInterrupt:
        print_error(
            "interrupted at once (a second signal); rerun the same "
            "command to resume from the last checkpoint"
        )
        return 128 + signal.SIGINT
    except OSError as error:
        print_error(describe_os_error(error))
        return FAILED
    except tf.errors.OpError as error:
        print_error(f"TensorFlow: {type(error).__name__}: {error.message}")
        return FAILED
    if len(results) > 1:
        print_aggregate(results)
    return 0


def print_aggregate(results, stream=None):
    """Prints mean and 95% CI over trials per model (Figure 3(a) layout)."""
    import pandas as pd  # not needed for --help

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
