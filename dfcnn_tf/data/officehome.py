"""Office-Home images as a tensorflow-datasets builder.

See docs/method.md, section 'Data protocols'.

Office-Home (Venkateswara et al., CVPR 2017) holds about 15,500 images of 65
office and home object classes in four domains. Section 4 of the DF-CNN paper
uses the Product and Real-World domains, with every image resized to 128x128.

The data cannot be downloaded automatically, so :class:`OfficeHome` is a
manual-download builder: it reads the extracted image folders once, resizes
every image to 128x128x3 uint8 with PIL's bilinear filter (from the full
decoded image, aspect ratio not kept) and stores the result in the TFDS cache
folder. :func:`load_officehome` checks the image folder, prepares the cache if
needed and returns the images and labels of the requested domains as arrays.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from etils import epath

from dfcnn_tf.data.officehome_source import (
    CLASSES,
    DEFAULT_DOMAINS,
    DOMAIN_ALIASES,
    DOMAINS,
    HOMEPAGE,
    IMAGE_SHAPE,
    LAYOUT,
    MANUAL_DOWNLOAD_INSTRUCTIONS,
    SourceImage,
    find_source_root,
    read_image,
    scan_source,
    source_fingerprint,
)
from dfcnn_tf.data.sources import resolve_data_dir
from dfcnn_tf.errors import ConfigError, DataError

FINGERPRINT_KEY = "source_fingerprint"
_RESIZE_CHUNK = 256  # Images resized in parallel before being written.
_CITATION = """\
@inproceedings{venkateswara2017deep,
  title={Deep Hashing Network for Unsupervised Domain Adaptation},
  author={Venkateswara, Hemanth and Eusebio, Jose and Chakraborty, Shayok
          and Panchanathan, Sethuraman},
  booktitle={CVPR},
  year={2017}
}"""


class OfficeHome(tfds.core.GeneratorBasedBuilder):
    """Office-Home, every image resized to 128x128x3, in one ``train`` split.

    Features: ``image`` (uint8, 128x128x3, stored as PNG, so lossless after the
    resize), ``label`` (index into the sorted ``CLASSES``), ``domain`` (index
    into ``DOMAINS``) and ``image/filename`` (path relative to the Office-Home
    folder). Every domain folder present in the manual folder is prepared.
    """

    name = "dfcnn_office_home"  # Not "office_home", to stay clear of TFDS names.
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Images resized to 128x128 with PIL bilinear."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
    # TFDS 4.9.10 derives this with `importlib_resources`, which it fails to
    # require on Python >= 3.9 (tensorflow/datasets#11212); set it directly.
    code_path = epath.Path(__file__)

    def _info(self) -> tfds.core.DatasetInfo:
        """Describe the features; the source fingerprint goes in the metadata."""
        return tfds.core.DatasetInfo(
            builder=self,
            description="Office-Home images resized to 128x128 (DF-CNN, sec. 4).",
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(
                        shape=IMAGE_SHAPE, encoding_format="png"
                    ),
                    "label": tfds.features.ClassLabel(names=CLASSES),
                    "domain": tfds.features.ClassLabel(names=DOMAINS),
                    "image/filename": tfds.features.Text(),
                }
            ),
            supervised_keys=("image", "label"),
            disable_shuffling=True,
            homepage=HOMEPAGE,
            citation=_CITATION,
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager):
        """Scan the manual folder; everything goes into the ``train`` split."""
        images = scan_source(find_source_root(dl_manager.manual_dir))
        self.info.metadata[FINGERPRINT_KEY] = source_fingerprint(images)
        flat = [image for domain in sorted(images) for image in images[domain]]
        return {"train": self._generate_examples(flat)}

    def _generate_examples(self, images: Sequence[SourceImage]) -> Iterator:
        """Yield ``(relative path, example)``, resizing images in threads."""
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            for start in range(0, len(images), _RESIZE_CHUNK):
                chunk = images[start : start + _RESIZE_CHUNK]
                pixels = pool.map(read_image, [image.path for image in chunk])
                for image, array in zip(chunk, pixels, strict=True):
                    yield (
                        image.relpath,
                        {
                            "image": array,
                            "label": image.label,
                            "domain": DOMAINS.index(image.domain),
                            "image/filename": image.relpath,
                        },
                    )


def load_officehome(
    root: str | os.PathLike | None,
    domains: Sequence[str] = DEFAULT_DOMAINS,
    cache_dir: str | os.PathLike | None = None,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Load the 128x128 Office-Home images of some domains.

    The image folder is checked first; the TFDS cache is prepared from it on
    the first call (a one-off pass over every image of every domain folder
    found) and only read on later calls.

    Args:
        root: Folder holding the domain folders (or the extracted
            ``OfficeHomeDataset_10072016/``). If None: ``$DFCNN_DATA_DIR``, else
            the TFDS manual folder ``<cache_dir>/downloads/manual``.
        domains: Domains to return, e.g. ``("Product", "Real World")``.
        cache_dir: TFDS data folder for the prepared data; None means the TFDS
            default (``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``).

    Returns:
        Canonical domain name to ``(images, labels)``: uint8 images of shape
        ``(n, 128, 128, 3)`` and int64 labels (indices into ``CLASSES``) of
        shape ``(n,)``, sorted by label, then file name.

    Raises:
        ConfigError: If a domain name is unknown or repeated.
        DataError: If the images are missing (the message says where to put
            them), a requested domain folder is missing, an image is corrupt,
            or the cache was prepared from a different copy of the data.
    """
    wanted = check_domains(domains)
    builder = OfficeHome(data_dir=cache_dir)
    if root is None:
        root = resolve_data_dir(None) or _tfds_manual_dir(builder)
    source_root = find_source_root(root)
    images = scan_source(source_root)
    missing = [domain for domain in wanted if domain not in images]
    if missing:
        raise DataError(
            f"{source_root}: no folder for Office-Home domain(s) {missing}; found "
            f"domain folders {sorted(images)}.\nExpected layout:\n{LAYOUT}"
        )
    _prepare(builder, source_root, source_fingerprint(images))
    return _read_domains(builder, wanted)


