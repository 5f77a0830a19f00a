"""Lifelong models; importing this package registers every model by name."""

from dfcnn_tf.models.base import LifelongModel
from dfcnn_tf.models.dfcnn import DFCNN

__all__ = ["DFCNN", "LifelongModel"]
