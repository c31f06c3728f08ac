"""The servers this Jupyter server runs for its groups (managed MLflow servers, model servers):
one way to start, find, check and stop them.

Each listens on a unix socket in a private directory (mode 0700, this account's), never on a
TCP port, so no other account on the host can connect: members reach it through the Jupyter
server, which checks who they are. Each has, in its own directory, a record (`pid`, `owner`: the
Jupyter server that runs it, `socket`, `started_at`) and a log. A record whose owner is gone
marks an orphan (its Jupyter server was killed alone): the next Jupyter server adopts or stops
it, after checking that the pid still runs our command (pids are reused).

Jupyter stops its extensions (and so these servers) on SIGTERM and on a confirmed Ctrl-C. A
Ctrl-C without a terminal ends the event loop with KeyboardInterrupt and skips that clean-up; the
process groups registered here are then terminated at interpreter exit, so no server outlives
the Jupyter server that owns it.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import json
import logging
import os
import signal
import stat
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_runtime_dir

from .deploy.records import now
from .upstream import HttpClients, Upstream, answers

#: sun_path holds 107 bytes on Linux; a little room for the kernel's own accounting.
_MAX_SOCKET_PATH = 100
_owned: set[int] = set()


class ChildError(Exception):
    """A child server could not be started or found (the message says why)."""


def pid_alive(pid: Any) -> bool:
    """Whether a process runs: a zombie (dead, not yet reaped by its parent) does not."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):  # no /proc here: the signal said it exists
        return True


def runs_command_with(pid: int, marker: str) -> bool:
    """Whether `pid` still runs a command naming `marker` (its socket): not another program
    the pid was given to since."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return os.fsencode(marker) in command


def private_directory(path: Path) -> Path:
    """`path` as a directory only this account may enter: created 0700, or checked (and
    tightened, when it is ours); a link or another account's directory is refused."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise ChildError(
            f"{path} is not a directory owned by this account: sockets cannot be kept private "
            "there (remove it, or set JUPYTER_RUNTIME_DIR to a directory of your own)"
        )
    if info.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def private_root(path: Path, log: logging.Logger) -> Path:
    """A group's own directory (its MLflow's database and artifacts, its deployments): created
    for this account only; one of ours that others may enter is closed to them, and one of
    someone else's that others may enter is reported (an admin may share it with a Unix group
    on purpose, never with everyone)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_mode & 0o007:
        if info.st_uid == os.getuid():
            os.chmod(path, info.st_mode & 0o770)
            log.info("MLflow groups: closed %s to other accounts (chmod o-rwx)", path)
        else:
            log.warning(
                "MLflow groups: %s is open to every account on this host: a group's data should "
                "not be (chmod o-rwx %s)",
                path,
                path,
            )
    return path


def socket_path(kind: str, directory: Path) -> Path:
    """Where the `kind` server of `directory` listens: one path per directory, the same across
    restarts, in this account's Jupyter runtime directory (or, when that path would be too long
    for a socket, in a private directory of its own under the system's temporary directory)."""
    name = f"{kind}-{hashlib.sha256(os.fsencode(directory)).hexdigest()[:16]}.sock"
    bases = (
        Path(jupyter_runtime_dir()) / "mlflow-groups",
        Path(tempfile.gettempdir()) / f"mlflow-groups-{os.getuid()}",
    )
    for base in bases:
        if len(os.fsencode(base / name)) <= _MAX_SOCKET_PATH:
            return private_directory(base) / name
    raise ChildError(
        f"no directory short enough for a unix socket (tried {', '.join(map(str, bases))})"
    )


