"""Raw images as users have them -> the inputs a task's model expects.

Accepted: a batch `(n, h, w, c)`, one image `(h, w, c)`, or grey images
`(n, h, w)` / `(h, w)` for single-channel tasks; uint8 pixels (0-255), other
integers within 0-255, or floats whose range is given (`input_range`) or
recognised: values within [0, 1] are read as [0, 1] images, values within
[0, 255] as [0, 255] ones (said once, as a warning), never re-quantised.
Anything else is refused with a `DataError` that says what was found and
what is expected.
"""

import warnings

import numpy as np

from dfcnn_tf.errors import DataError


def as_batch(images, input_shape, where="images"):
    """`images` as an array `(n, *input_shape)` of the original dtype.

    Raises:
        DataError: if the shape or channel count does not fit `input_shape`.
    """
    x = np.asarray(images)
    height, width, channels = input_shape
    if x.ndim == 2 or (x.ndim == 3 and x.shape != tuple(input_shape)):
        x = x[np.newaxis] if x.ndim == 2 else x
        if channels == 1 and x.ndim == 3:
            x = x[..., np.newaxis]
    if x.ndim == 3:
        x = x[np.newaxis]
    if x.ndim != 4 or x.shape[1:] != tuple(input_shape):
        found = "x".join(map(str, x.shape[1:3])) if x.ndim == 4 else "?"
        found_channels = x.shape[-1] if x.ndim == 4 else "?"
        raise DataError(
            f"{where}: shape {tuple(np.shape(images))} does not fit the task, "
            f"which expects {height}x{width} images with {channels} channel(s) "
            f"(found {found} with {found_channels}); pass (n, {height}, {width}, "
            f"{channels}) or one image ({height}, {width}, {channels})"
        )
    if len(x) == 0:
        raise DataError(f"{where}: holds no images")
    return x


def value_range(x, input_range=None, where="images"):
    """The raw range `(low, high)` of images `x` (see the module docstring).

    Raises:
        DataError: for a dtype that is not numeric, non-finite values, or
            values outside the given or any recognised range.
    """
    if x.dtype == np.uint8:
        return (0.0, 255.0) if input_range is None else _checked(x, input_range, where)
    if x.dtype == bool or not np.issubdtype(x.dtype, np.number):
        raise DataError(f"{where}: expected numeric pixels, got dtype {x.dtype}")
    if not np.all(np.isfinite(x)):
        raise DataError(f"{where}: images hold NaN or infinite values")
    if input_range is not None:
        return _checked(x, input_range, where)
    low, high = float(x.min()), float(x.max())
    if np.issubdtype(x.dtype, np.integer):
        return _checked(x, (0.0, 255.0), where)
    if low >= 0 and high <= 1:
        warnings.warn(
            f"{where}: float images within [0, 1], read as [0, 1] images (pass "
            "input_range=(0, 255) if they are 0-255 pixels)",
            stacklevel=3,
        )
        return (0.0, 1.0)
    if low >= 0 and high <= 255:
        return (0.0, 255.0)
    raise DataError(
        f"{where}: float images must lie in [0, 1] or [0, 255] (found values in "
        f"[{low:g}, {high:g}]); pass input_range=(low, high) for another range"
    )


def _checked(x, input_range, where):
    low, high = (float(v) for v in input_range)
    if not high > low:
        raise DataError(
            f"input_range must be (low, high) with high > low, got {input_range}"
        )
    if x.min() < low or x.max() > high:
        raise DataError(
            f"{where}: values in [{x.min():g}, {x.max():g}] lie outside the given "
            f"input_range [{low:g}, {high:g}]"
        )
    return low, high


def prepare(images, input_shape, normalization, input_range=None, where="images"):
    """Raw images -> float32 model inputs `(n, *input_shape)`.

    Args:
        images: the raw images (see the module docstring).
        input_shape: the task's image shape `(h, w, c)`.
        normalization: the task's `Normalization`.
        input_range: `(low, high)` of the raw values, or None to recognise it.
        where: names the images in error messages.

    Raises:
        DataError: if the images do not fit (see `as_batch`, `value_range`).
    """
    x = as_batch(images, input_shape, where)
    low, high = value_range(x, input_range, where)
    if normalization is None:
        raise DataError(
            f"{where}: the task keeps no normalisation statistics, so raw "
            "images cannot be prepared for it"
        )
    scaled = (np.asarray(x, np.float64) - low) * (normalization.scale / (high - low))
    return normalization.apply(scaled)
