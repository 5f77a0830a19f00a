"""What a learner keeps of each task it learned: everything but the images.

A saved learner holds, per task, its name, original classes, class names and
input normalisation (README, "Data"), so that raw images can be
prepared as the model saw its training data, predictions can be named, and
a task handed back later (to evaluate it, or to continue the sequence) can be
checked to be the very task that was learned.
"""

import dataclasses

from dfcnn_tf.data.normalization import Normalization


@dataclasses.dataclass(frozen=True)
class TaskInfo:
    """A learned task's metadata.

    Attributes:
        name: the task's name (unique within a learner).
        classes: the original class labels, one per output.
        class_names: a name per output.
        normalization: how raw images become inputs, or None if unknown.
    """

    name: str
    classes: tuple[int, ...]
    class_names: tuple[str, ...]
    normalization: Normalization | None

    @classmethod
    def of(cls, task):
        """The metadata of a `Task`."""
        return cls(task.label, tuple(task.classes), task.labels, task.normalization)

    @property
    def num_classes(self):
        """Number of outputs."""
        return len(self.classes)

    def differences(self, task):
        """What differs between this record and a `Task` (empty: the same task).

        Returns:
            A list of short descriptions, e.g. `["classes (1, 2) != (3, 4)"]`.
        """
        other = TaskInfo.of(task)
        found = []
        for field in ("name", "classes", "normalization"):
            mine, theirs = getattr(self, field), getattr(other, field)
            if mine != theirs:
                found.append(f"{field}: learned {_short(mine)}, given {_short(theirs)}")
        return found

    def to_dict(self):
        """A JSON-ready dict (`from_dict` inverts it)."""
        data = dataclasses.asdict(self)
        if self.normalization is not None:
            data["normalization"] = self.normalization.to_dict()
        return data

    @classmethod
    def from_dict(cls, data):
        """The inverse of `to_dict`."""
        normalization = data.get("normalization")
        return cls(
            str(data["name"]),
            tuple(int(c) for c in data["classes"]),
            tuple(str(n) for n in data["class_names"]),
            None if normalization is None else Normalization.from_dict(normalization),
        )


def _short(value):
    if isinstance(value, Normalization):
        return f"statistics mean {tuple(round(m, 4) for m in value.mean)}"
    return repr(value)
