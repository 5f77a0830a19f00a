"""`train.intra_op_threads` / `train.inter_op_threads`: set for the process
before TensorFlow starts, left with a warning once it runs with other
counts, and out of a run's identity (they change float rounding at most)."""

import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import tensorflow as tf

from dfcnn_tf.config_checks import validate
from dfcnn_tf.errors import ConfigError
from dfcnn_tf.overrides import apply_overrides
from dfcnn_tf.process import apply_process_settings
from dfcnn_tf.results import config_hash

from .reliability.tiny import tiny_experiment

ROOT = Path(__file__).resolve().parents[1]

FRESH_PROCESS = """
import tensorflow as tf
from dfcnn_tf.learner import LifelongLearner
from dfcnn_tf.overrides import apply_overrides
from tests.reliability.tiny import tiny_experiment, tiny_tasks

threads = ["train.intra_op_threads=1", "train.inter_op_threads=3"]
learner = LifelongLearner(apply_overrides(tiny_experiment("stl"), threads))
learner.learn(tiny_tasks(1)[0])
print(tf.config.threading.get_intra_op_parallelism_threads(),
      tf.config.threading.get_inter_op_parallelism_threads())
"""


def threads(intra, inter=0):
    return apply_overrides(
        tiny_experiment("stl"),
        [f"train.intra_op_threads={intra}", f"train.inter_op_threads={inter}"],
    )


@pytest.mark.slow
def test_a_learner_sets_the_counts_of_a_fresh_process():
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    assert done.stdout.split()[-2:] == ["1", "3"]


def test_a_started_tensorflow_keeps_its_counts_with_a_warning():
    tf.constant(1.0) + 1.0  # TensorFlow has started in this process
    current = tf.config.threading.get_intra_op_parallelism_threads()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        apply_process_settings(threads(0).train)  # 0: leave them
        apply_process_settings(threads(current).train)  # the same
    with pytest.warns(UserWarning, match=r"train.intra_op_threads=7 not applied"):
        apply_process_settings(threads(7).train)
    assert tf.config.threading.get_intra_op_parallelism_threads() == current


def test_counts_are_checked_and_not_part_of_the_run():
    with pytest.raises(ConfigError, match=r"train.inter_op_threads must be >= 0"):
        validate(threads(0, -1))
    assert config_hash(threads(1, 2)) == config_hash(threads(0, 0))
