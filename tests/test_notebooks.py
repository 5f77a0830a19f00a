"""The walkthrough notebooks are committed executed, and still run top to bottom.

`python notebooks/execute.py` executes every notebook in place (outputs kept,
so plots show on the web); these tests check that each committed notebook
holds its outputs and stays small, and execute a copy of it in a fresh
Jupyter kernel of this interpreter (`notebooks/execute.py`'s kernelspec, put
first on `JUPYTER_PATH`), in `notebooks/`, as a reader would run it. A
notebook fails here only if it no longer runs; changed numbers do not matter.
"""

import importlib.util
from pathlib import Path

import nbformat
import pytest

from dfcnn_tf.data import DATA_DIR_ENV

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(path.name for path in NOTEBOOKS_DIR.glob("*.ipynb"))
MAX_NOTEBOOK_KIB = 300  # outputs included


def _load_execute():
    spec = importlib.util.spec_from_file_location(
        "notebooks_execute", NOTEBOOKS_DIR / "execute.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


execute = _load_execute()


@pytest.fixture
def venv_kernel(tmp_path, monkeypatch):
    """The `python3` kernel of `notebooks/execute.py`, first on `JUPYTER_PATH`."""
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return execute.write_kernel_spec(tmp_path / "jupyter")


def read_notebook(name):
    return nbformat.read(NOTEBOOKS_DIR / name, as_version=4)


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_executed_and_small(name):
    notebook = read_notebook(name)
    nbformat.validate(notebook)
    cells = code_cells(notebook)
    counts = [cell.execution_count for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{name}: not executed top to bottom ({counts}); run "
        f"python notebooks/execute.py notebooks/{name}"
    )
    errors = [
        cell.id
        for cell in cells
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors, f"{name}: cells {errors} hold errors"
    assert any(cell.outputs for cell in cells), f"{name}: no outputs"
    size_kib = (NOTEBOOKS_DIR / name).stat().st_size / 1024
    assert size_kib < MAX_NOTEBOOK_KIB, f"{name}: {size_kib:.0f} KiB"
    assert notebook.metadata.get("kernelspec", {}).get("name") == execute.KERNEL_NAME


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(name, data_dir, venv_kernel, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(data_dir))
    before = sorted(NOTEBOOKS_DIR.iterdir())
    notebook = read_notebook(name)
    execute.execute(notebook, venv_kernel)  # raises CellExecutionError on an error

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
