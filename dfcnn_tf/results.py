"""Results of a run on disk: history, resolved config, versions, metric tables.

One folder per run, `<out>/<run id>/`, holding
- `history.csv` (or `.parquet`): the long table run, seed, model, task,
  training_task, epoch, task_epoch, split, accuracy, time, scope ("all":
  every seen task evaluated at that epoch, "current": only the training
  task; see `dfcnn_tf.eval_scope`; earlier runs' files lack it and read
  back with "all");
- `config.json`: the resolved `Experiment`;
- `run.json`: run id, seed, status, tasks finished, library versions;
- `summary.csv`, `per_task.csv` (+ `accuracy_matrix.csv` for lifelong runs):
  the protocol's metric tables.
Every file is written atomically (a temporary `.tmp-*` file beside it, flushed
to disk, then renamed over it) after every task, so a run that stops keeps
every finished task and a half-written file is never read: readers open only
the final names, and `remove_temporaries` clears what a killed run left.
"""

import hashlib
import json
from pathlib import Path

import pandas as pd

from dfcnn_tf import metrics
from dfcnn_tf.atomic import atomic_path
from dfcnn_tf.config import RUN_CONTROL_KEYS
from dfcnn_tf.data.identity import data_identity, source_slug
from dfcnn_tf.eval_scope import SCOPE, with_scope
from dfcnn_tf.presets import get_preset
from dfcnn_tf.protocols import get_protocol
from dfcnn_tf.provenance import versions
from dfcnn_tf.stl_source import source_sha256

HISTORY_FORMATS = ("csv", "parquet")


def config_hash(experiment):
    """Short hash of the resolved configuration and the data's identity
    (`data_identity`: file hashes, TFDS name and version, a folder listing's
    hash), so changed data is never read back as the same run.

    The data folder, the path of a TF (distillation) run's STL learner
    (its content's SHA-256 is in the identity) and the run-control fields
    (`RUN_CONTROL_KEYS`: checkpoint interval, op determinism) are left out:
    they do not change what the run computes.
    """
    return hash_with_data(experiment.to_dict(), run_identity(experiment))


def run_identity(experiment):
    """What a run reads besides its configuration: the data's identity and,
    for TF (distillation), the SHA-256 of the STL learner file it starts
    from (`model.tucker.init_from`). `run.json` records it as "data"."""
    identity = data_identity(experiment.data)
    source = experiment.model.tucker.init_from
    if source:
        identity = {**identity, "init_from_sha256": source_sha256(source)}
    return identity


def hash_with_data(config, identity):
    """The run key of a configuration (an `Experiment.to_dict()`, e.g. a
    run's config.json) and a data identity (e.g. its run.json's "data")."""
    return _hash(settings(config) | {"data_identity": identity})


def settings_hash(config):
    """The hash of a configuration alone, without the data's identity (an
    `Experiment.to_dict()`, e.g. a run's config.json)."""
    return _hash(settings(config))


def settings(config):
    """What of a configuration decides the numbers (a deep copy)."""
    config = json.loads(json.dumps(config, default=str))
    config["data"].pop("data_dir", None)
    tucker = config["model"].get("tucker") or {}
    tucker.pop("init_from", None)  # a path; `run_identity` has the file's SHA-256
    for key in RUN_CONTROL_KEYS:
        section, name = key.split(".")
        config[section].pop(name, None)
    _drop_added_fields(config)
    _merge_eval_schedule(config["train"])
    return config


def _hash(config):
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


# Fields added after runs were recorded, with the value that computes what
# those runs computed: left out of the hash at that value, so that the earlier
# runs keep their hash (and folder) and are still recognised as finished.
ADDED_FIELDS = {
    "data.resample_per_seed": True,
    "data.source": "",
    "data.test_fraction": 0.2,
    "data.class_groups": [],
    "train.precision": "float32",
}


