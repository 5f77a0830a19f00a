"""The walkthrough notebooks run top to bottom and are committed without outputs.

Each notebook is executed in a fresh Jupyter kernel with the working directory
`notebooks/`, as a reader would run it. The kernel is this interpreter (the
venv's python), whatever other `python3` kernelspec the machine has installed:
a kernelspec pointing at `sys.executable` is written to a temporary folder that
`JUPYTER_PATH` puts first.
"""

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from dfcnn_tf.data import DATA_DIR_ENV

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = (
    "01_dfcnn_layer.ipynb",
    "02_lifelong_cifar100.ipynb",
    "03_reading_results.ipynb",
    "04_keep_learning.ipynb",
)
KERNEL_NAME = "python3"
CELL_TIMEOUT_S = 600


@pytest.fixture
def venv_kernel(tmp_path, monkeypatch):
    """Makes the `python3` kernel run `sys.executable -m ipykernel_launcher`."""
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python 3 ({sys.executable})",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return KERNEL_NAME


def read_notebook(name):
    return nbformat.read(NOTEBOOKS_DIR / name, as_version=4)


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_without_outputs(name):
    notebook = read_notebook(name)
    nbformat.validate(notebook)
    stale = [
        cell.id
        for cell in code_cells(notebook)
        if cell.outputs or cell.execution_count is not None
    ]
    assert not stale, (
        f"{name}: cells {stale} hold outputs or execution counts; clear them "
        "before committing (e.g. jupyter nbconvert --clear-output --inplace)"
    )
    assert notebook.metadata.get("kernelspec", {}).get("name") == KERNEL_NAME


def test_every_notebook_is_tested():
    assert sorted(p.name for p in NOTEBOOKS_DIR.glob("*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(name, data_dir, venv_kernel, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(data_dir))
    before = sorted(NOTEBOOKS_DIR.iterdir())
    notebook = read_notebook(name)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name=venv_kernel,
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    client.execute()  # raises CellExecutionError, with the traceback, on an error

    errors = [
        f"cell {cell.id}: {output.ename}: {output.evalue}"
        for cell in code_cells(notebook)
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors, "\n".join(errors)
    unexecuted = [cell.id for cell in code_cells(notebook) if not cell.execution_count]
    assert not unexecuted, f"cells not executed: {unexecuted}"
    after = sorted(NOTEBOOKS_DIR.iterdir())
    assert after == before, "the notebook left files in notebooks/"
