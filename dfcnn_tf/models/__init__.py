"""Lifelong models; importing this package registers every model by name."""

from dfcnn_tf.models.agem import AveragedGEM
from dfcnn_tf.models.base import LifelongModel, StepHook, TrainingStage
from dfcnn_tf.models.den import DynamicallyExpandableNetwork
from dfcnn_tf.models.dfcnn import DFCNN
from dfcnn_tf.models.er import ExperienceReplay
from dfcnn_tf.models.ewc import ElasticWeightConsolidation
from dfcnn_tf.models.hps import HardParameterSharing
from dfcnn_tf.models.lwf import LearningWithoutForgetting
from dfcnn_tf.models.prognn import ProgressiveNetwork
from dfcnn_tf.models.si import SynapticIntelligence
from dfcnn_tf.models.stl import SingleTaskCNN
from dfcnn_tf.models.tucker import TensorFactorisedCNN

__all__ = [
    "AveragedGEM",
    "ElasticWeightConsolidation",
    "ExperienceReplay",
    "LearningWithoutForgetting",
    "StepHook",
    "SynapticIntelligence",
    "DFCNN",
    "DynamicallyExpandableNetwork",
    "HardParameterSharing",
    "LifelongModel",
    "ProgressiveNetwork",
    "SingleTaskCNN",
    "TensorFactorisedCNN",
    "TrainingStage",
]
