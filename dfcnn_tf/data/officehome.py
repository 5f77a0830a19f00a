"""Office-Home images as a tensorflow-datasets builder (SPEC section 5).

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

import hashlib
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from etils import epath
from PIL import Image

from dfcnn_tf.data.sources import DATA_DIR_ENV, resolve_data_dir
from dfcnn_tf.errors import ConfigError, DataError

DOMAINS = ("Art", "Clipart", "Product", "Real World")
DEFAULT_DOMAINS = ("Product", "Real World")
# Other spellings of a domain name, as folder names or arguments.
DOMAIN_ALIASES = {"Real_World": "Real World", "RealWorld": "Real World"}
# The 65 class folder names, sorted; a label is the index into this tuple.
# fmt: off
CLASSES = (
    "Alarm_Clock", "Backpack", "Batteries", "Bed", "Bike", "Bottle", "Bucket",
    "Calculator", "Calendar", "Candles", "Chair", "Clipboards", "Computer", "Couch",
    "Curtains", "Desk_Lamp", "Drill", "Eraser", "Exit_Sign", "Fan", "File_Cabinet",
    "Flipflops", "Flowers", "Folder", "Fork", "Glasses", "Hammer", "Helmet",
    "Kettle", "Keyboard", "Knives", "Lamp_Shade", "Laptop", "Marker", "Monitor",
    "Mop", "Mouse", "Mug", "Notebook", "Oven", "Pan", "Paper_Clip", "Pen", "Pencil",
    "Postit_Notes", "Printer", "Push_Pin", "Radio", "Refrigerator", "Ruler",
    "Scissors", "Screwdriver", "Shelf", "Sink", "Sneakers", "Soda", "Speaker",
    "Spoon", "TV", "Table", "Telephone", "ToothBrush", "Toys", "Trash_Can",
    "Webcam",
)
# fmt: on
IMAGE_SIZE = 128
IMAGE_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 3)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
ARCHIVE_NAME = "OfficeHomeDataset_10072016.zip"
ARCHIVE_FOLDER = "OfficeHomeDataset_10072016"  # Top folder inside the archive.
HOMEPAGE = "https://hemanthdv.github.io/officehome-dataset/"
FINGERPRINT_KEY = "source_fingerprint"
_RESIZE_CHUNK = 256  # Images resized in parallel before being written.

LAYOUT = (
    "  <data-dir>/Art/Alarm_Clock/00001.jpg\n"
    "  <data-dir>/Clipart/...\n"
    "  <data-dir>/Product/Alarm_Clock/00001.jpg\n"
    "  <data-dir>/Real World/Alarm_Clock/00001.jpg   ('Real_World' also works)\n"
    "one folder per domain (only the domains you use are needed), one folder "
    "per class inside it (65 classes, e.g. Alarm_Clock), JPEG/PNG images inside "
    "those."
)
MANUAL_DOWNLOAD_INSTRUCTIONS = (
    "Office-Home is not downloaded automatically. Get it by hand:\n"
    f"1. Download {ARCHIVE_NAME} from the official Office-Home page, {HOMEPAGE}\n"
    f"2. Extract it; it holds the folder {ARCHIVE_FOLDER}/ with the domain "
    "folders Art/, Clipart/, Product/ and 'Real World'/.\n"
    f"3. Pass that folder (or the folder holding {ARCHIVE_FOLDER}/) with "
    f"--data-dir or ${DATA_DIR_ENV}, or place its content in the TFDS manual "
    "folder <tfds data dir>/downloads/manual/.\n"
    f"Expected layout:\n{LAYOUT}"
)
_CITATION = """\
@inproceedings{venkateswara2017deep,
  title={Deep Hashing Network for Unsupervised Domain Adaptation},
  author={Venkateswara, Hemanth and Eusebio, Jose and Chakraborty, Shayok
          and Panchanathan, Sethuraman},
  booktitle={CVPR},
  year={2017}
}"""


@dataclass(frozen=True)
class SourceImage:
    """One image file of the extracted Office-Home folder.

    Attributes:
        path: The file.
        relpath: Path relative to the Office-Home folder, with ``/``.
        domain: Canonical domain name (one of ``DOMAINS``).
        label: Class index into ``CLASSES``.
    """

    path: Path
    relpath: str
    domain: str
    label: int


def find_source_root(root: str | os.PathLike) -> Path:
    """Find the folder that holds the Office-Home domain folders.

    Args:
        root: That folder, or a folder holding the extracted
            ``OfficeHomeDataset_10072016/`` folder.

    Returns:
        The folder holding at least one domain folder.

    Raises:
        DataError: If neither folder holds a domain folder; the message gives
            the searched folders, the expected layout and where to get the data.
    """
    root = Path(root).expanduser()
    candidates = (root, root / ARCHIVE_FOLDER)
    for folder in candidates:
        if _domain_folders(folder):
            return folder
    state = "does not exist" if not root.is_dir() else "holds no domain folder"
    raise DataError(
        f"Office-Home images not found: {root} {state}. Searched "
        f"{' and '.join(str(c) for c in candidates)} for the domain folders "
        f"{list(DOMAINS)}.\n{MANUAL_DOWNLOAD_INSTRUCTIONS}"
    )


def _domain_folders(folder: Path) -> dict[str, Path]:
    """Map each canonical domain name to its folder directly inside ``folder``."""
    if not folder.is_dir():
        return {}
    found = {}
    for entry in sorted(folder.iterdir()):
        name = DOMAIN_ALIASES.get(entry.name, entry.name)
        if entry.is_dir() and name in DOMAINS:
            if name in found:
                raise DataError(
                    f"{folder}: holds two folders for domain {name!r}: "
                    f"{found[name].name!r} and {entry.name!r}; keep one."
                )
            found[name] = entry
    return found


def scan_source(source_root: Path) -> dict[str, list[SourceImage]]:
    """List the image files of every domain folder found.

    Files whose extension is not one of ``IMAGE_EXTENSIONS`` (e.g. the
    archive's ``ImageInfo.csv`` or ``Thumbs.db``) and hidden entries are
    ignored.

    Args:
        source_root: Folder holding the domain folders (see
            :func:`find_source_root`).

    Returns:
        Canonical domain name to its images, sorted by relative path.

    Raises:
        DataError: If a class folder is not an Office-Home class or a domain
            folder holds no image.
    """
    images = {}
    for domain, folder in _domain_folders(source_root).items():
        found = []
        for class_dir in sorted(p for p in folder.iterdir() if _visible_dir(p)):
            if class_dir.name not in CLASSES:
                raise DataError(
                    f"{class_dir}: not an Office-Home class folder. Expected class "
                    f"folders such as {list(CLASSES[:3])} (65 in all).\n"
                    f"Expected layout:\n{LAYOUT}"
                )
            label = CLASSES.index(class_dir.name)
            for path in sorted(class_dir.iterdir()):
                if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS:
                    relpath = path.relative_to(source_root).as_posix()
                    found.append(SourceImage(path, relpath, domain, label))
        if not found:
            raise DataError(f"{folder}: domain folder holds no JPEG/PNG image.")
        images[domain] = found
    return images


def _visible_dir(path: Path) -> bool:
    """True for a folder whose name does not start with a dot."""
    return path.is_dir() and not path.name.startswith(".")


def source_fingerprint(images: dict[str, list[SourceImage]]) -> str:
    """Hash of every image's domain, relative path and size in bytes.

    Identifies a copy of the data independently of where it lies, so a cache
    prepared from another copy (e.g. with fewer domains) is detected.
    """
    digest = hashlib.sha256()
    for domain in sorted(images):
        for image in images[domain]:
            line = f"{domain}\t{image.relpath}\t{image.path.stat().st_size}\n"
            digest.update(line.encode())
    return digest.hexdigest()[:16]


def read_image(path: Path) -> np.ndarray:
    """Decode an image file and resize it to ``IMAGE_SHAPE``.

    The image is converted to RGB (grey, palette and alpha images included)
    and resized with PIL's bilinear filter, which averages over the source
    pixels when shrinking. The aspect ratio is not kept.

    Args:
        path: A JPEG or PNG file.

    Returns:
        uint8 array of shape ``IMAGE_SHAPE``.

    Raises:
        DataError: If the file cannot be decoded (corrupt or truncated).
    """
    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
    except (OSError, ValueError, SyntaxError) as error:
        raise DataError(
            f"{path}: not a readable image (corrupt or truncated?): "
            f"{type(error).__name__}: {error}. Replace or delete the file, "
            "then run again."
        ) from error
    resized = rgb.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8)


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
