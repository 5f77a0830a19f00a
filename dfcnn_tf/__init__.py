"""dfcnn_tf: Deconvolutional Factorized CNNs for deep lifelong learning (IJCAI 2019).

`dfcnn_tf.LifelongLearner` is the public entry point: learn tasks one after
another, evaluate, predict, save, load, continue and export (imported on
first use, so `import dfcnn_tf` stays light).
"""

import os

# TensorFlow's C++ start-up chatter (CUDA probes on CPU machines) drowns the
# progress display; set TF_CPP_MIN_LOG_LEVEL yourself to see it. The command
# lines also hide the lines TensorFlow writes before reading it (tf_import.py).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"
__all__ = ["LifelongLearner", "__version__"]


def __getattr__(name):
    if name == "LifelongLearner":
        from dfcnn_tf.learner import LifelongLearner

        return LifelongLearner
    raise AttributeError(f"module 'dfcnn_tf' has no attribute {name!r}")
