"""Serving a deployment: `mlflow models serve` on loopback (the `local` target), or any other
`mlflow.deployments` target through its plugin.

Local servers are child processes in their own process group, with the group's environment;
each deployment keeps its port across updates so its endpoint stays the same. They stop with
the Jupyter server. One whose Jupyter server was killed alone (the OOM killer, `kill -9`) lives
on in its own session: its pid file in the deployment's directory lets the next Jupyter server
stop it before serving the deployment again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from ..processes import (
    forget,
    free_port,
    pid_alive,
    stop_at_exit,
    until_answering,
    until_port_free,
    with_our_python,
)
from ..secrets import redact

LOCAL = "local"
PID_FILE = "serve.pid"
LOG_FILE = "serve.log"


class ServingError(Exception):
    """The model server did not come up (the message says why, secrets removed)."""


async def _until_free(port: int) -> None:
    if not await until_port_free(port, timeout=30.0):
        raise ServingError(f"port {port} is still taken by another process")


async def _stop_orphan(pid_file: Path) -> None:
    """Stop the model server a killed Jupyter server left behind (its pid file says so); refuse
    when the Jupyter server that started it still runs: the deployment is that server's."""
    try:
        record = json.loads(pid_file.read_text())
        pid, owner = int(record["pid"]), int(record["owner"])
    except (OSError, ValueError, TypeError, KeyError):
        return
    if owner != os.getpid() and pid_alive(owner) and pid_alive(pid):
        raise ServingError(f"another Jupyter server (pid {owner}) serves this deployment")
    if pid_alive(pid) and _is_model_server(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 20
            while pid_alive(pid) and loop.time() < deadline:
                await asyncio.sleep(0.1)
            if pid_alive(pid):
                os.killpg(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)


def _is_model_server(pid: int) -> bool:
    """Whether `pid` is still an `mlflow models serve` (and not another program the pid was
    given to since)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"mlflow" in command and b"serve" in command


def endpoint_of(port: int) -> str:
    return f"http://127.0.0.1:{port}"


class LocalServers:
    def __init__(self, startup_timeout: float) -> None:
        self.startup_timeout = startup_timeout
        self._processes: dict[tuple[str, str], tuple[asyncio.subprocess.Process, int, Path]] = {}

    def running(self, key: tuple[str, str]) -> bool:
        process, _, _ = self._processes.get(key, (None, 0, Path()))
        return process is not None and process.returncode is None

    async def start(
        self,
        key: tuple[str, str],
        model_dir: Path,
        port: int | None,
        env: Mapping[str, str],
        directory: Path,
        secrets: list[str],
    ) -> int:
        """Serve `model_dir` on `port` (a free one when None) until /ping answers; its log and
        pid file go in the deployment's `directory`."""
        await self.stop(key)
        await _stop_orphan(directory / PID_FILE)
        if port is not None:
            await _until_free(port)  # someone else's server, or one of a dead Jupyter server
        port = port or free_port()
        command = [
            sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model_dir),
            "-h", "127.0.0.1", "-p", str(port), "--env-manager", "local", "-w", "1",
        ]  # fmt: skip
        log_path = directory / LOG_FILE
        with log_path.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                *command, env=with_our_python(env), stdout=log, stderr=log, start_new_session=True
            )
        stop_at_exit(process.pid)
        self._processes[key] = (process, port, directory)
        owner = json.dumps({"pid": process.pid, "owner": os.getpid()})
        await asyncio.to_thread((directory / PID_FILE).write_text, owner)
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
        process, port, directory = self._processes.pop(key, (None, 0, Path()))
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
        (directory / PID_FILE).unlink(missing_ok=True)
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
