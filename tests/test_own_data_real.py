"""Real MNIST through the generic path (`--data npz:mnist.npz`): 5 two-class
tasks reach the accuracy of the built-in heterogeneous task set within 1 point.
"""

import pytest

from dfcnn_tf.lifelong import main
from dfcnn_tf.results import read_history

pytestmark = pytest.mark.slow

SCHEDULE = ["--model", "dfcnn", "--epochs-per-task", "20", "--eval-every", "20"]
# The built-in set's pairs and sizes (3%: 150 train + 30 valid images per class).
GENERIC = [
    "--set", "data.class_groups=[[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]",
    "--set", "data.train_per_class=150",
    "--set", "data.valid_per_class=30",
]  # fmt: skip


def final_test_accuracy(out):
    [run] = out.iterdir()
    history = read_history(run)
    final = history[(history.split == "test") & (history.epoch == history.epoch.max())]
    assert sorted(final.task) == [0, 1, 2, 3, 4]
    return final.accuracy.mean(), run


def test_generic_mnist_matches_the_builtin_heterogeneous_set(data_dir, tmp_path):
    common = [*SCHEDULE, "--quiet", "--data-dir", str(data_dir)]
    builtin = ["--preset", "mnist_hetero", "--protocol", "lifelong", *common]
    assert main([*builtin, "--out", str(tmp_path / "builtin")]) == 0
    generic = ["--data", f"npz:{data_dir / 'mnist.npz'}", *GENERIC, *common]
    assert main([*generic, "--out", str(tmp_path / "generic")]) == 0
    expected, _ = final_test_accuracy(tmp_path / "builtin")
    accuracy, run = final_test_accuracy(tmp_path / "generic")
    print(f"generic {accuracy:.4f}, built-in {expected:.4f}")
    assert run.name.startswith("npz_mnist-dfcnn-seed0-")
    assert accuracy > 0.9
    assert abs(accuracy - expected) <= 0.01, (accuracy, expected)
