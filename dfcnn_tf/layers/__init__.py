"""Keras layers of the lifelong models: the DF-CNN's shared knowledge base and
task conv layer, the TF baseline's Tucker layers and ProgNN's lateral conv."""

from dfcnn_tf.layers.dfconv import VARIANTS, DFConv2D
from dfcnn_tf.layers.knowledge_base import KnowledgeBase
from dfcnn_tf.layers.lateral_conv import LateralConv2D
from dfcnn_tf.layers.sharing import sharing_scope
from dfcnn_tf.layers.tucker_conv import TuckerConv2D, TuckerFactors

__all__ = [
    "VARIANTS",
    "DFConv2D",
    "KnowledgeBase",
    "LateralConv2D",
    "TuckerConv2D",
    "TuckerFactors",
    "sharing_scope",
]
