"""A tiny tensorflow-datasets builder: generated 8x8 grey images, 6 classes.

Importing this module registers it as `dfcnn_tiny_digits`; preparing it
writes TFRecords under `$TFDS_DATA_DIR` without any network access.
"""

import numpy as np
import tensorflow_datasets as tfds

NAME = "dfcnn_tiny_digits"
PHOTOS = "dfcnn_tiny_photos"
CLASS_NAMES = ("zero", "one", "two", "three", "four", "five")
PER_CLASS = {"train": 25, "test": 5}


class DfcnnTinyDigits(tfds.core.GeneratorBasedBuilder):
    """Six classes of 8x8 grey images whose brightness encodes the class."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(8, 8, 1)),
                    "label": tfds.features.ClassLabel(names=list(CLASS_NAMES)),
                }
            ),
            supervised_keys=("image", "label"),
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing to download
        return {split: self._generate_examples(split) for split in PER_CLASS}

    def _generate_examples(self, split):
        rng = np.random.default_rng(0 if split == "train" else 1)
        for label in range(len(CLASS_NAMES)):
            for i in range(PER_CLASS[split]):
                base = 20 + 40 * label
                image = rng.integers(base, base + 30, (8, 8, 1), dtype=np.uint8)
                yield f"{label}-{i}", {"image": image, "label": label}


class DfcnnTinyPhotos(DfcnnTinyDigits):
    """Colour images of two sizes (8x8 mostly, some 12x10): shape (None, None, 3)."""

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(None, None, 3)),
                    "label": tfds.features.ClassLabel(names=list(CLASS_NAMES)),
                }
            ),
            supervised_keys=("image", "label"),
        )

    def _generate_examples(self, split):
        rng = np.random.default_rng(2)
        for label in range(len(CLASS_NAMES)):
            for i in range(PER_CLASS[split]):
                size = (12, 10) if i % 5 == 0 else (8, 8)
                image = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
                yield f"{label}-{i}", {"image": image, "label": label}
