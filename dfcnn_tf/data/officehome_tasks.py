"""The Office-Home lifelong task sequence of section 4.

See docs/method.md, section 'Data protocols'.

Per domain (Product, then Real World), ``tasks_per_domain`` tasks of
``classes_per_task`` classes each are formed from classes drawn without
repetition within the domain (5 x 13 = all 65 classes in the paper). Every
class's images are split 60/10/30 into train/valid/test, so each split is
stratified by class. Images are scaled to [0, 1] as docs/method.md, section
'Data protocols', states for this protocol; per-channel standardisation with
the task's training statistics (as for CIFAR-100) is available as
``scaling="standardise"``.

The task set is a description (the domains, their streams, the class groups
and split fractions) over the shared splitting of
`dfcnn_tf/data/splitting.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from dfcnn_tf.data.officehome import check_domains
from dfcnn_tf.data.officehome_source import (
    CLASSES,
    DEFAULT_DOMAINS,
    DOMAIN_ALIASES,
    DOMAINS,
)
from dfcnn_tf.data.sampling import class_split_sizes
from dfcnn_tf.data.splitting import LabelledImages, Split, build_task, random_groups
from dfcnn_tf.data.tasks import Task
from dfcnn_tf.errors import ConfigError, DataError

__all__ = ["build_officehome_tasks", "class_split_sizes", "officehome_tasks"]

TASK_ORDERS = ("fixed", "permuted")
SCALINGS = ("unit", "standardise")
DEFAULT_SPLIT = (0.6, 0.1, 0.3)
_SPLIT_TOLERANCE = 1e-6
# Stream of the task-order permutation; streams 0-3 are the domains'.
_ORDER_STREAM = len(DOMAINS)


def officehome_tasks(data, seed: int) -> list[Task]:
    """The task set a `DataConfig` with ``dataset="officehome"`` describes:
    ``data.num_tasks`` tasks spread evenly over ``data.domains``.

    Raises:
        ConfigError: if ``data.num_tasks`` is not a multiple of the domains.
    """
    from dfcnn_tf.data.officehome import load_officehome  # TF/TFDS builder

    domains = tuple(data.domains)
    if data.num_tasks % len(domains):
        raise ConfigError(
            f"data.num_tasks={data.num_tasks} must be a multiple of the number of "
            f"data.domains ({len(domains)}: {', '.join(domains)})"
        )
    return build_officehome_tasks(
        load_officehome(data.data_dir, domains),
        domains=domains,
        tasks_per_domain=data.num_tasks // len(domains),
        classes_per_task=data.classes_per_task,
        seed=seed,
        task_order=data.task_order,
    )


def build_officehome_tasks(
    domain_arrays: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    domains: Sequence[str] = DEFAULT_DOMAINS,
    tasks_per_domain: int = 5,
    classes_per_task: int = 13,
    split: Sequence[float] = DEFAULT_SPLIT,
    seed: int = 0,
    task_order: str = "fixed",
    scaling: str = "unit",
) -> list[Task]:
    """Build the Office-Home lifelong task sequence.

    Args:
        domain_arrays: Domain name to ``(images, labels)`` as returned by
            :func:`~dfcnn_tf.data.officehome.load_officehome`: uint8 images
            ``(n, h, w, c)`` and int labels ``(n,)``.
        domains: Domains in training order.
        tasks_per_domain: Tasks drawn from each domain (disjoint classes).
        classes_per_task: Distinct classes per task.
        split: ``(train, valid, test)`` fractions of each class's images.
        seed: Non-negative seed; each domain draws from its own stream
            (seeded by ``seed`` and the domain), so a domain's tasks do not
            depend on which other domains are used.
        task_order: ``"fixed"`` (domain by domain, in draw order) or
            ``"permuted"`` (a seeded random order over all tasks).
        scaling: ``"unit"`` (pixels / 255, in [0, 1]; docs/method.md,
            section 'Data protocols') or ``"standardise"`` (then standardised
            per channel with the task's training statistics, see
            :func:`~dfcnn_tf.data.tasks.standardise`).

    Returns:
        The tasks in training order (defaults, fixed order: 0-4 Product, 5-9
        Real World); ``Task.classes`` index ``officehome_source.CLASSES``.

    Raises:
        ConfigError: Naming the first argument out of range or unknown.
        DataError: A domain missing, malformed or with too few classes.
    """
    if scaling not in SCALINGS:
        raise ConfigError(
            f"scaling must be one of {list(SCALINGS)}. Received: scaling={scaling!r}"
        )
    wanted = _check_arguments(
        domains, tasks_per_domain, classes_per_task, split, seed, task_order
    )
    arrays, labels = _checked_domains(domain_arrays, wanted)
    position = _training_positions(len(wanted) * tasks_per_domain, seed, task_order)
    description = Split(
        classes_per_task=classes_per_task,
        partition="groups",
        class_split=tuple(float(f) for f in split),
        scaling=scaling,
    )
    tasks = []
    for number, domain in enumerate(wanted):
        ids = position[number * tasks_per_domain : (number + 1) * tasks_per_domain]
        images = (arrays[domain][0], labels[domain])
        tasks += _domain_tasks(domain, images, ids, description, seed)
    return sorted(tasks, key=lambda task: task.task_id)


def _checked_domains(domain_arrays, wanted):
    """The checked arrays of every domain and the labels of the `wanted` ones."""
    arrays = _by_domain(domain_arrays)
    by_label = {domain: y for domain, (_, y) in arrays.items()}
    return arrays, {domain: _domain_labels(by_label, domain) for domain in wanted}


def _training_positions(count, seed, task_order):
    """Drawn position -> training position of `count` tasks (identity for
    "fixed", a seeded permutation for "permuted")."""
    order = np.arange(count)
    if task_order == "permuted":
        order = np.random.default_rng([seed, _ORDER_STREAM]).permutation(count)
    return np.argsort(order)


def _domain_tasks(domain, images, task_ids, description, seed) -> list[Task]:
    """The tasks of one domain, drawn from the domain's own stream."""
    _check_images(domain, *images)
    images = LabelledImages(
        f"Office-Home {domain}", np.asarray(images[0]), images[1], None, None, CLASSES
    )
    rng = np.random.default_rng([seed, DOMAINS.index(domain)])
    groups = _draw_classes(
        domain, images.y_train, len(task_ids), description.classes_per_task, rng
    )
    return [
        build_task(int(i), group, images, description, rng, f"{domain}-{i + 1}")
        for i, group in zip(task_ids, groups, strict=True)
    ]


