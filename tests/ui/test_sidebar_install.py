"""`pip install` ships the sidebar built: JupyterLab lists it as enabled, installed by pip."""

from __future__ import annotations

import re
import subprocess
import sys


def test_jupyterlab_lists_the_sidebar_as_enabled():
    listing = subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "list"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)
    assert re.search(
        r"jupyter-mlflow-groups v\S+ enabled OK \(python, jupyter-mlflow-groups\)", text
    ), text
