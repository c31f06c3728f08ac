"""Servers this Jupyter server runs for its groups (managed MLflow servers, model servers):
free loopback ports, and a last-resort stop when the interpreter exits.

Jupyter stops its extensions (and so these servers) on SIGTERM and on a confirmed Ctrl-C. A
Ctrl-C without a terminal ends the event loop with KeyboardInterrupt and skips that clean-up; the
process groups registered here are then terminated at interpreter exit, so no server outlives
the Jupyter server that owns it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket

_owned: set[int] = set()


def free_port(port: int = 0) -> int:
    """A free loopback port: `port` itself when nothing listens there (OSError when something
    does), else any. SO_REUSEADDR as uvicorn binds: connections of a stopped server do not count."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    try:
        free_port(port)
    except OSError:
        return False
    return True


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
