"""A small search space and a hypermodel whose `fit` trains nothing.

Used by the grid tests and, as a script, by the distributed test:

    python tests/tuning/stub_search.py OUT_DIR MARKER_DIR

runs (or, with the KERASTUNER_* variables set, joins) a grid search of
`small_space()`; every trial writes one marker file into MARKER_DIR.
"""

import json
import os
import sys
import time
import uuid
import zlib
from pathlib import Path

from dfcnn_tf.presets import get_preset
from tuning.hypermodel import LifelongHyperModel
from tuning.objective import OBJECTIVE
from tuning.spaces import SearchSpace, dfcnn_knobs, fc_knobs

PRESET = "cifar100_10_smoke"
MODELS = ("dfcnn", "stl")
DFCNN_KNOBS = ("deconv_stride", "kb_channels_1")
LEARNING_RATES = (1e-3, 1e-4)
#: dfcnn: 2 strides (KB sizes 2 and 3) x 2 KB channels x 2 learning rates;
#: stl: 3 FC sizes x 2 learning rates.
GRID_SIZE = 2 * 2 * 2 + 3 * 2


def small_space():
    """A grid of `GRID_SIZE` points over a DF-CNN and an STL."""
    preset = get_preset(PRESET)
    dfcnn = preset.experiment("dfcnn").model
    knobs = dfcnn_knobs(dfcnn, strides=(2, 1, 4))  # 4: no valid KB for 3x3
    chosen = tuple(k for k in knobs if k.name in DFCNN_KNOBS)
    stl = fc_knobs(preset.experiment("stl").model)
    return SearchSpace(LEARNING_RATES, {"dfcnn": chosen, "stl": stl})


def score(values):
    """A deterministic objective in [0, 1) from the trial's values."""
    text = json.dumps(values, sort_keys=True)
    return zlib.crc32(text.encode()) / 2**32


class StubHyperModel(LifelongHyperModel):
    """`build` is real (registry); `fit` returns `score(values)` at once.

    Args:
        marker_dir: if given, every `fit` writes a JSON file there holding
            the trial's values, the resolved experiment and the tuner id.
        delay_s: seconds each `fit` sleeps (lets parallel workers overlap).
    """

    def __init__(self, marker_dir=None, delay_s=0.0):
        experiments = {m: get_preset(PRESET).experiment(m) for m in MODELS}
        super().__init__(experiments, small_space(), input_shape=(32, 32, 3))
        self.marker_dir = marker_dir
        self.delay_s = delay_s
        self.calls = []

    def fit(self, hp, model, *args, trial_dir=None, **kwargs):
        """Records the call; returns the deterministic objective."""
        values = dict(hp.values)
        self.calls.append(values)
        time.sleep(self.delay_s)
        if self.marker_dir is not None:
            record = {
                "values": values,
                "experiment": self.experiment(hp).to_dict(),
                "tuner_id": os.environ.get("KERASTUNER_TUNER_ID", "tuner0"),
                "model_class": type(model).__name__,
            }
            path = Path(self.marker_dir) / f"{uuid.uuid4().hex}.json"
            path.write_text(json.dumps(record))
        return {OBJECTIVE: score(values)}


def main(argv):
    """`OUT_DIR MARKER_DIR`: runs or joins the stub grid search."""
    from tuning.search import run_search

    out_dir, marker_dir = argv
    Path(marker_dir).mkdir(parents=True, exist_ok=True)
    hypermodel = StubHyperModel(marker_dir, delay_s=0.5)
    _, table, _ = run_search(hypermodel, out_dir, "grid", verbose=0)
    if table is not None:
        print(f"chief exported {len(table)} trials")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
