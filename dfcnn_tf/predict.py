"""Command line: `python -m dfcnn_tf.predict` asks a saved learner about images.

    python -m dfcnn_tf.predict --model dfcnn.learner --list-tasks
    python -m dfcnn_tf.predict --model dfcnn.learner --task task4 cat.png dog.jpg
    python -m dfcnn_tf.predict --model dfcnn.learner --task task4 images.npz
    python -m dfcnn_tf.predict --model dfcnn.learner --task task4 \\
        --export-task task4.keras

Image files are decoded and resized to the task's input size with Keras'
image utilities (a resize is said once); an `.npz` file holds a batch of
raw images (`--npz-key`, default: its only array or `x`/`images`/`x_test`).
"""

import sys
from pathlib import Path

from dfcnn_tf.cli import (
    BAD_INPUT,
    FAILED,
    ArgumentParser,
    describe_os_error,
    print_error,
)
from dfcnn_tf.errors import ConfigError, DataError, LearnerError
from dfcnn_tf.tf_import import import_tensorflow

NPZ_KEYS = ("x", "images", "x_test")


def build_parser():
    """The argument parser; `--help` documents every option."""
    parser = ArgumentParser(
        prog="python -m dfcnn_tf.predict",
        description="Classify images with one task of a saved learner (written "
        "by python -m dfcnn_tf.lifelong --save-model or LifelongLearner.save), "
        "list its tasks, or export a task as a plain Keras model.",
    )
    add = parser.add_argument
    add("images", nargs="*", help="image files (PNG, JPEG, ...) or .npz files")
    add("--model", required=True, metavar="PATH", help="the saved learner file")
    add("--task", help="the task's name or id (see --list-tasks)")
    add("--top", type=int, default=3, help="classes shown per image (default: 3)")
    add(
        "--input-range",
        metavar="LOW,HIGH",
        help="raw value range of float images in .npz files (default: recognised "
        "as 0,1 or 0,255); uint8 images are 0-255",
    )
    add("--npz-key", help="array of the .npz files holding the images")
    add("--list-tasks", action="store_true", help="list the learner's tasks and exit")
    add(
        "--export-task",
        metavar="PATH",
        help="write --task as a plain Keras model: a .keras file, or else a "
        "SavedModel folder for serving (no dfcnn_tf needed to use it)",
    )
    return parser


def main(argv=None):
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    import_tensorflow()
    from dfcnn_tf.learner import LifelongLearner

    try:
        learner = LifelongLearner.load(args.model)
        if args.list_tasks:
            print_tasks(learner)
            return 0
        task = resolve_task(learner, args.task)
        if args.export_task:
            learner.export_task(task, args.export_task)
            print(f"task {learner.tasks[task].name!r} exported to {args.export_task}")
            return 0
        if not args.images:
            raise ConfigError("give image files or .npz files (or --list-tasks)")
        names, images = read_images(args, learner.model.input_shape)
        prediction = learner.predict(images, task, parse_range(args.input_range))
        print_prediction(names, prediction, args.top)
    except (ConfigError, DataError, LearnerError) as error:
        print_error(error)
        return BAD_INPUT
    except OSError as error:
        print_error(describe_os_error(error))
        return FAILED
    return 0


def resolve_task(learner, task):
    """The id of `--task` (a name, or an id given as digits)."""
    if task is None:
        raise ConfigError(
            f"--task is needed; the learner's tasks: {', '.join(learner.task_names)}"
        )
    return learner.task_id(int(task) if task.isdigit() else task)


def parse_range(text):
    """`"0,1"` -> (0.0, 1.0); None stays None."""
    if text is None:
        return None
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(
            f"--input-range takes LOW,HIGH, e.g. 0,1. Received: {text!r}"
        ) from None
    return low, high


def read_images(args, input_shape):
    """`(names, images)` of every file given; one batch of the raw images.

    Raises:
        DataError: for a missing or unreadable file, or images of mixed form.
    """
    import numpy as np

    names, batches = [], []
    for path in map(Path, args.images):
        if not path.is_file():
            raise DataError(f"{path}: no such image file")
        if path.suffix.lower() == ".npz":
            batch = read_npz(path, args.npz_key)
            names += [f"{path}[{i}]" for i in range(len(batch))]
        else:
            batch = read_image_file(path, input_shape)[np.newaxis]
            names.append(str(path))
        batches.append(batch)
    dtypes = {b.dtype for b in batches}
    if len(dtypes) > 1:
        raise DataError(f"images of different types ({sorted(map(str, dtypes))})")
    shapes = {b.shape[1:] for b in batches}
    if len(shapes) > 1:
        raise DataError(f"images of different shapes ({sorted(shapes)})")
    return names, np.concatenate(batches)


def read_npz(path, key):
    """The image array of an `.npz` file (`key`, or the obvious one)."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.files)
            chosen = key or _npz_key(keys)
            if chosen not in keys:
                raise DataError(
                    f"{path}: no array {chosen!r}; it holds {keys} (--npz-key)"
                )
            return archive[chosen]
    except (OSError, ValueError) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(f"{path}: not a readable .npz file ({error})") from None


def _npz_key(keys):
    if len(keys) == 1:
        return keys[0]
    for key in NPZ_KEYS:
        if key in keys:
            return key
    raise DataError(f"which array holds the images? {keys} (pass --npz-key)")


def read_image_file(path, input_shape):
    """One image file decoded, resized to the task's size, as uint8."""
    import keras
    import numpy as np

    height, width, channels = input_shape
    mode = "grayscale" if channels == 1 else "rgb"
    try:
        image = keras.utils.load_img(path, color_mode=mode)
    except (OSError, ValueError) as error:
        raise DataError(
            f"{path}: not a readable image file ({type(error).__name__})"
        ) from None
    if image.size != (width, height):
        _say_once(f"images resized to {width}x{height} (the task's input size)")
        image = image.resize((width, height))
    array = np.asarray(image, dtype=np.uint8)
    return array.reshape(height, width, channels)


_SAID = set()


def _say_once(text):
    if text not in _SAID:
        _SAID.add(text)
        print(f"note: {text}", file=sys.stderr)


def print_tasks(learner, stream=None):
    """One line per learned task: id, name, classes."""
    for task_id, info in enumerate(learner.tasks):
        names = ", ".join(info.class_names)
        print(
            f"{task_id}  {info.name}  ({info.num_classes} classes: {names})",
            file=stream,
        )


def print_prediction(names, prediction, top, stream=None):
    """One line per image: its name and the `top` classes with probability."""
    for name, best in zip(names, prediction.top(top), strict=True):
        classes = ", ".join(f"{cls} {p:.3f}" for cls, p in best)
        print(f"{name}: {classes}", file=stream)


if __name__ == "__main__":
    sys.exit(main())
