"""`dfcnn_tf.provenance`: the versions a run records, and the state of the
code: its commit, read once per process, and whether the package's files
differ from it. Real git repositories in temporary folders stand in for the
checkout."""

import subprocess

import keras
import numpy as np
import pytest
import tensorflow as tf

from dfcnn_tf import provenance
from dfcnn_tf.provenance import code_state, versions


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A git checkout with one committed file as the package folder; the
    process's cached state cleared before and after."""
    monkeypatch.setattr(provenance, "PACKAGE", tmp_path)
    code_state.cache_clear()
    git(tmp_path, "init", "-q")
    (tmp_path / "layer.py").write_text("x = 1\n")
    git(tmp_path, "add", "layer.py")
    git(tmp_path, "commit", "-q", "-m", "first")
    yield tmp_path
    code_state.cache_clear()


def git(folder, *args):
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.org"]
    done = subprocess.run(
        ["git", *identity, *args], cwd=folder, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_versions_name_the_libraries_and_the_code():
    found = versions()
    assert found["tensorflow"] == tf.__version__
    assert found["keras"] == keras.__version__
    assert found["numpy"] == np.__version__
    assert {"dfcnn_tf", "python", "platform", "pandas"} <= set(found)
    assert {"git_commit", "git_modified"} <= set(found)


def test_a_clean_checkout(package):
    assert code_state() == (git(package, "rev-parse", "HEAD"), False)


@pytest.mark.parametrize("change", ["edit", "add"])
def test_modified_files_are_flagged(package, change):
    name = "layer.py" if change == "edit" else "new_layer.py"
    (package / name).write_text("x = 2\n")
    assert code_state() == (git(package, "rev-parse", "HEAD"), True)


def test_the_commit_is_read_once_per_process(package):
    """A commit (a `git pull`) during a run leaves its later records alone:
    the code in memory is the one read first."""
    first = versions()["git_commit"]
    (package / "layer.py").write_text("x = 3\n")
    git(package, "commit", "-q", "-am", "second")
    assert versions()["git_commit"] == first != git(package, "rev-parse", "HEAD")


def test_outside_a_checkout(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "PACKAGE", tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    code_state.cache_clear()
    try:
        assert code_state() == (None, None)
    finally:
        code_state.cache_clear()
