"""The lifelong training loop, its compiled step, evaluation and optimiser."""

from dfcnn_tf.training.evaluation import SPLITS, Evaluator
from dfcnn_tf.training.loop import train_lifelong
from dfcnn_tf.training.optimizer import TF1RMSprop, learning_rate, make_optimizer
from dfcnn_tf.training.progress import Progress
from dfcnn_tf.training.step import TaskLearner

__all__ = [
    "SPLITS",
    "Evaluator",
    "Progress",
    "TF1RMSprop",
    "TaskLearner",
    "learning_rate",
    "make_optimizer",
    "train_lifelong",
]
