"""What a stop may leave behind in this process and on this machine: child processes, threads,
open files, locks. The life-cycle tests compare these before a start and after a stop."""

from __future__ import annotations

import asyncio
import fcntl
import os
import threading
from collections.abc import Callable
from pathlib import Path


def _live_processes() -> dict[int, tuple[int, bytes]]:
    """pid -> (parent pid, command line) of every process that is not a zombie."""
    found: dict[int, tuple[int, bytes]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            found[int(entry.name)] = (int(fields[1]), command)
    return found


def processes_naming(text: str) -> list[int]:
    """Pids of live processes whose command line names `text` (a group's root, say)."""
    needle = os.fsencode(text)
    return [pid for pid, (_, command) in _live_processes().items() if needle in command]


def descendants(pid: int | None = None) -> dict[int, str]:
    """Live processes started by `pid` (by default this one), however deep: pid -> command."""
    processes = _live_processes()
    children: dict[int, list[int]] = {}
    for child, (parent, _) in processes.items():
        children.setdefault(parent, []).append(child)
    found: dict[int, str] = {}
    pending = list(children.get(os.getpid() if pid is None else pid, []))
    while pending:
        child = pending.pop()
        found[child] = processes[child][1].replace(b"\0", b" ").decode(errors="replace")
        pending.extend(children.get(child, []))
    return found


def files_open_under(root: Path) -> list[str]:
    """What this process holds open under `root`."""
    opened = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(root)):
            opened.append(target)
    return opened


def our_threads() -> set[str]:
    """Threads other than the event loop's executor workers (asyncio's, reused, not ours)."""
    return {t.name for t in threading.enumerate() if not t.name.startswith("asyncio_")}


def lock_is_free(path: Path) -> bool:
    """Nobody holds the flock on `path` (a managed server's server.lock)."""
    if not path.exists():
        return True
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


async def eventually(condition: Callable[[], object], timeout: float = 5.0) -> bool:
    """Threads of a cancelled call may still be finishing (they release what they took)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True
