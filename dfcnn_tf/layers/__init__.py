"""Keras layers of the DF-CNN: the shared knowledge base and the task conv layer."""

from dfcnn_tf.layers.dfconv import VARIANTS, DFConv2D
from dfcnn_tf.layers.knowledge_base import KnowledgeBase
from dfcnn_tf.layers.sharing import sharing_scope

__all__ = ["VARIANTS", "DFConv2D", "KnowledgeBase", "sharing_scope"]
