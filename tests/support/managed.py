"""The zero-configuration group's managed MLflow server, watched through a Jupyter server."""

from __future__ import annotations

import asyncio
import time

from .jupyter import JupyterClient

STATUS = "/mlflow-groups/api/groups/default/status"


async def until(check, timeout: float = 120.0, interval: float = 0.25):
    """The first truthy value of `check()` (which may be async), or a TimeoutError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(interval)
    raise TimeoutError(f"not true after {timeout} s")


def running(server: JupyterClient):
    """The default group's status if its managed MLflow runs and answers, else None."""
    status = server.request("GET", STATUS)
    return status if status["ok"] and status["managed"]["state"] == "running" else None
