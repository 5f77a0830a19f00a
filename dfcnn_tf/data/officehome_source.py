"""The extracted Office-Home image folder: its layout, scan and image files.

Office-Home (Venkateswara et al., CVPR 2017) holds about 15,500 images of 65
office and home object classes in four domains, one folder per domain and
class. This module finds that folder, lists its images with their domain and
class, fingerprints the copy and decodes one image resized to 128x128
(docs/method.md, section 'Data protocols'); `dfcnn_tf.data.officehome`
turns it into a TFDS data set.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from dfcnn_tf.data.sources import DATA_DIR_ENV
from dfcnn_tf.errors import DataError

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
