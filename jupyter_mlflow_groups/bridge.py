"""A managed group's MLflow made reachable for one admin command, and for it only.

A managed server listens on a unix socket, which MLflow's own client (`mlflow gc`, the demo's
seeding) cannot use. For the length of one command, a loopback port forwards to the socket
through the same streaming proxy as the Jupyter server's, and admits only requests carrying a
random token the command passes to MLflow's client as MLFLOW_TRACKING_TOKEN: another account on
the host finds the port but cannot use it.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from .errors import MlflowError
from .proxy import Forwarder
from .upstream import ProxySessions, Upstream


@dataclass(frozen=True)
class BridgeAddress:
    url: str  # the tracking URI to give MLflow's client
    token: str  # its MLFLOW_TRACKING_TOKEN


@web.stream_request_body
class _BridgeHandler(Forwarder, web.RequestHandler):  # type: ignore[misc]
    prefix = re.compile("^")
    log = logging.getLogger(__name__)

    def initialize(self, upstream: Upstream, sessions: ProxySessions, token: str) -> None:
        self.upstream, self.sessions, self.token = upstream, sessions, token
        self.connect_timeout, self.request_timeout = 10.0, 3600.0

    async def prepare(self) -> None:
        sent = self.request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(sent, f"Bearer {self.token}".encode()):
            raise web.HTTPError(403)
        self.start_forwarding()

    def content_policy(self, path: str) -> str | None:
        return None  # MLflow's client, not a browser

    def forward_failed(self, failure: MlflowError) -> None:
        self.send_error(502, reason=failure.message[:200])


@contextmanager
def loopback_bridge(upstream: Upstream) -> Iterator[BridgeAddress]:
    """Forward a loopback port to `upstream` while the block runs (on a thread of its own, so
    the block may call MLflow synchronously)."""
    token = secrets.token_urlsafe(32)
    sockets = bind_sockets(0, "127.0.0.1")
    port = sockets[0].getsockname()[1]
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, Any] = {}

    def serve() -> None:
        asyncio.set_event_loop(loop)
        sessions = ProxySessions()
        app = web.Application(
            [(r"/.*", _BridgeHandler, {"upstream": upstream, "sessions": sessions, "token": token})]
        )
        server = HTTPServer(app, max_body_size=2**40)
        server.add_sockets(sockets)
        state.update(server=server, sessions=sessions)
        loop.call_soon(ready.set)
        loop.run_forever()

    thread = threading.Thread(target=serve, name="mlflow-groups-bridge", daemon=True)
    thread.start()
    ready.wait()
    try:
        yield BridgeAddress(f"http://127.0.0.1:{port}", token)
    finally:

        async def shut() -> None:
            state["server"].stop()
            await state["sessions"].close()
            loop.stop()

        asyncio.run_coroutine_threadsafe(shut(), loop)
        thread.join(10)
        loop.close()
