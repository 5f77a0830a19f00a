"""The speed work changes no result: a fixed-seed run repeats the recorded one.

`reference_history.csv` was written by `reference_run.py` before any
optimisation of the training step or the evaluation (issue 7); every model's
accuracies, at every epoch, task and split, must come out the same.
"""

import numpy as np
import pandas as pd
import pytest

from .reference_run import KEYS, REFERENCE, reference_history

pytestmark = pytest.mark.slow


def test_every_model_repeats_the_recorded_accuracies(data_dir):
    expected = pd.read_csv(REFERENCE)
    actual = reference_history(data_dir)
    merged = expected.merge(actual, on=KEYS, how="outer", suffixes=("", "_now"))
    assert len(merged) == len(expected) == len(actual)
    np.testing.assert_array_equal(merged.accuracy_now, merged.accuracy)
