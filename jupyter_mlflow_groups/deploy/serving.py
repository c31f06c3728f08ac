"""Serving a deployment: MLflow's scoring server on a unix socket (the `local` target), or any
other `mlflow.deployments` target through its plugin.

Local servers are child servers (processes.py) in their own process group, listening only on a
socket in this account's private runtime directory: members call them through the Jupyter
server's authenticated proxy, at the same path across updates. They run with no credentials
(they serve a verified local copy) and stop with the Jupyter server. One whose Jupyter server was
killed alone (the OOM killer, `kill -9`) lives on in its own session: its record in the
deployment's directory lets the next Jupyter server stop it before serving the deployment again.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Mapping
from pathlib import Path

from ..processes import ChildError, ChildServer
from ..secrets import redact
from ..upstream import Upstream
from .layout import SERVE_LOG, SERVE_PID

LOCAL = "local"
READY = "/ping"


class ServingError(Exception):
    """The model server did not come up (the message says why, secrets removed)."""


def model_server(directory: Path, name: str) -> ChildServer:
    """The model server of the deployment whose files are in `directory`."""
    return ChildServer(
        directory, "model", record=SERVE_PID, log=SERVE_LOG, what=f"the model server of '{name}'"
    )


class LocalServers:
    def __init__(self, startup_timeout: float) -> None:
        self.startup_timeout = startup_timeout
        self._servers: dict[tuple[str, str], ChildServer] = {}
        self._stopped = False

    def upstream(self, key: tuple[str, str]) -> Upstream | None:
        """Where the deployment's server answers, while it runs."""
        server = self._servers.get(key)
        if server is None or server.process is None or server.process.returncode is not None:
            return None
        return server.upstream

    def running(self, key: tuple[str, str]) -> bool:
        return self.upstream(key) is not None

    async def start(
        self,
        key: tuple[str, str],
        model_dir: Path,
        env: Mapping[str, str],
        directory: Path,
        secrets: list[str],
    ) -> None:
        """Serve `model_dir` until /ping answers; its log and record go in the deployment's
        `directory`."""
        if self._stopped:
            raise ServingError("The Jupyter server is stopping: no model server starts any more.")
        await self.stop(key)
        server = model_server(directory, key[1])
        command = [
            sys.executable, "-m", "jupyter_mlflow_groups.deploy.model_server",
            str(model_dir), str(server.socket),
        ]  # fmt: skip
        try:
            await server.stop_orphan()  # left by a killed Jupyter server
            self._servers[key] = server
            await server.start(command, env, READY, self.startup_timeout)
        except ChildError as error:
            self._servers.pop(key, None)
            raise ServingError(redact(str(error), secrets)) from None

    async def stop(self, key: tuple[str, str]) -> None:
        """Stop a deployment's server: its whole process group."""
        server = self._servers.pop(key, None)
        if server is not None:
            await server.stop()

    async def stop_all(self) -> None:
        """Stop every deployment's server; from now on none starts."""
        self._stopped = True
        await asyncio.gather(*(self.stop(key) for key in list(self._servers)))


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
