"""A fixed-seed short lifelong run of every model on real CIFAR-100, recorded.

The speed work (issue 7) must not change what a run computes.
`reference_history.csv` holds the accuracies this run gave *before* any
optimisation; `test_reference_run.py` repeats the run and compares. Rewrite
the file only for a change that is meant to alter the numbers, and say so in
the commit:

    python -m tests.training.reference_run ../shared/data
"""

import sys
import tempfile
from pathlib import Path

import pandas as pd

from dfcnn_tf.experiment import run_experiment
from dfcnn_tf.overrides import apply_overrides
from dfcnn_tf.presets import get_preset
from dfcnn_tf.registry import model_names

REFERENCE = Path(__file__).with_name("reference_history.csv")
KEYS = ["model", "task", "training_task", "epoch", "split"]
SCHEDULE = [
    "data.num_tasks=2",
    "train.epochs_per_task=3",
    "train.eval_every=1",
    "train.eval_batch_size=500",  # several batches per task: 1,200 images each
]


def run_model(model, data_dir, out_dir):
    """The reference run of `model`: its history as `KEYS` + accuracy."""
    experiment = get_preset("cifar100_10_smoke").experiment(model, seed=7)
    overrides = [f"data.data_dir={str(data_dir)!r}", *SCHEDULE]
    result = run_experiment(apply_overrides(experiment, overrides), out_dir, True)
    history = result.history.assign(model=model)
    return history[[*KEYS, "accuracy"]]


def reference_history(data_dir):
    """Every registered model's reference run, in fresh folders."""
    with tempfile.TemporaryDirectory() as out_dir:  # never reuse a finished run
        frames = [run_model(name, data_dir, out_dir) for name in model_names()]
    return pd.concat(frames, ignore_index=True)


def main(data_dir):
    reference_history(data_dir).to_csv(REFERENCE, index=False)
    print(f"wrote {REFERENCE}")


if __name__ == "__main__":
    main(*sys.argv[1:])
