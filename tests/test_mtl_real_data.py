"""Multi-task run on real MNIST heterogeneous tasks at 3% (../shared/data)."""

import pytest

from dfcnn_tf import mtl_metrics
from dfcnn_tf.lifelong import main
from dfcnn_tf.results import read_history

pytestmark = pytest.mark.slow

CHANCE_ERROR = 0.5  # binary tasks


def test_mnist_hetero_mtl_error_well_below_chance(data_dir, tmp_path):
    argv = ["--preset", "mnist_hetero", "--model", "dfcnn", "--data-dir", str(data_dir)]
    argv += ["--out", str(tmp_path), "--quiet", "--epochs-per-task", "10"]
    argv += ["--eval-every", "5"]
    assert main(argv) == 0
    # --epochs-per-task changes the preset: the folder name carries a config hash
    [run_dir] = tmp_path.glob("mnist_hetero-dfcnn-seed0-*")
    history = read_history(run_dir)
    assert set(history.task) == set(range(5))
    assert history.epoch.max() == 50
    errors = mtl_metrics.error_rates(history)
    assert (errors["selected_error"] < CHANCE_ERROR / 5).all()  # below 10%
