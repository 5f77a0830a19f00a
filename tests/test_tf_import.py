"""`dfcnn_tf.tf_import`: TensorFlow's start-up lines, written to file
descriptor 2 by its C++ libraries, are hidden where `TF_CPP_MIN_LOG_LEVEL`
hides INFO (the package's default), shown at level 0, and a failing import
still shows its error. A stand-in `tensorflow` package writes like the real
one, in a fresh process each."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
IMPORT = (
    "from dfcnn_tf.tf_import import import_tensorflow\n"
    "import os, sys\n"
    "print('module', import_tensorflow().__name__)\n"
    "os.write(2, b'after\\n')\n"
)


def run(tmp_path, package_body, level=None):
    package = tmp_path / "tensorflow"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text(package_body)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{REPO_ROOT}"}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    if level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    return subprocess.run(
        [sys.executable, "-c", IMPORT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


NOISY = (
    "import os, sys\nos.write(2, b'I0000 start-up\\n')\nprint('py', file=sys.stderr)\n"
)


@pytest.mark.parametrize("level", [None, "1", "3"])
def test_start_up_lines_are_hidden(tmp_path, level):
    done = run(tmp_path, NOISY, level)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "module tensorflow\n"
    assert done.stderr == "after\n"  # stderr works again after the import


@pytest.mark.parametrize("level", ["0", "verbose"])
def test_level_0_shows_them(tmp_path, level):
    done = run(tmp_path, NOISY, level)
    assert done.stderr == "I0000 start-up\npy\nafter\n"


def test_a_failing_import_still_shows(tmp_path):
    done = run(tmp_path, "raise ImportError('libcudart.so: cannot open')\n")
    assert done.returncode == 1
    assert "ImportError: libcudart.so: cannot open" in done.stderr
