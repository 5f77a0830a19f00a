"""Every registered model learns real CIFAR-100 (../shared/data) above chance.

3 tasks of the smoke preset, 6 epochs each, evaluated at the end of every
task; the first task's test accuracy (1,000 images) must clear 15% (chance is
10%; one standard error is about 1%).
"""

import pytest

from dfcnn_tf.experiment import run_experiment
from dfcnn_tf.overrides import apply_overrides
from dfcnn_tf.presets import get_preset
from dfcnn_tf.registry import model_names

pytestmark = pytest.mark.slow

FLOOR = 0.15


@pytest.mark.parametrize("name", model_names())
def test_first_task_above_chance(name, data_dir, tmp_path):
    experiment = get_preset("cifar100_10_smoke").experiment(name, seed=0)
    experiment = apply_overrides(
        experiment,
        [
            f"data.data_dir={str(data_dir)!r}",
            "train.epochs_per_task=6",
            "train.eval_every=6",
        ],
    )
    result = run_experiment(experiment, tmp_path, quiet=True)
    history = result.history
    first = history[(history.task == 0) & (history.split == "test")]
    assert first[first.training_task == 0].accuracy.max() > FLOOR
    assert set(history.training_task) == {0, 1, 2}
    assert (result.run_dir / "history.csv").exists()
