"""Command line: `python -m tuning.search` runs a validation grid search.

Example (two smoke-sized trials on real CIFAR-100):

    python -m tuning.search --preset cifar100_10_smoke --model dfcnn \\
        --max-trials 2 --out tuned --data-dir ../shared/data \\
        --set train.epochs_per_task=1 --set data.num_tasks=2

Re-running the same command continues the search in `--out` (finished
trials are never redone). The folder then holds `trials.csv` (best first)
and `best_config.json`, which `python -m dfcnn_tf.lifelong --config` runs.
With KERASTUNER_TUNER_ID / KERASTUNER_ORACLE_IP / KERASTUNER_ORACLE_PORT set,
the process is the chief oracle or one worker of a distributed search
(docs/tuning.md).
"""

import argparse
import json
import os
import sys
from pathlib import Path

from dfcnn_tf.cli import ArgumentParser
from dfcnn_tf.errors import ConfigError, DataError
from dfcnn_tf.overrides import apply_overrides
from dfcnn_tf.presets import PRESETS, get_preset, model_method
from dfcnn_tf.registry import get_model_class
from dfcnn_tf.tf_import import import_tensorflow
from tuning.spaces import search_space

SPEC_FILE = "search_spec.json"
TUNERS = ("grid", "random", "bayesian")


def build_parser():
    """The argument parser; `--help` documents every option."""
    parser = ArgumentParser(
        prog="python -m tuning.search",
        description="Grid (or random / Bayesian) search of a preset's model sizes "
        "and learning rate on mean validation accuracy over tasks.",
    )
    add = parser.add_argument
    add("--preset", required=True, help=f"one of {', '.join(PRESETS)}")
    add("--model", default="dfcnn", help="model(s) to search, comma-separated")
    add(
        "--max-trials",
        type=_positive_int,
        help="stop after N trials in all (default: the whole grid; random and "
        "Bayesian search: 10); a larger N extends a finished search",
    )
    add("--out", required=True, help="search folder (resumed if it exists)")
    add("--tuner", choices=TUNERS, default="grid", help="default: %(default)s")
    add("--data-dir", help="folder with the data files (e.g. cifar100.npz)")
    add(
        "--data",
        metavar="SPEC",
        help="your own data (tfds:NAME, folder:PATH, npz:FILE) cut into tasks of "
        "2 classes (--set data.classes_per_task=K); --preset gives the "
        "architecture and the search space",
    )
    add("--seed", type=int, default=0, help="seed of every trial's run")
    add(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field for every trial; a searched field set "
        "here is fixed (left out of the search)",
    )
    add("--overwrite", action="store_true", help="start the search over")
    add("--progress", action="store_true", help="show per-epoch progress")
    return parser


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer. Received: {text!r}"
        )
    return value


def resolve(args):
    """The base `Experiment` per model and the `SearchSpace` of the arguments."""
    models = [name.strip() for name in args.model.split(",") if name.strip()]
    get_preset(args.preset)  # an unknown preset lists the valid ones
    experiments = {}
    shortcut = [f"data.data_dir={args.data_dir!r}"] if args.data_dir else []
    for model in models:
        protocols = get_model_class(model_method(model)).protocols
        experiment = _base_experiment(args, model)
        experiment = apply_overrides(experiment, shortcut + args.set)
        if experiment.train.protocol not in protocols:
            raise ConfigError(
                f"Model {model!r} supports only protocol {' or '.join(protocols)}. "
                f"Received: train.protocol={experiment.train.protocol!r}"
            )
        experiments[model] = experiment
    fixed = [item.partition("=")[0].strip() for item in args.set]
    return experiments, search_space(args.preset, models).without(fixed)


def _base_experiment(args, model):
    """The preset's experiment, or its architecture on `--data`."""
    if getattr(args, "data", None) is None:
        return get_preset(args.preset).experiment(model, args.seed)
    from dfcnn_tf.own_data import own_data_experiment

    return own_data_experiment(args.data, args.preset, model, args.seed)


def check_spec(out_dir, args, overwrite=False):
    """Records the search's settings in `out_dir`; refuses to mix two searches.

    Raises:
        ConfigError: if `out_dir` holds a search with other settings.
    """
    spec = {
        "preset": args.preset,
        "model": args.model,
        "tuner": args.tuner,
        "seed": args.seed,
        "set": list(args.set),
    }
    if getattr(args, "data", None) is not None:
        spec["data"] = args.data
    path = Path(out_dir) / SPEC_FILE
    if overwrite and _is_worker():
        raise ConfigError(
            "--overwrite is for the chief or a lone search, never a "
            "worker (it would delete the shared search folder)"
        )
    if path.exists() and not overwrite:
        old = json.loads(path.read_text())
        if old != spec:
            raise ConfigError(
                f"{out_dir} holds another search ({old}); use another --out, the "
                f"same options, or --overwrite. Received: {spec}"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec, indent=2) + "\n")


def run_search(hypermodel, out_dir, kind="grid", max_trials=None, verbose=1, **kwargs):
    """Runs (or resumes) a search; the chief or a lone process exports results.

    Args:
        hypermodel: the `LifelongHyperModel`.
        out_dir: the search folder.
        kind: "grid", "random" or "bayesian".
        max_trials: stop after this many trials (None: the oracle's default).
        verbose: 1 prints KerasTuner's summary of every trial, 0 nothing.
        **kwargs: `make_tuner` arguments (`overwrite`, `seed`).

    Returns:
        `(tuner, table, best_config_path)`; table and path are None on a
        distributed worker.
    """
    from tuning.export import export
    from tuning.tuner import make_tuner

    tuner = make_tuner(hypermodel, out_dir, kind, max_trials, **kwargs)
    tuner.search(verbose=verbose)
    if _is_worker():
        return tuner, None, None
    table, path = export(tuner, out_dir)
    return tuner, table, path


def _is_worker():
    role = os.environ.get("KERASTUNER_TUNER_ID", "")
    return "KERASTUNER_ORACLE_IP" in os.environ and "chief" not in role


def main(argv=None):
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    import_tensorflow()
    from tuning.hypermodel import LifelongHyperModel  # heavy: TensorFlow

    try:
        experiments, space = resolve(args)
        check_spec(args.out, args, args.overwrite)
        hypermodel = LifelongHyperModel(experiments, space, quiet=not args.progress)
        _, table, path = run_search(
            hypermodel,
            args.out,
            args.tuner,
            args.max_trials,
            overwrite=args.overwrite,
            seed=args.seed + 1,  # KerasTuner reads seed 0 as "pick one"
        )
    except (ConfigError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:  # e.g. KerasTuner: too many failed trials
        print(f"error: {error}", file=sys.stderr)
        return 1
    _report(table, path)
    return 0


def _report(table, path):
    from dfcnn_tf.units import table_text  # the valid accuracy in %

    if table is None:
        print("worker finished: the chief writes the results")
        return
    print(table_text(table.head(10), float_format=None, index=False))
    if path is None:
        print("no trial finished: no best configuration yet", file=sys.stderr)
        return
    print(f"\nbest configuration: {path}")
    print(f"run it: python -m dfcnn_tf.lifelong --config {path}")


if __name__ == "__main__":
    sys.exit(main())