# Records of the continual-learning baselines (issue 19): a model ignores
# the records of other methods, so each is left out of the hash when at its
# defaults (its method's own runs are told apart by their name).
ADDED_MODEL_RECORDS = {
    "ewc": {"strength": 10.0},
    "si": {"strength": 0.1, "damping": 1e-3},
    "lwf": {"strength": 1.0, "temperature": 2.0},
    "agem": {"per_class": 1, "batch": 256},
    "replay": {"per_class": 1, "batch": 10},
}
# Before issue 19 the registry held size variants; the method each of these
# names built then. `model.method` is left out of the hash where it names
# what the model's name alone built.
VARIANT_METHODS = {
    "stl_large": "stl",
    "dfcnn_small": "dfcnn",
    "dfcnn_direct": "dfcnn",
    "dfcnn_tc2": "dfcnn",
}


def _drop_added_fields(config):
    for key, value in ADDED_FIELDS.items():
        *path, name = key.split(".")
        record = config
        for part in path:
            record = record.get(part) or {}
        if record.get(name) == value:
            record.pop(name)
    model = config["model"]
    for name, value in ADDED_MODEL_RECORDS.items():
        if model.get(name) == value:
            model.pop(name)
    method = model.get("method")
    if method is not None and method in ("", VARIANT_METHODS.get(model["name"])):
        model.pop("method")
    if not config["model"].get("knowledge_bases"):
        # only DF-CNN layers read it: a model without knowledge bases ignores it
        config["model"].pop("bias_init", None)


def _merge_eval_schedule(train):
    """Two equal evaluation intervals hash as the former single `eval_every`
    (they compute what it computed), so earlier runs keep their hash; the mtl
    protocol ignores `eval_current_every`, so it takes no part there."""
    if "eval_all_every" not in train:  # an earlier run's config.json
        return
    current = train.pop("eval_current_every", None)
    if current == train["eval_all_every"] or train.get("protocol") == "mtl":
        train["eval_every"] = train.pop("eval_all_every")
    else:
        train["eval_current_every"] = current


def run_id(experiment):
    """The run's folder name: preset (or the data spec of your own data),
    model, seed, and the config hash if the configuration differs from the
    preset's (e.g. after `--set`), the data is your own or the model starts
    from a saved STL learner."""
    name, source = experiment.preset, experiment.data.source
    base = f"{source_slug(source) if source else name}-{experiment.model.name}"
    base = f"{base}-seed{experiment.seed}"
    default = get_preset(name).experiment(experiment.model.name, experiment.seed)
    started = experiment.model.tucker.init_from  # the run's key names the file
    preset = settings_hash(default.to_dict()) == settings_hash(experiment.to_dict())
    if preset and not source and not started:
        return base
    return f"{base}-{config_hash(experiment)}"


def finished_run(run_dir, experiment):
    """True if `run_dir` holds a finished run of exactly this configuration.

    Both records must say so: `run.json` (status, and the hash of the
    configuration and the data's identity) and `config.json` (the
    configuration itself, e.g. not edited by hand), and a history file must
    be there; anything else is recomputed.
    """
    run_dir = Path(run_dir)
    try:
        info = json.loads((run_dir / "run.json").read_text())
        config = json.loads((run_dir / "config.json").read_text())
        same_config = settings_hash(config) == settings_hash(experiment.to_dict())
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return False
    finished = isinstance(info, dict) and info.get("status") == "finished"
    history = any((run_dir / f"history.{f}").is_file() for f in HISTORY_FORMATS)
    same_run = info.get("config_hash") == config_hash(experiment)
    return finished and history and same_run and same_config


def read_finished(run_dir, experiment):
    """The history of the finished run of `experiment` in `run_dir`, or None
    if there is none or its files do not hold a whole, readable history
    (then the run is recomputed, never read back half)."""
    if not finished_run(run_dir, experiment):
        return None
    try:
        if not _history_intact(Path(run_dir)):
            return None
        history = read_history(run_dir)
    except (OSError, ValueError, KeyError, TypeError):  # pandas/pyarrow errors too
        return None
    if not set(metrics.HISTORY_COLUMNS) <= set(history.columns) or history.empty:
        return None
    return history


