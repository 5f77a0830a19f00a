"""The package installs from a wheel and its commands answer `--help` quickly.

The wheel test builds `dfcnn_tf` without network access (`--no-deps
--no-build-isolation`) and installs it into a fresh virtual environment whose
dependencies come from this interpreter's site-packages through a `.pth` file,
then imports it from outside the repository.
"""

import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "dfcnn-lifelong": "dfcnn_tf.lifelong",
    "dfcnn-report": "dfcnn_tf.report",
    "dfcnn-search": "tuning.search",
}
HEAVY_MODULES = ("tensorflow", "keras", "matplotlib")


def _run(args, cwd, env=None):
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("module", sorted(COMMANDS.values()))
def test_help_imports_no_heavy_module(module):
    code = (
        "import sys\n"
        f"from {module} import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = _run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_lock_pins_satisfy_the_declared_ranges():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            pin = Requirement(line)
            pins[canonicalize_name(pin.name)] = next(iter(pin.specifier)).version
    for text in project["dependencies"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is declared but not pinned in requirements.txt"
        assert requirement.specifier.contains(pins[name]), (text, pins[name])


def test_console_scripts_name_existing_commands():
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"][
        "scripts"
    ]
    assert {name: target.split(":")[0] for name, target in scripts.items()} == {
        **COMMANDS,
        "dfcnn-predict": "dfcnn_tf.predict",  # written alongside, see issue 17
    }
    assert all(target.endswith(":main") for target in scripts.values())


@pytest.fixture(scope="module")
def installed_venv(tmp_path_factory):
    """A fresh venv with the wheel of this checkout installed; its python path."""
    root = tmp_path_factory.mktemp("wheel")
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        + ["--quiet", "--wheel-dir", str(root / "dist"), str(REPO_ROOT)],
        cwd=root,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (root / "dist").glob("dfcnn_tf-*.whl")
    venv = root / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = _run(
        [str(python), "-c", "import site; print(site.getsitepackages()[0])"], root
    )
    deps = sysconfig.get_paths()["purelib"]  # this interpreter's dependencies
    Path(site.stdout.strip(), "deps.pth").write_text(deps + "\n")
    installed = _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install"]
        + ["--no-deps", "--quiet", str(wheel)],
        cwd=root,
    )
    assert installed.returncode == 0, installed.stderr
    return python


@pytest.mark.slow
def test_wheel_imports_from_its_install_location(installed_venv):
    code = "import dfcnn_tf, tuning; print(dfcnn_tf.__file__); print(tuning.__file__)"
    done = _run([str(installed_venv), "-c", code], cwd=installed_venv.parents[2])
    assert done.returncode == 0, done.stderr
    venv = installed_venv.parents[1]
    for path in done.stdout.split():
        assert Path(path).is_relative_to(venv), path
    (site,) = venv.glob("lib/python*/site-packages")
    assert not [
        name for name in ("notebooks", "tests", "benchmarks") if (site / name).exists()
    ]


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_console_script_answers_help(installed_venv, command):
    script = installed_venv.parent / command
    done = _run([str(script), "--help"], cwd=installed_venv.parents[2])
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout
