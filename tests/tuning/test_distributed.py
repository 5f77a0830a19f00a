"""KerasTuner's distributed mode: one chief oracle and two workers on
127.0.0.1 run the stub grid (`stub_search.py`); every point runs once."""

import contextlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from stub_search import GRID_SIZE, StubHyperModel

from dfcnn_tf.registry import get_model_class
from tuning.export import TABLE_FILE
from tuning.objective import OBJECTIVE

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "stub_search.py"
TIMEOUT_S = 300
ROLES = ("chief", "worker0", "worker1")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(role, port, out_dir, marker_dir, log):
    env = dict(os.environ)
    env.update(
        KERASTUNER_TUNER_ID=role,
        KERASTUNER_ORACLE_IP="127.0.0.1",
        KERASTUNER_ORACLE_PORT=str(port),
        PYTHONPATH=os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]),
        TF_CPP_MIN_LOG_LEVEL="3",
        CUDA_VISIBLE_DEVICES="",
    )
    command = [sys.executable, str(SCRIPT), str(out_dir), str(marker_dir)]
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def _run_all(tmp_path, out_dir, marker_dir):
    """Starts chief and workers, waits (killing all on a timeout); the logs."""
    port, processes = _free_port(), {}
    paths = {role: tmp_path / f"{role}.log" for role in ROLES}
    with contextlib.ExitStack() as stack:
        for role in ROLES:
            log = stack.enter_context(open(paths[role], "w"))
            processes[role] = _start(role, port, out_dir, marker_dir, log)
        try:
            for process in processes.values():
                process.wait(timeout=TIMEOUT_S)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.kill()
                    process.wait()
    logs = {role: path.read_text() for role, path in paths.items()}
    for role, process in processes.items():
        assert process.returncode == 0, f"{role} failed:\n{logs[role][-3000:]}"
    return logs


def _grid():
    import keras_tuner

    from tuning.grid import grid_points

    hp = keras_tuner.HyperParameters()
    StubHyperModel().declare_hyperparameters(hp)
    return {json.dumps(v, sort_keys=True) for v in grid_points(hp)}


def test_chief_and_two_workers_run_every_grid_point_once(tmp_path):
    out_dir, marker_dir = tmp_path / "search", tmp_path / "markers"
    logs = _run_all(tmp_path, out_dir, marker_dir)
    markers = [json.loads(p.read_text()) for p in marker_dir.glob("*.json")]
    ran = [json.dumps(m["values"], sort_keys=True) for m in markers]
    assert len(ran) == GRID_SIZE
    assert set(ran) == _grid()  # every grid point, each exactly once
    assert {m["tuner_id"] for m in markers} <= {"worker0", "worker1"}
    classes = {get_model_class(m).__name__ for m in ("dfcnn", "stl")}
    assert {m["model_class"] for m in markers} == classes
    assert f"chief exported {GRID_SIZE} trials" in logs["chief"]
    table = pd.read_csv(out_dir / TABLE_FILE)
    assert len(table) == GRID_SIZE
    assert (table["status"] == "COMPLETED").all()
    assert table[OBJECTIVE].is_monotonic_decreasing
    stl = table[table["model"] == "stl"]  # inactive DF-CNN values stay empty
    assert stl["dfcnn/kb_channels_1"].isna().all()
    assert not stl["stl/fc_hidden_1"].isna().any()
