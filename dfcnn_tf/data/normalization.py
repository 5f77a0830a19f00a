"""A task's input normalisation, kept with the task (paper section 4 data).

Every task's images are scaled from their raw range to [0, 1] and
standardised per channel with the mean and standard deviation of the task's
*training* images. The statistics travel with the task (and with a saved
learner), so raw images met later (`LifelongLearner.predict`, an exported
task model) are prepared exactly as the model saw its training data.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from dfcnn_tf.errors import DataError

PIXEL_MAX = 255.0
STD_FLOOR = 1e-6  # keeps a constant channel from dividing by zero


@dataclasses.dataclass(frozen=True)
class Normalization:
    """`x = (raw / scale - mean) / std`, per channel.

    Attributes:
        mean: per-channel mean of the training images scaled to [0, 1].
        std: per-channel standard deviation (floored at `STD_FLOOR`).
        scale: the raw images' maximum value (255 for uint8 pixels).
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]
    scale: float = PIXEL_MAX

    @classmethod
    def fit(cls, images, scale=PIXEL_MAX):
        """The statistics of `images` (raw, shape `(n, h, w, c)`).

        Raises:
            DataError: if there are no images.
        """
        if len(images) == 0:
            raise DataError("Cannot compute channel statistics of an empty split.")
        scaled = np.asarray(images, dtype=np.float64) / scale
        mean = scaled.mean(axis=(0, 1, 2))
        std = np.maximum(scaled.std(axis=(0, 1, 2)), STD_FLOOR)
        return cls(tuple(map(float, mean)), tuple(map(float, std)), float(scale))

    @classmethod
    def unit(cls, channels, scale=PIXEL_MAX):
        """Scaling to [0, 1] alone (mean 0, standard deviation 1)."""
        return cls((0.0,) * channels, (1.0,) * channels, float(scale))

    @property
    def channels(self):
        """Number of channels the statistics describe."""
        return len(self.mean)

    def apply(self, images):
        """Raw images `(n, h, w, c)` -> float32 model inputs."""
        mean, std = np.asarray(self.mean), np.asarray(self.std)
        scaled = np.asarray(images, dtype=np.float64) / self.scale
        return ((scaled - mean) / std).astype(np.float32)

    def to_dict(self):
        """A JSON-ready dict (`from_dict` inverts it exactly)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        """The inverse of `to_dict`."""
        return cls(tuple(data["mean"]), tuple(data["std"]), float(data["scale"]))