def with_our_python(env: Mapping[str, str]) -> dict[str, str]:
    """`env` with this Python's bin directory first on PATH: MLflow's servers start `uvicorn`
    by name, and must find this environment's."""
    return {**env, "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])}


class ChildServer:
    """One server of ours for one directory: its record, log, socket and process."""

    def __init__(self, directory: Path, kind: str, *, record: str, log: str, what: str) -> None:
        self.directory = directory
        self.record_path = directory / record
        self.log_path = directory / log
        self.kind = kind
        self.what = what  # for messages: "the MLflow server of 'team-a'"
        self.process: asyncio.subprocess.Process | None = None
        self._socket: Path | None = None

    @property
    def socket(self) -> Path:
        if self._socket is None:
            self._socket = socket_path(self.kind, self.directory)
        return self._socket

    @property
    def upstream(self) -> Upstream:
        return Upstream.on_socket(str(self.socket))

    # -- the record -----------------------------------------------------------------------------

    def read_record(self) -> dict[str, Any] | None:
        try:
            record = json.loads(self.record_path.read_text())
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    def write_record(self, record: dict[str, Any]) -> None:
        temporary = self.record_path.with_name(f".{self.record_path.name}.{os.getpid()}")
        temporary.write_text(json.dumps(record))
        os.replace(temporary, self.record_path)

    def live_record(self) -> dict[str, Any] | None:
        """The record, if its server still runs (our command, under its pid)."""
        record = self.read_record()
        if record is None or not pid_alive(record.get("pid")):
            return None
        if not runs_command_with(record["pid"], str(record.get("socket", ""))):
            return None
        return record

    # -- running ----------------------------------------------------------------------------------

    async def start(
        self, command: list[str], env: Mapping[str, str], ready_path: str, timeout: float
    ) -> None:
        """Start the server and wait until it answers `ready_path` on its socket; ChildError
        (with the end of its log) when it exits or does not answer in time."""
        await asyncio.to_thread(self.directory.mkdir, parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)  # a stale socket of a dead server
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *command, env=with_our_python(env), stdin=asyncio.subprocess.DEVNULL,
                stdout=log, stderr=log, start_new_session=True,
            )  # fmt: skip
        stop_at_exit(self.process.pid)
        record = {
            "pid": self.process.pid,
            "owner": os.getpid(),
            "socket": str(self.socket),
            "started_at": now(),
        }
        await asyncio.to_thread(self.write_record, record)
        failure = await self.until_answering(ready_path, timeout)
        if failure is not None:
            await self.stop()
            raise ChildError(f"{self.what} {failure}. Last lines of its log:\n{self.log_tail()}")

    async def until_answering(self, path: str, timeout: float) -> str | None:
        """None once the server we started answers `path`, else why it did not."""
        assert self.process is not None
        clients = HttpClients(max_clients=1)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while loop.time() < deadline:
                if self.process.returncode is not None:
                    return f"exited with code {self.process.returncode}"
                if await answers(clients, self.upstream, path):
                    return None
                await asyncio.sleep(0.1)
        finally:
            clients.close()
        return f"did not answer within {timeout:g} s"

    async def healthy(self, path: str, socket: str | None = None) -> bool:
        """Whether the server (at `socket`, by default ours) answers `path` now."""
        clients = HttpClients(max_clients=1)
        try:
            return await answers(clients, Upstream.on_socket(socket or str(self.socket)), path)
        finally:
            clients.close()

    async def stop(self, pid: int | None = None, grace: float = 20.0) -> None:
        """Stop our process (or the process group `pid` of an adopted one) and forget its
        record and socket; SIGKILL after `grace` seconds."""
        process, self.process = self.process, None
        target = process.pid if process is not None else pid
        if target is None:
            return
        forget(target)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(target, signal.SIGTERM)
        await _until_gone(process, target, grace)
        record = await asyncio.to_thread(self.read_record)
        if record and record.get("pid") == target:
            await asyncio.to_thread(self.record_path.unlink, True)
            with contextlib.suppress(OSError):
                Path(str(record.get("socket", ""))).unlink(missing_ok=True)

    async def stop_orphan(self) -> None:
        """Stop the server a killed Jupyter server left behind; ChildError when a Jupyter
        server that still runs owns it (it is that server's)."""
        record = await asyncio.to_thread(self.live_record)
        if record is None:
            await asyncio.to_thread(self.record_path.unlink, True)
            return
        owner = record.get("owner")
        if owner != os.getpid() and pid_alive(owner):
            raise ChildError(f"another Jupyter server (pid {owner}) runs {self.what}")
        await self.stop(pid=record["pid"])

    def log_tail(self, lines: int = 20, limit: int = 1500) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.strip().splitlines()[-lines:])[-limit:] or "(empty log)"


async def _until_gone(process: asyncio.subprocess.Process | None, pid: int, grace: float) -> None:
    if process is not None:
        try:
            await asyncio.wait_for(process.wait(), grace)
        except asyncio.TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            await process.wait()
        return
    loop = asyncio.get_running_loop()  # not our child: poll until it is gone
    deadline = loop.time() + grace
    while pid_alive(pid) and loop.time() < deadline:
        await asyncio.sleep(0.1)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def stop_at_exit(process_group: int) -> None:
    """Terminate this process group when the interpreter exits, unless `forget` comes first."""
    _owned.add(process_group)


def forget(process_group: int) -> None:
    _owned.discard(process_group)


def _terminate_owned() -> None:
    for process_group in list(_owned):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process_group, signal.SIGTERM)
    _owned.clear()


atexit.register(_terminate_owned)
