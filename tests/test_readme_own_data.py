"""The README's "Your own data" examples, run as written (small substitutes:
the local TFDS builder fixture for Fashion-MNIST, a generated folder)."""

import re
import shlex
from pathlib import Path

from dfcnn_tf.lifelong import main
from dfcnn_tf.results import read_history
from tests.data import tfds_fixture
from tests.data.test_folder_source import make_folder

README = Path(__file__).resolve().parents[1] / "README.md"
FAST = ["--epochs-per-task", "1", "--quiet"]


def examples(language):
    text = README.read_text()
    section = text.split("## Your own data", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)


def run_command(line, out):
    words = shlex.split(line)
    assert words[:3] == [".venv/bin/python", "-m", "dfcnn_tf.lifelong"]
    return main([*words[3:], "--out", str(out), *FAST])


def test_arrays_example(capsys):
    [code] = examples("python")
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102
    assert "test" in capsys.readouterr().out


def test_tfds_example(tmp_path, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    line = examples("bash")[0].strip().replace("fashion_mnist", tfds_fixture.NAME)
    assert run_command(line, tmp_path / "out") == 0
    [run] = (tmp_path / "out").iterdir()
    assert run.name.startswith(f"tfds_{tfds_fixture.NAME}-dfcnn-seed0-")


def test_folder_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_folder(tmp_path / "my_photos", classes=4, per_class=30, size=(32, 32))
    assert run_command(examples("bash")[1].strip(), tmp_path / "out") == 0
    [run] = (tmp_path / "out").iterdir()
    assert run.name.startswith("folder_my_photos-dfcnn-seed0-")
    assert set(read_history(run).task) == {0, 1}  # 4 classes, 2 per task
