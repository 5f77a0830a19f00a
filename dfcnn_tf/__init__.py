"""dfcnn_tf: Deconvolutional Factorized CNNs for deep lifelong learning (IJCAI 2019)."""

import os

# TensorFlow's C++ start-up chatter (CUDA probes on CPU machines) drowns the
# progress display; set TF_CPP_MIN_LOG_LEVEL yourself to see it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"
