"""Managed ("embedded") MLflow servers: the extension runs a group's tracking server itself.

For a group in `managed` mode, under the group's root:

    mlflow.db       the sqlite backend store
    artifacts/      the artifact store, served by the tracking server (proxied artifacts)
    server.json     who runs the server now: pid, port, url, owner (the Jupyter server's pid)
    server.lock     held while a Jupyter server decides to start one (flock)
    server.log      the tracking server's output

A supervisor per group keeps a server answering: it reuses one that another Jupyter server on the
same root already runs (never two servers on one sqlite file), starts one otherwise (the light
form: one worker, no job runner), and restarts it with backoff when it dies. The server a Jupyter
server started stops with it. Nothing here holds up Jupyter's start-up: supervisors run on the
event loop, and file work is small.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import signal
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .deploy.records import now
from .processes import (
    answers,
    forget,
    free_port,
    pid_alive,
    stop_at_exit,
    until_answering,
    until_port_free,
    with_our_python,
)

SERVER_FILE = "server.json"
_STRIPPED_PREFIXES = ("MLFLOW_", "AWS_")  # the server's own MLflow settings are not the group's


def backend_uri(root: Path) -> str:
    return f"sqlite:///{root / 'mlflow.db'}"


@dataclass
class ManagedState:
    """What the status endpoint and the CLI say about a managed server."""

    group: str
    root: str
    state: str = "stopped"  # starting, running, restarting, failed, stopped
    url: str | None = None
    pid: int | None = None
    owned: bool = False
    restarts: int = 0
    last_error: str | None = None
    since: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def read_record(root: Path) -> dict[str, Any] | None:
    try:
        record = json.loads((root / SERVER_FILE).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


async def healthy(url: str) -> bool:
    return await answers(f"{url}/health")


def server_command(root: Path, port: int) -> list[str]:
    return [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", backend_uri(root),
        "--artifacts-destination", str(root / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip


def server_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_STRIPPED_PREFIXES)}
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"  # the light form: 2 processes, ~0.5 GiB
    return with_our_python(env)


class ManagedServers:
    def __init__(
        self,
        log: logging.Logger,
        *,
        startup_timeout: float = 180.0,
        check_interval: float = 2.0,
        max_backoff: float = 60.0,
    ) -> None:
        self.log = log
        self.startup_timeout = startup_timeout
        self.check_interval = check_interval
        self.max_backoff = max_backoff
        self._states: dict[str, ManagedState] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._processes: dict[str, asyncio.subprocess.Process] = {}

    def state(self, group: str) -> ManagedState | None:
        return self._states.get(group)

    def url(self, group: str) -> str | None:
        """Where the group's server is, or will be while it starts or restarts: a kernel
        started meanwhile points at it (and waits for it) instead of at no server at all."""
        state = self._states.get(group)
        return state.url if state else None

    def ensure(self, group: str, root: Path) -> None:
        """Supervise the group's server from now on (idempotent; returns at once). Its URL is
        known from here on: the running server's, or the port the new one will take."""
        task = self._tasks.get(group)
        if task is not None and not task.done():
            return
        record = read_record(root)
        url = (
            record.get("url")
            if record and pid_alive(record.get("pid"))
            else f"http://127.0.0.1:{free_port()}"
        )
        self._states[group] = ManagedState(
            group=group, root=str(root), state="starting", url=url, since=now()
        )
        self._tasks[group] = asyncio.ensure_future(self._supervise(group, root))

    async def release(self, group: str) -> None:
        """Stop supervising a group's server but leave it running, for another process to adopt
        (`jupyter mlflow-groups demo` execs into JupyterLab with it)."""
        task = self._tasks.pop(group, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        process = self._processes.pop(group, None)
        if process is not None:
            forget(process.pid)

    # -- supervision -----------------------------------------------------------------------------

    async def _supervise(self, group: str, root: Path) -> None:
        state = self._states[group]
        backoff = 1.0
        while True:
            try:
                if await self._adopt_running(group, root):
                    backoff = 1.0
                elif not await self._start(group, root):
                    state.state = "restarting"
                    self.log.warning(
                        "MLflow groups: managed MLflow of '%s' failed (%s); again in %.0f s",
                        group, state.last_error, backoff,
                    )  # fmt: skip
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.max_backoff)
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as error:  # keep supervising whatever happens
                state.last_error = f"{error.__class__.__name__}: {error}"
                self.log.exception("MLflow groups: supervising the MLflow server of '%s'", group)
            await self._watch(group)

    async def _adopt_running(self, group: str, root: Path) -> bool:
        """True when a healthy server runs for this root (ours or another Jupyter server's)."""
        record = await asyncio.to_thread(read_record, root)
        if (
            not record
            or not pid_alive(record.get("pid"))
            or not await healthy(record.get("url", ""))
        ):
            return False
        state = self._states[group]
        if group not in self._processes and not pid_alive(record.get("owner")):
            record = await self._take_over(root, record)  # its Jupyter server is gone
        owned = record.get("owner") == os.getpid() or group in self._processes
        if owned:
            stop_at_exit(record["pid"])
        if state.state != "running" or state.pid != record["pid"]:
            who = (
                "this Jupyter server"
                if owned
                else f"another Jupyter server (pid {record.get('owner')})"
            )
            self.log.info(
                "MLflow groups: '%s' uses the MLflow server at %s, run by %s",
                group,
                record["url"],
                who,
            )
            state.since = now()
        state.state, state.url, state.pid, state.owned = (
            "running",
            record["url"],
            record["pid"],
            owned,
        )
        return True

    async def _take_over(self, root: Path, record: dict[str, Any]) -> dict[str, Any]:
        """Own a server whose Jupyter server died without stopping it: it stops with this one
        from now on. Under the lock, so one Jupyter server takes it, not two."""
        lock = await asyncio.to_thread(_try_lock, root / "server.lock")
        if lock is None:
            return record
        try:
            current = await asyncio.to_thread(read_record, root)
            if not current or current.get("pid") != record["pid"]:
                return current or record
            if not pid_alive(current.get("owner")):
                current = {**current, "owner": os.getpid()}
                await asyncio.to_thread(_write_record, root, current)
                self.log.info(
                    "MLflow groups: took over the MLflow server at %s (its Jupyter server is gone)",
                    current.get("url"),
                )
            return current
        finally:
            lock.close()

    async def _start(self, group: str, root: Path) -> bool:
        """Start a server unless another Jupyter server is starting one; True once it answers."""
        state = self._states[group]
        await self._stop(group)  # a server of ours that hangs: never two on one sqlite file
        await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
        lock = await asyncio.to_thread(_try_lock, root / "server.lock")
        if lock is None:  # another Jupyter server holds the lock: it is starting the server
            state.state = "starting"
            await asyncio.sleep(self.check_interval)
            return await self._adopt_running(group, root)
        try:
            if await self._adopt_running(group, root):  # started while we waited for the lock
                return True
            record = await asyncio.to_thread(read_record, root)
            if record and pid_alive(record.get("pid")) and record.get("owner") != os.getpid():
                if pid_alive(record.get("owner")):  # its Jupyter server will restart it
                    state.last_error = (
                        f"the MLflow server of another Jupyter server (pid {record.get('owner')}) "
                        "does not answer"
                    )
                    return False
                with contextlib.suppress(ProcessLookupError):  # orphaned and hung: replace it
                    os.killpg(record["pid"], signal.SIGKILL)
            port = await _port_for(state.url)
            url = f"http://127.0.0.1:{port}"
            state.state, state.url, state.since = "starting", url, now()
            if state.pid is not None:
                state.restarts += 1
            with (root / "server.log").open("ab") as log:
                process = await asyncio.create_subprocess_exec(
                    *server_command(root, port), env=server_environment(),
                    stdout=log, stderr=log, start_new_session=True,
                )  # fmt: skip
            self._processes[group] = process
            stop_at_exit(process.pid)
            state.pid, state.owned = process.pid, True
            record = {
                "pid": process.pid,
                "port": port,
                "url": url,
                "owner": os.getpid(),
                "started_at": now(),
            }
            await asyncio.to_thread(_write_record, root, record)
            if await until_answering(process, f"{url}/health", self.startup_timeout) is None:
                state.state, state.last_error = "running", None
                self.log.info("MLflow groups: started the MLflow server of '%s' at %s", group, url)
                return True
            state.last_error = _log_tail(root / "server.log")
            await self._stop(group)
            return False
        finally:
            lock.close()

    async def _watch(self, group: str) -> None:
        """Return when the server needs attention: it died, or stopped answering."""
        state = self._states[group]
        while True:
            process = self._processes.get(group)
            if process is not None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(process.wait(), self.check_interval)
                if process.returncode is not None:
                    self._processes.pop(group, None)
                    state.state = "restarting"
                    state.last_error = f"the MLflow server exited with code {process.returncode}"
                    self.log.warning("MLflow groups: %s ('%s')", state.last_error, group)
                    return
            else:
                await asyncio.sleep(self.check_interval)
                if not state.owned and not await asyncio.to_thread(_owner_alive, Path(state.root)):
                    return  # the Jupyter server that ran it is gone: take it over
            if not (pid_alive(state.pid) and state.url and await healthy(state.url)):
                state.state = "restarting"
                state.last_error = "the MLflow server stopped answering"
                return

    async def _stop(self, group: str) -> None:
        """Stop the server this Jupyter server runs for the group (started, or adopted after an
        exec: `jupyter mlflow-groups demo` hands its server over that way). The group's state
        is the caller's to say: a restart is not a stop."""
        process = self._processes.pop(group, None)
        state = self._states.get(group)
        pid = process.pid if process else (state.pid if state and state.owned else None)
        if pid is None:
            return
        forget(pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        if process is not None:
            try:
                await asyncio.wait_for(process.wait(), 20)
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                await process.wait()
        if state is not None:
            root = Path(state.root)
            record = await asyncio.to_thread(read_record, root)
            if record and record.get("pid") == pid:
                await asyncio.to_thread((root / SERVER_FILE).unlink, True)
            state.owned = (
                False  # the state stays (restarting, or stopped by stop_all); so does the URL
            )

    async def stop_all(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for group, state in self._states.items():
            await self._stop(group)
            state.state = "stopped"


def _owner_alive(root: Path) -> bool:
    record = read_record(root)
    return bool(record) and pid_alive(record.get("owner"))


def _try_lock(path: Path) -> Any:
    handle = path.open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _write_record(root: Path, record: dict[str, Any]) -> None:
    temporary = root / f".{SERVER_FILE}.{os.getpid()}"
    temporary.write_text(json.dumps(record))
    os.replace(temporary, root / SERVER_FILE)


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "the MLflow server did not start"
    return " | ".join(text[-lines:]) or "the MLflow server did not start"


async def _port_for(url: str | None) -> int:
    """The port of `url` (running kernels point there) once the server that had it lets go;
    any free port when it stays taken."""
    port = urlsplit(url or "").port
    if port and await until_port_free(port, timeout=10.0):
        return port
    return free_port()