def _tfds_manual_dir(builder: OfficeHome) -> Path:
    """The TFDS default manual folder of the builder's data folder."""
    return Path(builder.data_dir_root) / "downloads" / "manual"


def check_domains(domains: Sequence[str]) -> tuple[str, ...]:
    """Check a list of requested domains and return their canonical names.

    Args:
        domains: Non-empty sequence of distinct domain names (aliases allowed).

    Returns:
        The canonical names, in the given order.

    Raises:
        ConfigError: If ``domains`` is empty, a plain string, names an unknown
            domain or repeats one; the message names the field ``domains``.
    """
    if isinstance(domains, str) or not domains:
        raise ConfigError(
            "domains must be a non-empty sequence of Office-Home domain names. "
            f"Received: domains={domains!r}"
        )
    unknown = [d for d in domains if DOMAIN_ALIASES.get(d, d) not in DOMAINS]
    if unknown:
        raise ConfigError(
            f"domains names unknown Office-Home domain(s) {unknown}. Expected "
            f"names from {list(DOMAINS)}. Received: domains={domains!r}"
        )
    wanted = tuple(DOMAIN_ALIASES.get(domain, domain) for domain in domains)
    if len(set(wanted)) != len(wanted):
        raise ConfigError(f"domains must not repeat. Received: domains={domains!r}")
    return wanted


def _prepare(builder: OfficeHome, source_root: Path, fingerprint: str) -> None:
    """Prepare the cache from ``source_root`` unless it already holds it.

    Raises:
        DataError: If the cache was prepared from other files.
    """
    if not builder.is_prepared():
        config = tfds.download.DownloadConfig(manual_dir=str(source_root))
        builder.download_and_prepare(download_config=config)
        return
    cached = builder.info.metadata.get(FINGERPRINT_KEY)
    if cached != fingerprint:
        raise DataError(
            f"The Office-Home cache {builder.data_dir} was prepared from other "
            f"image files (fingerprint {cached}) than those in {source_root} "
            f"(fingerprint {fingerprint}). Delete that folder to rebuild it, or "
            "pass another cache folder."
        )


def _read_domains(
    builder: OfficeHome, domains: tuple[str, ...]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read the prepared examples of ``domains``, decoding only their images."""
    features = builder.info.features
    wanted = tf.constant([DOMAINS.index(domain) for domain in domains], tf.int64)
    dataset = builder.as_dataset(
        split="train", decoders={"image": tfds.decode.SkipDecoding()}
    )
    dataset = dataset.filter(lambda ex: tf.reduce_any(tf.equal(ex["domain"], wanted)))
    dataset = dataset.map(
        lambda ex: (
            features["image"].decode_example(ex["image"]),
            ex["label"],
            ex["domain"],
            ex["image/filename"],
        ),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    parts = {domain: ([], [], []) for domain in domains}
    for images, labels, domain_ids, names in tfds.as_numpy(dataset.batch(512)):
        for domain, (xs, ys, ns) in parts.items():
            mask = domain_ids == DOMAINS.index(domain)
            xs.append(images[mask])
            ys.append(labels[mask])
            ns.append(names[mask])
    result = {}
    for domain, (xs, ys, ns) in parts.items():
        labels, names = np.concatenate(ys).astype(np.int64), np.concatenate(ns)
        order = np.lexsort((names, labels))
        result[domain] = (np.concatenate(xs)[order], labels[order])
    return result
