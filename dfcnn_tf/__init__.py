"""dfcnn_tf: Deconvolutional Factorized CNNs for deep lifelong learning (IJCAI 2019)."""

__version__ = "0.1.0"
