"""Servers this Jupyter server runs for its groups (managed MLflow servers, model servers):
free loopback ports, and a last-resort stop when the interpreter exits.

Jupyter stops its extensions (and so these servers) on SIGTERM and on a confirmed Ctrl-C. A
Ctrl-C without a terminal ends the event loop with KeyboardInterrupt and skips that clean-up; the
process groups registered here are then terminated at interpreter exit, so no server outlives
the Jupyter server that owns it.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

_owned: set[int] = set()


def free_port(port: int = 0) -> int:
    """A free loopback port: `port` itself when nothing listens there (OSError when something
    does), else any. SO_REUSEADDR as uvicorn binds: connections of a stopped server do not count."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        return probe.getsockname()[1]


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


def port_is_free(port: int) -> bool:
    try:
        free_port(port)
    except OSError:
        return False
    return True


async def until_port_free(port: int, timeout: float) -> bool:
    """Wait until nothing listens on `port`: a stopped server's workers can hold it a moment
    after their parent is gone. False when it is still taken after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not port_is_free(port):
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


def with_our_python(env: Mapping[str, str]) -> dict[str, str]:
    """`env` with this Python's bin directory first on PATH: MLflow's servers start `uvicorn`
    by name, and must find this environment's."""
    return {**env, "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])}


async def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether `url` answers a GET with success, within `timeout` seconds."""
    try:
        await AsyncHTTPClient().fetch(url, request_timeout=timeout, connect_timeout=timeout)
    except (HTTPClientError, OSError):
        return False
    return True


async def until_answering(
    process: asyncio.subprocess.Process, url: str, timeout: float
) -> str | None:
    """Wait until the server `process` started answers `url`: None then, else why it did not
    (it exited, or the time ran out)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if process.returncode is not None:
            return f"exited with code {process.returncode}"
        if await answers(url):
            return None
        await asyncio.sleep(0.25)
    return f"did not answer within {timeout:g} s"


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
