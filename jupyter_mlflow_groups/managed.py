"""Managed ("embedded") MLflow servers: the extension runs a group's tracking server itself.

For a group in `managed` mode, under the group's root:

    mlflow.db       the sqlite backend store
    artifacts/      the artifact store, served by the tracking server (proxied artifacts)
    server.json     who runs the server now: pid, socket, owner (the Jupyter server's pid)
    server.lock     held while a Jupyter server decides to start one (flock)
    server.log      the tracking server's output

The server listens only on a unix socket in this account's private runtime directory (see
processes.py): members reach it through the Jupyter server's authenticated proxy, kernels
included. A supervisor per group keeps it answering: it reuses one that another Jupyter server
of this account already runs for the same root (never two servers on one sqlite file), starts
one otherwise (the light form: one worker, no job runner), and restarts it with backoff when it
dies. The server a Jupyter server started stops with it. Nothing here holds up Jupyter's
start-up: supervisors run on the event loop, and file work is small.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import logging
import os
import shlex
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from .deploy.records import now
from .environments import child_environment
from .errors import Stopping
from .processes import (
    ChildError,
    ChildServer,
    forget,
    pid_alive,
    private_root,
    stop_at_exit,
)
from .threads import owned_result
from .upstream import Upstream

HEALTH = "/health"


def backend_uri(root: Path) -> str:
    return f"sqlite:///{root / 'mlflow.db'}"


@dataclass
class ManagedState:
    """What the status endpoint and the CLI say about a managed server."""

    group: str
    root: str
    state: str = "stopped"  # starting, running, restarting, failed, stopped
    pid: int | None = None
    owned: bool = False
    restarts: int = 0
    last_error: str | None = None
    since: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def managed_server(root: Path, group: str) -> ChildServer:
    """The managed MLflow server of a group root (its record, log and socket)."""
    return ChildServer(
        root, "mlflow", record="server.json", log="server.log",
        what=f"the MLflow server of '{group}'",
    )  # fmt: skip


def server_command(root: Path, socket: Path) -> list[str]:
    return [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", backend_uri(root),
        "--artifacts-destination", str(root / "artifacts"),
        "--workers", "1", "--uvicorn-opts", f"--uds {shlex.quote(str(socket))}",
    ]  # fmt: skip


#: Registry webhooks to the Jupyter server that started it, over loopback http (MLflow allows
#: only https to public addresses by default), with a short cache of the webhook list, so that
#: one registered after an event is called at the next. Its members can run code on this host
#: in kernels already: deliveries to this host's addresses reach nothing new.
WEBHOOK_ENVIRONMENT = {
    "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
    "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
    "MLFLOW_WEBHOOK_CACHE_TTL": "5",
}


def server_environment() -> dict[str, str]:
    """What the tracking server gets: no group's credentials (it needs none: its stores are
    local), no Jupyter token; the light form (2 processes, ~0.5 GiB); webhooks back to us."""
    return {
        **child_environment(os.environ),
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        **WEBHOOK_ENVIRONMENT,
    }


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
        self._servers: dict[str, ChildServer] = {}
        self._sockets: dict[str, str] = {}  # where each group's server answers (ours or adopted)
        self._stopped = False

    def state(self, group: str) -> ManagedState | None:
        return self._states.get(group)

    def upstream(self, group: str) -> Upstream | None:
        """Where the group's server answers, or will once it has started: known from `ensure`
        on, so a request meanwhile waits for it instead of going nowhere."""
        socket = self._sockets.get(group)
        return Upstream.on_socket(socket) if socket else None

    def ensure(self, group: str, root: Path) -> None:
        """Supervise the group's server from now on (idempotent; returns at once). Stopping
        once stop_all has run: nothing starts after the Jupyter server stops."""
        if self._stopped:
            raise Stopping(f"the MLflow server of '{group}'")
        task = self._tasks.get(group)
        if task is not None and not task.done():
            return
        server = self._servers.setdefault(group, managed_server(root, group))
        record = server.live_record()
        self._sockets[group] = str(record["socket"]) if record else str(server.socket)
        self._states[group] = ManagedState(
            group=group, root=str(root), state="starting", since=now()
        )
        self._tasks[group] = asyncio.ensure_future(self._supervise(group))

    async def release(self, group: str) -> None:
        """Stop supervising a group's server but leave it running, for another process to adopt
        (`jupyter mlflow-groups demo` execs into JupyterLab with it)."""
        task = self._tasks.pop(group, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        server = self._servers.get(group)
        if server is not None and server.process is not None:
            forget(server.process.pid)
            server.process = None

    # -- supervision -----------------------------------------------------------------------------

    async def _supervise(self, group: str) -> None:
        state = self._states[group]
        backoff = 1.0
        while True:
            try:
                if await self._adopt_running(group):
                    backoff = 1.0
                elif not await self._start(group):
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

    async def _adopt_running(self, group: str) -> bool:
        """True when a healthy server runs for this root (ours or another Jupyter server's)."""
        server = self._servers[group]
        record = await asyncio.to_thread(server.live_record)
        if not record or not await server.healthy(HEALTH, record["socket"]):
            return False
        state = self._states[group]
        if server.process is None and not pid_alive(record.get("owner")):
            record = await self._take_over(server, record)  # its Jupyter server is gone
        owned = record.get("owner") == os.getpid() or server.process is not None
        if owned:
            stop_at_exit(record["pid"])
        if state.state != "running" or state.pid != record["pid"]:
            who = (
                "this Jupyter server"
                if owned
                else f"another Jupyter server (pid {record.get('owner')})"
            )
            self.log.info("MLflow groups: '%s' uses the MLflow server run by %s", group, who)
            state.since = now()
        self._sockets[group] = str(record["socket"])
        state.state, state.pid, state.owned = "running", record["pid"], owned
        return True

    async def _take_over(self, server: ChildServer, record: dict[str, Any]) -> dict[str, Any]:
        """Own a server whose Jupyter server died without stopping it: it stops with this one
        from now on. Under the lock, so one Jupyter server takes it, not two."""
        async with _server_lock(server) as lock:
            if lock is None:
                return record
            current = await asyncio.to_thread(server.live_record)
            if not current or current.get("pid") != record["pid"]:
                return current or record
            if not pid_alive(current.get("owner")):
                current = {**current, "owner": os.getpid()}
                await asyncio.to_thread(server.write_record, current)
                self.log.info(
                    "MLflow groups: took over the MLflow server of %s (its Jupyter server is gone)",
                    server.directory,
                )
            return current

    async def _start(self, group: str) -> bool:
        """Start a server unless another Jupyter server is starting one; True once it answers."""
        state, server = self._states[group], self._servers[group]
        await self._stop(group)  # a server of ours that hangs: never two on one sqlite file
        await asyncio.to_thread(private_root, server.directory, self.log)
        async with _server_lock(server) as lock:
            if lock is None:  # another Jupyter server holds the lock: it is starting the server
                state.state = "starting"
                await asyncio.sleep(self.check_interval)
                return await self._adopt_running(group)
            if await self._adopt_running(group):  # started while we waited for the lock
                return True
            record = await asyncio.to_thread(server.live_record)
            if record and record.get("owner") != os.getpid():
                if pid_alive(record.get("owner")):  # its Jupyter server will restart it
                    state.last_error = (
                        f"the MLflow server of another Jupyter server (pid {record.get('owner')}) "
                        "does not answer"
                    )
                    return False
                with contextlib.suppress(ProcessLookupError):  # orphaned and hung: replace it
                    os.killpg(record["pid"], signal.SIGKILL)
            state.state, state.since = "starting", now()
            if state.pid is not None:
                state.restarts += 1
            self._sockets[group] = str(server.socket)
            try:
                await server.start(
                    server_command(server.directory, server.socket),
                    server_environment(),
                    HEALTH,
                    self.startup_timeout,
                )
            except ChildError as error:
                state.last_error = " | ".join(str(error).splitlines()[-5:])
                return False
            assert server.process is not None
            state.state, state.pid, state.owned, state.last_error = (
                "running", server.process.pid, True, None,
            )  # fmt: skip
            self.log.info("MLflow groups: started the MLflow server of '%s'", group)
            return True

    async def _watch(self, group: str) -> None:
        """Return when the server needs attention: it died, or stopped answering."""
        state, server = self._states[group], self._servers[group]
        while True:
            process = server.process
            if process is not None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(process.wait(), self.check_interval)
                if process.returncode is not None:
                    server.process = None
                    state.state = "restarting"
                    state.last_error = f"the MLflow server exited with code {process.returncode}"
                    self.log.warning("MLflow groups: %s ('%s')", state.last_error, group)
                    return
            else:
                await asyncio.sleep(self.check_interval)
                if not state.owned and not await asyncio.to_thread(_owner_alive, server):
                    return  # the Jupyter server that ran it is gone: take it over
            socket = self._sockets.get(group)
            if not (pid_alive(state.pid) and await server.healthy(HEALTH, socket)):
                state.state = "restarting"
                state.last_error = "the MLflow server stopped answering"
                return

    async def _stop(self, group: str) -> None:
        """Stop the server this Jupyter server runs for the group (started, or adopted after an
        exec: `jupyter mlflow-groups demo` hands its server over that way). The group's state
        is the caller's to say: a restart is not a stop."""
        state, server = self._states.get(group), self._servers.get(group)
        if server is None:
            return
        adopted = state.pid if state and state.owned and server.process is None else None
        await server.stop(pid=adopted)
        if state is not None:
            state.owned = False  # the state stays (restarting, or stopped by stop_all)

    async def stop_all(self) -> None:
        """Stop supervising (and wait until every supervisor has ended), then stop the servers
        this Jupyter server runs; from now on nothing starts."""
        self._stopped = True
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        for group, state in self._states.items():
            await self._stop(group)
            state.state = "stopped"


def _owner_alive(server: ChildServer) -> bool:
    record = server.read_record()
    return bool(record) and pid_alive(record.get("owner"))


@contextlib.asynccontextmanager
async def _server_lock(server: ChildServer) -> AsyncIterator[IO[str] | None]:
    """The lock a Jupyter server holds while it decides to start or take over a group's
    server: its open handle, or None when another process holds it; released on exit, and
    also when the task waiting for it is cancelled (see owned_result)."""
    path = server.directory / "server.lock"
    handle = await owned_result(functools.partial(_try_lock, path), _release)
    try:
        yield handle
    finally:
        _release(handle)


def _try_lock(path: Path) -> IO[str] | None:
    handle = path.open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _release(handle: IO[str] | None) -> None:
    if handle is not None:
        handle.close()
