"""Executes notebooks top to bottom and keeps their outputs in the file.

    python notebooks/execute.py                      # every notebooks/*.ipynb
    python notebooks/execute.py notebooks/02_lifelong_cifar100.ipynb

Each notebook runs in a fresh Jupyter kernel of this interpreter, in
`notebooks/`, as a reader would run it; the repository is importable through
`PYTHONPATH` (or an installed `pip install -e .`), and the real data come from
`$DFCNN_DATA_DIR` (default `../shared/data` beside the checkout). Figures are
inline PNG at the inline backend's resolution. The tests
(`tests/test_notebooks.py`) use the same kernel and check that every
committed notebook still runs.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

NOTEBOOKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = NOTEBOOKS_DIR.parent
KERNEL_NAME = "python3"
CELL_TIMEOUT_S = 600


def write_kernel_spec(jupyter_dir):
    """Writes a `python3` kernelspec running this interpreter under `jupyter_dir`.

    Put `jupyter_dir` first in `JUPYTER_PATH` so that this kernel, not another
    `python3` installed on the machine, runs the notebooks.

    Returns:
        The kernel name.
    """
    spec_dir = Path(jupyter_dir) / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    pythonpath = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p
    )
    spec = {
        "argv": [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            # TensorFlow's C++ start-up log stays in the terminal, out of the file
            "--IPKernelApp.capture_fd_output=False",
        ],
        "display_name": f"Python 3 ({sys.executable})",
        "language": "python",
        "env": {
            "PYTHONPATH": pythonpath,
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        },
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return KERNEL_NAME


def execute(notebook, kernel_name=KERNEL_NAME, timeout=CELL_TIMEOUT_S):
    """Runs every cell of `notebook` (an nbformat node) in place, in `notebooks/`.

    Raises:
        nbclient.exceptions.CellExecutionError: with the traceback of a
            failing cell.
    """
    from nbclient import NotebookClient

    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name=kernel_name,
        record_timing=False,  # no timestamps: the file changes only with outputs
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    client.execute()
    return notebook


def main(argv=None):
    """Executes the notebooks given (default: all) and writes them back."""
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    default_data = REPO_ROOT.parent / "shared" / "data"
    os.environ.setdefault("DFCNN_DATA_DIR", str(default_data))
    with tempfile.TemporaryDirectory() as jupyter_dir:
        os.environ["JUPYTER_PATH"] = jupyter_dir
        kernel_name = write_kernel_spec(jupyter_dir)
        for path in paths:
            notebook = nbformat.read(path, as_version=4)
            execute(notebook, kernel_name)
            nbformat.write(notebook, path)
            print(f"{path}: {path.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
