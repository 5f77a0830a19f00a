"""What `LifelongLearner.predict` returns: class probabilities with names."""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Prediction:
    """Class probabilities of a batch of images for one task.

    Attributes:
        probabilities: float32 `(n, num_classes)`, each row summing to 1.
        class_names: the task's class names, one per column.
        task: the task's name.
    """

    probabilities: np.ndarray
    class_names: tuple[str, ...]
    task: str

    @property
    def labels(self):
        """The most probable class of each image (task labels), `(n,)`."""
        return np.argmax(self.probabilities, axis=-1)

    @property
    def names(self):
        """The name of each image's most probable class."""
        return [self.class_names[i] for i in self.labels]

    def top(self, k=3):
        """Per image, the `k` most probable classes as `(name, probability)`."""
        k = min(k, self.probabilities.shape[-1])
        order = np.argsort(-self.probabilities, axis=-1, kind="stable")[:, :k]
        return [
            [(self.class_names[j], float(row[j])) for j in best]
            for row, best in zip(self.probabilities, order, strict=True)
        ]