def _check_arguments(
    domains: Sequence[str],
    tasks_per_domain: int,
    classes_per_task: int,
    split: Sequence[float],
    seed: int,
    task_order: str,
) -> tuple[str, ...]:
    """Check the arguments of the task sequence; return canonical domains.

    Raises:
        ConfigError: Naming the first field that is out of range or unknown.
    """
    wanted = check_domains(domains)
    minimums = {
        "tasks_per_domain": (tasks_per_domain, 1),
        "classes_per_task": (classes_per_task, 2),
        "seed": (seed, 0),
    }
    for field, (value, minimum) in minimums.items():
        if not _is_int(value) or value < minimum:
            raise ConfigError(
                f"{field} must be an integer >= {minimum}. Received: {field}={value!r}"
            )
    _check_split(split)
    if task_order not in TASK_ORDERS:
        raise ConfigError(
            f"task_order must be one of {list(TASK_ORDERS)}. "
            f"Received: task_order={task_order!r}"
        )
    return wanted


def _is_int(value) -> bool:
    """True for a Python or numpy integer that is not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_split(split: Sequence[float]) -> None:
    """Raise ConfigError unless ``split`` is three fractions summing to 1."""
    try:
        fractions = [float(f) for f in split]
    except (TypeError, ValueError):
        fractions = []
    if (
        len(fractions) != 3
        or not all(0.0 <= f <= 1.0 for f in fractions)
        or fractions[0] <= 0.0
        or abs(sum(fractions) - 1.0) > _SPLIT_TOLERANCE
    ):
        raise ConfigError(
            "split must be three fractions (train, valid, test) in [0, 1] summing "
            f"to 1, with train > 0. Received: split={split!r}"
        )


def _by_domain(mapping: Mapping[str, object]) -> dict[str, object]:
    """Re-key a mapping by canonical domain name (``Real_World`` -> ``Real World``)."""
    return {DOMAIN_ALIASES.get(key, key): value for key, value in mapping.items()}


def _domain_labels(mapping: Mapping[str, np.ndarray], domain: str) -> np.ndarray:
    """Check and return the labels of ``domain`` as int64.

    Raises:
        DataError: If the domain is absent or its labels are not a 1-D array of
            non-negative integers.
    """
    by_domain = _by_domain(mapping)
    if domain not in by_domain:
        raise DataError(
            f"No data for Office-Home domain {domain!r}; the data holds domains "
            f"{sorted(mapping)}. Load it with load_officehome(..., domains=...)."
        )
    labels = np.asarray(by_domain[domain])
    if not np.issubdtype(labels.dtype, np.integer) or labels.ndim != 1:
        raise DataError(
            f"Office-Home domain {domain!r}: expected integer labels of shape (n,), "
            f"got dtype {labels.dtype} and shape {labels.shape}."
        )
    if labels.size and labels.min() < 0:
        raise DataError(
            f"Office-Home domain {domain!r}: labels must be >= 0, got {labels.min()}."
        )
    return labels.astype(np.int64)


def _check_images(domain: str, images: np.ndarray, labels: np.ndarray) -> None:
    """Raise DataError unless ``images`` are uint8 NHWC, one per label."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise DataError(
            f"Office-Home domain {domain!r}: expected uint8 images of shape "
            f"(n, h, w, c), got dtype {images.dtype} and shape {images.shape}."
        )
    if len(images) != len(labels):
        raise DataError(
            f"Office-Home domain {domain!r}: {len(images)} images but "
            f"{len(labels)} labels."
        )


def _draw_classes(
    domain: str,
    labels: np.ndarray,
    tasks_per_domain: int,
    classes_per_task: int,
    rng: np.random.Generator,
) -> list[tuple[int, ...]]:
    """Draw disjoint class groups of one domain, one group per task.

    Raises:
        DataError: If the domain has fewer distinct classes than needed.
    """
    available = np.unique(labels)
    needed = tasks_per_domain * classes_per_task
    if needed > len(available):
        raise DataError(
            f"Office-Home domain {domain!r}: {tasks_per_domain} tasks x "
            f"{classes_per_task} classes need {needed} distinct classes but only "
            f"{len(available)} are available."
        )
    return random_groups(available, tasks_per_domain, classes_per_task, rng)
