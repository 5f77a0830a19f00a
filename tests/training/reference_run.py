"""A fixed-seed short lifelong run of every model on real CIFAR-100, recorded.

The speed work (issue 7) must not change what a run computes, only how fast.
`reference_history.csv` holds the accuracies of this run and
`reference_logits.csv` the logits of task 1's first test images after it,
both written by the code *before* any optimisation; `test_reference_run.py`
repeats the run and compares.

The run is short on purpose, one step per task: a change in the order of
summation moves weights by ~1e-7, but within a few steps of the DF-CNN a
handful of gradient entries jump (a max-pool or ReLU decision near a tie
flips), RMSProp's normalised steps spread that, and after one epoch of 17
steps weights differ by ~1e-4 and accuracies by a few images, as they do
between machines. A 1e-7 nudge to one bias in the unchanged code does the
same. So a long run can be compared only in its statistics.
Rewrite the files only for a change meant to alter the numbers,
and say so in the commit and here; naming models rewrites only their rows:

    python -m tests.training.reference_run ../shared/data [MODEL ...]

Re-recorded once since, for the DF-CNN models only (dfcnn, dfcnn_small,
dfcnn_tc2, dfcnn_direct; issue 15): their conv bias and deconvolution bias
now start Glorot-uniform as the released code draws them (docs/method.md,
section "Initialisation"), not at 0.2 and over the bias's own shape. The other
models' rows are those recorded before the optimisation work.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from dfcnn_tf.experiment import prepare
from dfcnn_tf.overrides import apply_overrides
from dfcnn_tf.presets import get_preset
from dfcnn_tf.training import train_lifelong

HERE = Path(__file__).parent
HISTORY = HERE / "reference_history.csv"
LOGITS = HERE / "reference_logits.csv"
KEYS = ["model", "task", "training_task", "epoch", "split"]
LOGIT_IMAGES = 8
SCHEDULE = [
    "data.num_tasks=3",
    "train.epochs_per_task=1",
    "train.batch_size=170",  # one step per epoch: see above
    "train.eval_batch_size=500",  # several batches per task: 1,200 images each
    "train.learning_rate=1e-4",  # the paper's
]


def run_model(model, data_dir):
    """The reference run of `model`: its history and task 1's final logits."""
    experiment = get_preset("cifar100_10_smoke").experiment(model, seed=7)
    experiment = apply_overrides(
        experiment, [f"data.data_dir={str(data_dir)!r}", *SCHEDULE]
    )
    tasks, lifelong_model = prepare(experiment)
    rows = train_lifelong(lifelong_model, tasks, experiment.train, experiment.seed)
    history = pd.DataFrame(rows).assign(model=model)[[*KEYS, "accuracy"]]
    logits = lifelong_model(tasks[0].x_test[:LOGIT_IMAGES], 0).numpy()
    return history, pd.DataFrame(
        {
            "model": model,
            "image": np.repeat(np.arange(LOGIT_IMAGES), logits.shape[1]),
            "logit": logits.ravel(),
        }
    )


def reference_run(data_dir, models=None):
    """The reference runs of `models` (default: every model recorded).

    Returns:
        `(history, logits)` tables.
    """
    models = models or list(pd.unique(pd.read_csv(HISTORY).model))
    runs = [run_model(name, data_dir) for name in models]
    return tuple(
        pd.concat(parts, ignore_index=True) for parts in zip(*runs, strict=True)
    )


def _replace_rows(path, new, models, float_format=None):
    """Rewrites `path` with the rows of `models` taken from `new`, in place."""
    old = pd.read_csv(path)
    parts = [
        new[new.model == name] if name in models else old[old.model == name]
        for name in pd.unique(pd.concat([old.model, new.model]))
    ]
    table = pd.concat(parts, ignore_index=True)
    table.to_csv(path, index=False, float_format=float_format)


def main(data_dir, *models):
    history, logits = reference_run(data_dir, list(models) or None)
    if models:
        _replace_rows(HISTORY, history, models)
        _replace_rows(LOGITS, logits, models, float_format="%.9g")
    else:
        history.to_csv(HISTORY, index=False)
        logits.to_csv(LOGITS, index=False, float_format="%.9g")
    print(f"wrote {HISTORY} and {LOGITS}")


if __name__ == "__main__":
    main(*sys.argv[1:])
