"""`folder:PATH`: a folder of images, one sub-folder per class (or domain).

``PATH/<class>/*`` gives one labelled set, cut into tasks like any other;
``PATH/<domain>/<class>/*`` (every entry of PATH a folder of folders) also
gives one task per domain (``--set data.partition='domain'``). Images are
decoded with ``tf.io.decode_image``: grey ones are converted to colour when
the folder mixes both, and every image is resized to the folder's most common
size (each said once). The decoded images are cached once, by the hash of
the sorted listing (relative path, size, modification time), which is also
the folder's identity.
"""

from __future__ import annotations

import collections
import hashlib
import os
import warnings
from pathlib import Path

import numpy as np

from dfcnn_tf.data.splitting import LabelledImages
from dfcnn_tf.data.task_sources import register_source
from dfcnn_tf.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
CACHE_ENV = "DFCNN_CACHE_DIR"


def _listing(root: Path) -> list[tuple[str, str, Path]]:
    """``(domain, class, file)`` of every image, sorted; domain "" if none.

    Raises:
        DataError: if the folder is missing or holds no images.
    """
    if not root.is_dir():
        raise DataError(f"folder:{root}: no such folder")
    subdirs = sorted(p for p in root.iterdir() if p.is_dir())
    nested = bool(subdirs) and all(
        any(q.is_dir() for q in d.iterdir()) for d in subdirs
    )
    tops = [(d.name, d) for d in subdirs] if nested else [("", root)]
    files = [
        (domain, class_dir.name, path)
        for domain, top in tops
        for class_dir in sorted(p for p in top.iterdir() if p.is_dir())
        for path in sorted(class_dir.iterdir())
        if path.suffix.lower() in IMAGE_SUFFIXES
    ]
    if not files:
        raise DataError(
            f"folder:{root}: no images found (expected {root}/<class>/*.png|jpg "
            f"or {root}/<domain>/<class>/*)"
        )
    return files


def listing_identity(root: Path) -> dict:
    """The folder and the sha256 of its image listing (path, size, mtime).

    Raises:
        DataError: if the folder is missing or holds no images.
    """
    digest = hashlib.sha256()
    for _, _, path in _listing(root):
        stat = path.stat()
        entry = f"{path.relative_to(root)}\t{stat.st_size}\t{stat.st_mtime_ns}\n"
        digest.update(entry.encode())
    return {"folder": str(root.resolve()), "listing_sha256": digest.hexdigest()}


def _identity(argument):
    return listing_identity(Path(argument))


@register_source("folder", _identity)
def load_folder(argument: str) -> LabelledImages:
    """Every image under the folder, decoded, as one labelled set.

    Raises:
        DataError: for an empty folder or an unreadable image (its path).
    """
    root = Path(argument)
    files = _listing(root)
    images = _cached_images(root, files, f"folder:{argument}")
    class_names = sorted({c for _, c, _ in files})
    domain_names = sorted({d for d, _, _ in files if d})
    labels = np.array([class_names.index(c) for _, c, _ in files], dtype=np.int64)
    domains = None
    if domain_names:
        domains = np.array([domain_names.index(d) for d, _, _ in files])
    return LabelledImages(
        f"folder:{argument}",
        images,
        labels,
        None,
        None,
        tuple(class_names),
        domains=tuple(domain_names),
        d_train=domains,
    )


def cache_dir() -> Path:
    """Where decoded folders are kept: ``$DFCNN_CACHE_DIR`` or
    ``~/.cache/dfcnn_tf``, then ``folders/<listing sha256>.npy``."""
    base = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "dfcnn_tf"
    return Path(base) / "folders"


def _cached_images(root, files, where) -> np.ndarray:
    """The folder's images, decoded once and kept by listing hash."""
    path = cache_dir() / f"{listing_identity(root)['listing_sha256']}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    images = same_form([_decode(file) for _, _, file in files], where)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".tmp-{os.getpid()}.npy")
        np.save(temporary, images, allow_pickle=False)
        os.replace(temporary, path)
    except OSError:
        pass  # a cache that cannot be written only costs decoding again
    return images


def _decode(path: Path) -> np.ndarray:
    import tensorflow as tf  # only folders need the decoder

    try:
        image = tf.io.decode_image(path.read_bytes(), expand_animations=False)
    except (tf.errors.InvalidArgumentError, OSError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataError(f"{path}: not a readable image ({reason})") from None
    image = image.numpy()
    return image[..., :3] if image.shape[-1] == 4 else image  # drop alpha


def same_form(images: list[np.ndarray], where: str) -> np.ndarray:
    """One uint8 array: grey -> colour if mixed, all at the most common size
    (each conversion said once, naming `where`)."""
    import tensorflow as tf

    channels = {image.shape[-1] for image in images}
    if channels == {1, 3}:
        warnings.warn(
            f"{where}: grey and colour images mixed; grey ones converted to colour",
            stacklevel=3,
        )
        images = [np.repeat(i, 3, axis=-1) if i.shape[-1] == 1 else i for i in images]
    sizes = collections.Counter(image.shape[:2] for image in images)
    size = sizes.most_common(1)[0][0]
    if len(sizes) > 1:
        warnings.warn(
            f"{where}: images of {len(sizes)} sizes; all resized to "
            f"{size[0]}x{size[1]} (their most common size)",
            stacklevel=3,
        )
        images = [
            i
            if i.shape[:2] == size
            else np.rint(tf.image.resize(i, size).numpy()).clip(0, 255).astype(np.uint8)
            for i in images
        ]
    return np.stack(images).astype(np.uint8)
