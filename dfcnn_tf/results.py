"""Results of a run on disk: history, resolved config, versions, metric tables.

One folder per run, `<out>/<run id>/`, holding
- `history.csv` (or `.parquet`): the long table run, seed, model, task,
  training_task, epoch, task_epoch, split, accuracy, time;
- `config.json`: the resolved `Experiment`;
- `run.json`: run id, seed, status, tasks finished, library versions;
- `summary.csv`, `per_task.csv` (+ `accuracy_matrix.csv` for lifelong runs):
  the protocol's metric tables.
Every file is written atomically (a temporary `.tmp-*` file beside it, flushed
to disk, then renamed over it) after every task, so a run that stops keeps
every finished task and a half-written file is never read: readers open only
the final names, and `remove_temporaries` clears what a killed run left.
"""

import contextlib
import hashlib
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path

import pandas as pd

from dfcnn_tf import __version__, metrics
from dfcnn_tf.config import RUN_CONTROL_KEYS
from dfcnn_tf.data.identity import data_identity, source_slug
from dfcnn_tf.presets import get_preset
from dfcnn_tf.protocols import get_protocol

HISTORY_FORMATS = ("csv", "parquet")
TEMPORARY_PREFIX = ".tmp-"  # names of files being written (never read)


def config_hash(experiment):
    """Short hash of the resolved configuration and the data's identity
    (`data_identity`: file hashes, TFDS name and version, a folder listing's
    hash), so changed data is never read back as the same run.

    The data folder and the run-control fields (`RUN_CONTROL_KEYS`:
    checkpoint interval, op determinism) are left out: they do not change
    what the run computes.
    """
    return _hash(
        _settings(experiment) | {"data_identity": data_identity(experiment.data)}
    )


def _settings(experiment):
    config = experiment.to_dict()
    config["data"].pop("data_dir", None)
    for key in RUN_CONTROL_KEYS:
        section, name = key.split(".")
        config[section].pop(name, None)
    return config


def _hash(config):
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def run_id(experiment):
    """The run's folder name: preset (or the data spec of your own data),
    model, seed, and the config hash if the configuration differs from the
    preset's (e.g. after `--set`) or the data is your own."""
    name, source = experiment.preset, experiment.data.source
    base = f"{source_slug(source) if source else name}-{experiment.model.name}"
    base = f"{base}-seed{experiment.seed}"
    default = get_preset(name).experiment(experiment.model.name, experiment.seed)
    if not source and _hash(_settings(default)) == _hash(_settings(experiment)):
        return base
    return f"{base}-{config_hash(experiment)}"


def finished_run(run_dir, experiment):
    """True if `run_dir` holds a finished run of exactly this configuration."""
    path = Path(run_dir) / "run.json"
    if not path.exists():
        return False
    try:
        info = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return info.get("status") == "finished" and info.get("config_hash") == config_hash(
        experiment
    )


def history_frame(rows, experiment):
    """The long-format history DataFrame of one run from the loop's rows."""
    frame = pd.DataFrame(rows, columns=metrics.HISTORY_COLUMNS[3:])
    frame.insert(0, "model", experiment.model.name)
    frame.insert(0, "seed", experiment.seed)
    frame.insert(0, "run", run_id(experiment))
    return frame


def versions():
    """Versions of Python, the libraries that shape the numbers, and the code."""
    import keras
    import numpy
    import tensorflow

    return {
        "dfcnn_tf": __version__,
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "tensorflow": tensorflow.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "pandas": pd.__version__,
    }


def _git_commit():
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def write_run(run_dir, experiment, history, status, fmt="csv", extra=None):
    """Writes (or rewrites) every file of one run, each atomically.

    Args:
        run_dir: the run's folder (created if needed).
        experiment: the resolved `Experiment`.
        history: the run's history DataFrame (may be empty).
        status: "running", "finished" or "failed".
        fmt: "csv" or "parquet" for the history table.
        extra: more fields for `run.json` (e.g. the error of a failed run).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_history(history, run_dir / f"history.{fmt}", fmt)
    _write_json(run_dir / "config.json", experiment.to_dict())
    tasks_done = int(history["training_task"].max()) + 1 if len(history) else 0
    info = {"run": run_id(experiment), "seed": experiment.seed, "status": status}
    info["config_hash"] = config_hash(experiment)
    info["data"] = data_identity(experiment.data)
    info.update(tasks_finished=tasks_done, versions=versions(), **(extra or {}))
    _write_json(run_dir / "run.json", info)
    if len(history):
        _write_metric_tables(run_dir, history, get_protocol(experiment.train.protocol))


def _write_metric_tables(run_dir, history, protocol):
    summary = protocol.summarize(history).to_frame().T
    _atomic_write(run_dir / "summary.csv", summary.to_csv(index=False))
    _atomic_write(run_dir / "per_task.csv", protocol.per_task(history).to_csv())
    for stem, table in protocol.tables(history).items():
        _atomic_write(run_dir / f"{stem}.csv", table.to_csv())


def read_history(run_dir):
    """Reads a run's history table (CSV or parquet) back into a DataFrame."""
    run_dir = Path(run_dir)
    for fmt in HISTORY_FORMATS:
        path = run_dir / f"history.{fmt}"
        if path.exists():
            return pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
    raise FileNotFoundError(f"No history.csv or history.parquet in {run_dir}")


def _write_history(history, path, fmt):
    if fmt not in HISTORY_FORMATS:
        raise ValueError(f"fmt must be one of {HISTORY_FORMATS}. Received: {fmt!r}")
    with _atomic_path(path) as tmp:
        if fmt == "csv":
            history.to_csv(tmp, index=False)
        else:
            history.to_parquet(tmp, index=False)


def _write_json(path, data):
    _atomic_write(path, json.dumps(data, indent=2, default=str) + "\n")


def _atomic_write(path, text):
    with _atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def remove_temporaries(run_dir):
    """Deletes the temporary files that a killed write left in `run_dir`."""
    for path in Path(run_dir).glob(f"{TEMPORARY_PREFIX}*"):
        if path.is_file():
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def _atomic_path(path):
    """Yields a temporary path beside `path`; on success flushes it to disk and
    renames it onto `path`, so `path` is always the old or the new file, whole.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=TEMPORARY_PREFIX, suffix=path.suffix
    )
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    os.replace(tmp, path)
