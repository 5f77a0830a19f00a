"""What code and libraries computed a run: recorded in `run.json` and in a
saved learner (`versions`).

The commit is read once per process, when first asked (as a run starts):
the code in memory is the checkout as it was then, so a `git pull` or an
edit while a long run goes on does not change what its later records say.
`git_modified` says whether the package's files then differed from that
commit (edited or added, not yet committed): such a run's numbers come from
code no commit holds.
"""

import functools
import platform
import subprocess
from pathlib import Path

from dfcnn_tf import __version__

PACKAGE = Path(__file__).parent


def versions():
    """Versions of Python, the libraries that shape the numbers, and the code."""
    import keras
    import numpy
    import pandas
    import tensorflow

    commit, modified = code_state()
    return {
        "dfcnn_tf": __version__,
        "git_commit": commit,
        "git_modified": modified,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "tensorflow": tensorflow.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
    }


@functools.cache
def code_state():
    """(commit, modified) of the checkout the package runs from, read once;
    (None, None) outside a git checkout (an installed package)."""
    commit = _git("rev-parse", "HEAD")
    if not commit:
        return None, None
    changes = _git("status", "--porcelain", "--", ".")
    return commit, None if changes is None else bool(changes)


def _git(*args):
    """The output of `git ARGS` in the package folder, or None if git fails."""
    try:
        out = subprocess.run(
            ["git", *args], capture_output=True, text=True, cwd=PACKAGE, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None
