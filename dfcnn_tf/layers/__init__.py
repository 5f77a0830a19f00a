"""Keras layers of the DF-CNN: the shared knowledge base and the task conv layer."""

from dfcnn_tf.layers.dfconv import VARIANTS, DFConv2D
from dfcnn_tf.layers.knowledge_base import KnowledgeBase

__all__ = ["VARIANTS", "DFConv2D", "KnowledgeBase"]
