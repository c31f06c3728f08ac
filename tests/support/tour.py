"""The example notebook (examples/tour.ipynb), run through a real Jupyter server: what a new
user sees after the README's run command, or on mybinder."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

from .jupyter import JupyterServerProcess

GROUP = "/mlflow-groups/api/groups/default"
TOUR = Path(__file__).resolve().parents[2] / "examples" / "tour.ipynb"


async def group_ready(server: JupyterServerProcess, timeout: float = 120) -> dict[str, Any]:
    """The default group's status, once its managed MLflow server answers."""
    deadline = time.monotonic() + timeout
    while not (status := server.request("GET", f"{GROUP}/status"))["ok"]:
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.5)
    return status


async def run_the_tour(server: JupyterServerProcess, tour: Path = TOUR) -> dict[str, Any]:
    """Run every cell on the server's zero-configuration group, check what the cells show,
    and return the deployment the tour made."""
    outputs = "\n".join(await server.run_notebook(tour))
    assert "MLflow group: default" in outputs and "Status: OK" in outputs, outputs
    assert "champion" in outputs  # the versions table
    endpoint = "/mlflow-groups/groups/default/deployments/iris-demo/"  # on Jupyter, not loopback
    assert re.search(rf"^done {re.escape(endpoint)}$", outputs, re.MULTILINE), outputs
    assert "{'predictions': [" in outputs  # the deployment answered
    deployments = server.request("GET", f"{GROUP}/deployments")
    assert [d["name"] for d in deployments["deployments"]] == ["iris-demo"]
    return deployments["deployments"][0]
