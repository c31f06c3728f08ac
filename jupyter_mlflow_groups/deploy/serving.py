"""Serving a deployment: `mlflow models serve` on loopback (the `local` target), or any other
`mlflow.deployments` target through its plugin.

Local servers are child processes in their own process group, with the group's environment;
each deployment keeps its port across updates so its endpoint stays the same. They stop with
the Jupyter server.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from ..processes import (
    forget,
    free_port,
    stop_at_exit,
    until_answering,
    until_port_free,
    with_our_python,
)
from ..secrets import redact

LOCAL = "local"


class ServingError(Exception):
    """The model server did not come up (the message says why, secrets removed)."""


async def _until_free(port: int) -> None:
    if not await until_port_free(port, timeout=30.0):
        raise ServingError(f"port {port} is still taken by another process")


def endpoint_of(port: int) -> str:
    return f"http://127.0.0.1:{port}"


class LocalServers:
    def __init__(self, startup_timeout: float) -> None:
        self.startup_timeout = startup_timeout
        self._processes: dict[tuple[str, str], tuple[asyncio.subprocess.Process, int]] = {}

    def running(self, key: tuple[str, str]) -> bool:
        process, _ = self._processes.get(key, (None, 0))
        return process is not None and process.returncode is None

    async def start(
        self,
        key: tuple[str, str],
        model_dir: Path,
        port: int | None,
        env: Mapping[str, str],
        log_path: Path,
        secrets: list[str],
    ) -> int:
        """Serve `model_dir` on `port` (a free one when None) until /ping answers."""
        await self.stop(key)
        if port is not None:
            await _until_free(port)  # someone else's server, or one of a dead Jupyter server
        port = port or free_port()
        command = [
            sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model_dir),
            "-h", "127.0.0.1", "-p", str(port), "--env-manager", "local", "-w", "1",
        ]  # fmt: skip
        with log_path.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                *command, env=with_our_python(env), stdout=log, stderr=log, start_new_session=True
            )
        stop_at_exit(process.pid)
        self._processes[key] = (process, port)
        failure = await until_answering(process, f"{endpoint_of(port)}/ping", self.startup_timeout)
        if failure is not None:
            await self.stop(key)
            tail = log_path.read_text(errors="replace")[-1500:]
            raise ServingError(
                f"the model server {failure}. Last lines of {log_path.name}:\n"
                f"{redact(tail, secrets)}"
            )
        return port

    async def stop(self, key: tuple[str, str]) -> None:
        """Stop a deployment's server: its whole process group, until its port is free."""
        process, port = self._processes.pop(key, (None, 0))
        if process is None:
            return
        forget(process.pid)
        if process.returncode is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 20)
            except ProcessLookupError:
                pass
            except asyncio.TimeoutError:
                os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        await _until_free(port)  # uvicorn's workers outlive their parent by a moment

    async def stop_all(self) -> None:
        await asyncio.gather(*(self.stop(key) for key in list(self._processes)))


async def publish(
    target: str,
    action: str,
    name: str,
    model_uri: str | None,
    env: Mapping[str, str],
    secrets: list[str],
) -> str | None:
    """Create/update (`action="deploy"`) or delete a deployment on another `mlflow.deployments`
    target, in a process with the group's environment. Returns the endpoint it reports."""
    pipe = asyncio.subprocess.PIPE
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jupyter_mlflow_groups.deploy.publish",
        stdin=pipe, stdout=pipe, stderr=pipe, env=dict(env),
    )  # fmt: skip
    request = {"target": target, "action": action, "name": name, "model_uri": model_uri}
    stdout, stderr = await process.communicate(json.dumps(request).encode())
    if process.returncode != 0:
        reason = stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        raise ServingError(f"the '{target}' deployment target failed: {redact(reason[0], secrets)}")
    return json.loads(stdout or b"{}").get("endpoint")
