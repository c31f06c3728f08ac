"""binder/, proven here: in a fresh virtual environment, mybinder's steps (postBuild installs the
package and builds its sidebar, start seeds the demo), then the tour notebook through the server
they started. It installs everything from the package indexes, so it is not part of the suite:
`scripts/binder-check` runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from support.jupyter import JupyterServerProcess
from support.processes import stopped
from support.tour import group_ready, run_the_tour

REPO = Path(__file__).parents[1]


def checkout(destination: Path) -> Path:
    """The project's files as a clone has them (plus uncommitted changes): no build output."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (REPO / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, destination / name)
    return destination


def run(command: list[str], **kwargs) -> str:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


@pytest.mark.timeout(1800)
async def test_binder_installs_seeds_starts_and_runs_the_tour(tmp_path):
    repo = checkout(tmp_path / "repo")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JUPYTER", "VIRTUAL_ENV", "PYTHON"))
    }
    environment["PATH"] = f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"

    run(["binder/postBuild"], cwd=repo, env=environment)
    extensions = run([str(venv / "bin" / "jupyter"), "labextension", "list"], env=environment)
    assert "jupyter-mlflow-groups" in extensions and "enabled" in extensions, extensions

    server = JupyterServerProcess(
        tmp_path / "home",
        env={**environment, "JUPYTER_MLFLOW_GROUPS_FILE": ""},
        launcher=[str(repo / "binder" / "start"), str(venv / "bin" / "jupyter"), "lab"],
    )
    try:
        server.start(timeout=600)
        page = urllib.request.urlopen(f"{server.url}/lab?token={server.token}").read().decode()
        assert "jupyter-mlflow-groups" in page  # JupyterLab loads the sidebar
        status = await group_ready(server)
        deployment = await run_the_tour(server)
        assert deployment["model"] == "iris-classifier"
    finally:
        server.stop()
    assert stopped(status["managed"]["pid"])
