"""Lifelong models; importing this package registers every model by name."""

from dfcnn_tf.models.base import LifelongModel, TrainingStage
from dfcnn_tf.models.den import DynamicallyExpandableNetwork
from dfcnn_tf.models.dfcnn import DFCNN
from dfcnn_tf.models.hps import HardParameterSharing
from dfcnn_tf.models.prognn import ProgressiveNetwork
from dfcnn_tf.models.stl import SingleTaskCNN
from dfcnn_tf.models.tucker import TensorFactorisedCNN

__all__ = [
    "DFCNN",
    "DynamicallyExpandableNetwork",
    "HardParameterSharing",
    "LifelongModel",
    "ProgressiveNetwork",
    "SingleTaskCNN",
    "TensorFactorisedCNN",
    "TrainingStage",
]
