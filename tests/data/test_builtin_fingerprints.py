"""The built-in task sets stay bit-identical through the shared splitting.

Every array of every task (x/y of train, valid and test), its classes, name,
class names and normalisation are fingerprinted for several seeds and
options of the CIFAR-100, MNIST / CIFAR-10 and Office-Home task sets. The
committed fingerprints (`builtin_fingerprints.json`) were computed with the
per-set builders as they were before the task sets became descriptions over
`dfcnn_tf/data/splitting.py`; they are never rewritten to follow the code.

Synthetic arrays make the test run everywhere; the real local files (when
present and the same files) add the paper's task sets. To write the file
(only ever from code known to be right):
``python tests/data/test_builtin_fingerprints.py --write``.
"""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from dfcnn_tf.config import DataConfig
from dfcnn_tf.data import ImageArrays, build_binary_tasks, build_cifar100_tasks
from dfcnn_tf.data.officehome_tasks import build_officehome_tasks
from dfcnn_tf.data.task_sources import file_sha256

FINGERPRINTS = Path(__file__).with_name("builtin_fingerprints.json")
DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _digest(array: np.ndarray) -> str:
    """sha256 (16 hex digits) of an array's dtype, shape and bytes."""
    array = np.ascontiguousarray(array)
    head = f"{array.dtype.str}{array.shape}".encode()
    return hashlib.sha256(head + array.tobytes()).hexdigest()[:16]


def fingerprint(tasks) -> list[dict]:
    """Everything a task set hands the learner, one dict per task."""
    prints = []
    for task in tasks:
        arrays = {
            f"{axis}_{split}": _digest(getattr(task, f"{axis}_{split}"))
            for split in ("train", "valid", "test")
            for axis in ("x", "y")
        }
        norm = task.normalization
        prints.append(
            {
                "task_id": task.task_id,
                "classes": list(task.classes),
                "name": task.name,
                "class_names": list(task.class_names),
                "normalization": [list(norm.mean), list(norm.std), norm.scale],
                "arrays": arrays,
            }
        )
    return prints


def _images(rng, labels, shape):
    return rng.integers(0, 256, (len(labels), *shape), dtype=np.uint8)


def _cifar100_like() -> ImageArrays:
    rng = np.random.default_rng(2024)
    y_train = rng.permutation(np.repeat(np.arange(100), 24))
    y_test = rng.permutation(np.repeat(np.arange(100), 4))
    return ImageArrays(
        _images(rng, y_train, (5, 5, 3)),
        y_train,
        _images(rng, y_test, (5, 5, 3)),
        y_test,
        tuple(f"fine{c}" for c in range(100)),
    )


def _binary_like(channels: int, names: bool) -> ImageArrays:
    """600 training images per class; test counts with class 3 short
    (topped up from class 2 or the others) and class 2 long."""
    rng = np.random.default_rng(7 + channels)
    test_counts = [1000, 1000, 1200, 800, 1000, 1000, 1000, 1000, 1000, 1000]
    y_train = rng.permutation(np.repeat(np.arange(10), 600))
    y_test = rng.permutation(np.repeat(np.arange(10), test_counts))
    return ImageArrays(
        _images(rng, y_train, (3, 3, channels)),
        y_train,
        _images(rng, y_test, (3, 3, channels)),
        y_test,
        tuple(f"name{c}" for c in range(10)) if names else (),
    )


def _officehome_like() -> dict:
    """Two domains with uneven class sizes (3 to 11 images) and class sets."""
    rng = np.random.default_rng(11)
    arrays = {}
    for domain, first in (("Product", 0), ("Real_World", 4)):
        labels = np.concatenate(
            [np.full(3 + (c * 5) % 9, c) for c in range(first, first + 16)]
        )
        labels = rng.permutation(labels)
        arrays[domain] = (_images(rng, labels, (4, 4, 3)), labels)
    return arrays