def _history_intact(run_dir):
    """True unless `run.json` records a history file that is missing or changed
    (runs written before the record existed are taken as they are)."""
    record = json.loads((run_dir / "run.json").read_text()).get("history")
    if record is None:
        return True
    path = run_dir / record["file"]
    return path.is_file() and file_sha256(path) == record["sha256"]


def history_frame(rows, experiment):
    """The long-format history DataFrame of one run from the loop's rows."""
    frame = pd.DataFrame(rows, columns=[*metrics.HISTORY_COLUMNS[3:], SCOPE])
    with_scope(frame)
    frame.insert(0, "model", experiment.model.name)
    frame.insert(0, "seed", experiment.seed)
    frame.insert(0, "run", run_id(experiment))
    return frame


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
    record = write_history(run_dir, history, fmt)
    _write_json(run_dir / "config.json", experiment.to_dict())
    tasks_done = int(history["training_task"].max()) + 1 if len(history) else 0
    info = {"run": run_id(experiment), "seed": experiment.seed, "status": status}
    info["config_hash"] = config_hash(experiment)
    info["data"] = run_identity(experiment)
    info.update(tasks_finished=tasks_done, versions=versions(), **(extra or {}))
    info["history"] = record
    if len(history):
        _write_metric_tables(run_dir, history, get_protocol(experiment.train.protocol))
    _write_json(run_dir / "run.json", info)  # last: its status vouches for the rest


def _write_metric_tables(run_dir, history, protocol):
    summary = protocol.summarize(history).to_frame().T
    _atomic_write(run_dir / "summary.csv", summary.to_csv(index=False))
    _atomic_write(run_dir / "per_task.csv", protocol.per_task(history).to_csv())
    for stem, table in protocol.tables(history).items():
        _atomic_write(run_dir / f"{stem}.csv", table.to_csv())


def write_history(run_dir, history, fmt):
    """Writes `history.<fmt>` atomically, then removes the other format's file
    (left by an earlier run of the folder), so one history file remains.

    Returns:
        The file's record for `run.json`: name, rows and SHA-256, by which a
        reader knows the file whole and unchanged.
    """
    path = Path(run_dir) / f"history.{fmt}"
    _write_history(history, path, fmt)
    for other in HISTORY_FORMATS:
        if other != fmt:
            (Path(run_dir) / f"history.{other}").unlink(missing_ok=True)
    return {"file": path.name, "rows": len(history), "sha256": file_sha256(path)}


def file_sha256(path):
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_history(run_dir, record):
    """Rewrites `run.json` with a new history `record` (after a conversion)."""
    path = Path(run_dir) / "run.json"
    info = json.loads(path.read_text())
    info["history"] = record
    _write_json(path, info)


def history_format(run_dir):
    """The format of the run's history file: the newest if both exist
    (a kill between writing one and removing the other), or None."""
    paths = [Path(run_dir) / f"history.{f}" for f in HISTORY_FORMATS]
    present = [p for p in paths if p.is_file()]
    if not present:
        return None
    return max(present, key=lambda p: p.stat().st_mtime_ns).suffix[1:]


def read_history(run_dir):
    """Reads a run's history table (CSV or parquet) back into a DataFrame
    (with a `scope` column: "all" throughout for a file written before it)."""
    fmt = history_format(run_dir)
    if fmt is None:
        raise FileNotFoundError(f"No history.csv or history.parquet in {run_dir}")
    path = Path(run_dir) / f"history.{fmt}"
    return with_scope(pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path))


def _write_history(history, path, fmt):
    if fmt not in HISTORY_FORMATS:
        raise ValueError(f"fmt must be one of {HISTORY_FORMATS}. Received: {fmt!r}")
    with atomic_path(path) as tmp:
        if fmt == "csv":
            history.to_csv(tmp, index=False)
        else:
            history.to_parquet(tmp, index=False)


def _write_json(path, data):
    _atomic_write(path, json.dumps(data, indent=2, default=str) + "\n")


def _atomic_write(path, text):
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)