def synthetic_cases() -> dict:
    """Case name -> a function building the case's tasks (old builders' API)."""
    c100, mnist = _cifar100_like(), _binary_like(1, names=False)
    c10, office = _binary_like(3, names=True), _officehome_like()

    def c100_case(**kwargs):
        return lambda: build_cifar100_tasks(c100, **kwargs)

    def binary_case(arrays, **kwargs):
        return lambda: build_binary_tasks(arrays, **kwargs)

    def office_case(**kwargs):
        return lambda: build_officehome_tasks(office, **kwargs)

    return {
        "cifar100_paper_seed0": c100_case(seed=0),
        "cifar100_paper_seed1": c100_case(seed=1),
        "cifar100_paper_permuted_seed0": c100_case(seed=0, task_order="permuted"),
        "cifar100_random_seed3": c100_case(
            seed=3,
            partition="random",
            num_tasks=8,
            classes_per_task=5,
            train_per_class=10,
            valid_per_class=2,
        ),
        "mnist_hetero_3_seed0": binary_case(
            mnist, dataset="mnist", task_set="heterogeneous", percent=3
        ),
        "mnist_homo_5_seed1_permuted": binary_case(
            mnist,
            dataset="mnist",
            task_set="homogeneous",
            percent=5,
            seed=1,
            task_order="permuted",
        ),
        "cifar10_hetero_10_seed0_permuted": binary_case(
            c10,
            dataset="cifar10",
            task_set="heterogeneous",
            percent=10,
            task_order="permuted",
        ),
        "cifar10_homo_4_seed2": binary_case(
            c10, dataset="cifar10", task_set="homogeneous", percent=4, seed=2
        ),
        "officehome_unit_seed0": office_case(tasks_per_domain=2, classes_per_task=5),
        "officehome_standardise_seed1_permuted": office_case(
            tasks_per_domain=3,
            classes_per_task=4,
            seed=1,
            task_order="permuted",
            scaling="standardise",
        ),
        "officehome_real_world_first_seed2": office_case(
            domains=("Real World", "Product"),
            tasks_per_domain=1,
            classes_per_task=13,
            seed=2,
            split=(0.5, 0.2, 0.3),
        ),
    }


SYNTHETIC = (
    "cifar100_paper_seed0",
    "cifar100_paper_seed1",
    "cifar100_paper_permuted_seed0",
    "cifar100_random_seed3",
    "mnist_hetero_3_seed0",
    "mnist_homo_5_seed1_permuted",
    "cifar10_hetero_10_seed0_permuted",
    "cifar10_homo_4_seed2",
    "officehome_unit_seed0",
    "officehome_standardise_seed1_permuted",
    "officehome_real_world_first_seed2",
)

# Real data through `experiment.build_tasks` (the whole built-in path).
REAL_CASES = {
    "real_cifar100_paper_seed0": ({"dataset": "cifar100"}, 0),
    "real_cifar100_paper_seed1": ({"dataset": "cifar100"}, 1),
    "real_cifar100_paper_permuted_seed0": (
        {"dataset": "cifar100", "task_order": "permuted"},
        0,
    ),
    "real_mnist_hetero_3_seed0": ({"dataset": "mnist", "percent": 3.0}, 0),
    "real_mnist_homo_5_seed1": (
        {"dataset": "mnist", "task_set": "homogeneous", "percent": 5.0},
        1,
    ),
    "real_cifar10_hetero_4_seed0": ({"dataset": "cifar10", "percent": 4.0}, 0),
    "real_cifar10_homo_10_seed0_permuted": (
        {
            "dataset": "cifar10",
            "task_set": "homogeneous",
            "percent": 10.0,
            "task_order": "permuted",
        },
        0,
    ),
}


def real_tasks(name, data_dir=DATA_DIR):
    from dfcnn_tf.experiment import build_tasks

    fields, seed = REAL_CASES[name]
    return build_tasks(DataConfig(**fields, data_dir=str(data_dir)), seed)


def real_files(data_dir=DATA_DIR) -> dict:
    """sha256 of the local data files the real cases were computed from."""
    return {
        name: file_sha256(Path(data_dir) / f"{name}.npz")
        for name in ("cifar100", "cifar10", "mnist")
    }


@pytest.fixture(scope="module")
def committed() -> dict:
    return json.loads(FINGERPRINTS.read_text())


@pytest.fixture(scope="module")
def cases() -> dict:
    return synthetic_cases()


def test_every_synthetic_case_is_checked(cases, committed):
    assert sorted(cases) == sorted(committed["synthetic"]) == sorted(SYNTHETIC)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_synthetic_task_sets_are_unchanged(name, cases, committed):
    assert fingerprint(cases[name]()) == committed["synthetic"][name]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REAL_CASES))
def test_real_task_sets_are_unchanged(name, committed, data_dir):
    if real_files(data_dir) != committed["real_files"]:
        pytest.skip(f"the local data in {data_dir} are other files")
    assert fingerprint(real_tasks(name, data_dir)) == committed["real"][name]


def write() -> None:
    """Writes the fingerprints of the current code (see the module doc)."""
    cases = synthetic_cases()
    data = {
        "synthetic": {name: fingerprint(build()) for name, build in cases.items()},
        "real_files": real_files(),
        "real": {name: fingerprint(real_tasks(name)) for name in REAL_CASES},
    }
    FINGERPRINTS.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    write()
