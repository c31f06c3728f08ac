"""Where the Jupyter server itself reaches a group's servers, and the HTTP clients that do it.

An `Upstream` is a base URL plus, for the servers this extension runs (a managed MLflow, a
local model server), the unix socket they listen on: those listen nowhere else, so only this
account's processes can connect. External MLflow servers are plain http(s) with the binding's
credentials, which stay in the server: the proxy adds them to each request it forwards.
"""

from __future__ import annotations

import hashlib
import json
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.netutil import Resolver
from tornado.simple_httpclient import SimpleAsyncHTTPClient

from .contract import mask_uri
from .tracking_auth import TrackingAuth

#: The Host a unix-socket server is asked as: MLflow's host check accepts loopback names.
SOCKET_HOST = "localhost"
#: Far above any artifact: a proxied download or upload streams, it is never held in memory.
_MAX_STREAMED_BODY = 2**50
_MAX_BUFFERED_BODY = 64 * 1024 * 1024


@dataclass(frozen=True)
class Upstream:
    """A server the Jupyter server talks to on a group's behalf (never shown: headers hold
    the group's credentials)."""

    base_url: str  # scheme://host[:port][/prefix], no trailing slash
    socket: str | None = None  # a unix socket to connect to instead of base_url's host
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    tls: Mapping[str, Any] = field(default_factory=dict, repr=False)
    label: str | None = None  # how messages name it (a socket's URL would mean nothing)

    @classmethod
    def on_socket(cls, path: str, label: str | None = None) -> Upstream:
        return cls(base_url=f"http://{SOCKET_HOST}", socket=path, label=label)

    @property
    def shown(self) -> str:
        """How people are told of this server: its label, else its URL without a password."""
        return self.label or mask_uri(self.base_url) or "?"

    @property
    def identity(self) -> tuple[str, ...]:
        """Changes whenever where or as whom we connect does (for cache keys)."""
        digest = hashlib.sha256(json.dumps(sorted(self.headers.items())).encode()).hexdigest()
        return (self.base_url, self.socket or "", digest)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Upstream:
        """An MLflow server as a kernel environment describes it (URI, credentials, TLS)."""
        auth = TrackingAuth.from_env(env)
        tls = {
            "validate_cert": auth.verify,
            "ca_certs": auth.ca_certs,
            "client_cert": auth.client_cert,
        }
        return cls(base_url=auth.base_url, headers=dict(auth.headers), tls=tls)

    def url(self, path: str) -> str:
        """`path` (starting with /, query included) on this server."""
        return f"{self.base_url}{path}"


class _SocketResolver(Resolver):
    """Every host name resolves to one unix socket (tornado's client then connects there)."""

    def initialize(self, path: str) -> None:  # type: ignore[override]
        self.path = path

    async def resolve(self, host: str, port: int, family: Any = None) -> list[tuple[int, Any]]:
        return [(socket.AF_UNIX, self.path)]


class HttpClients:
    """One client for TCP servers and one per unix socket, all owned here and closed together.

    Private instances (`force_instance`), so our limits never change another extension's
    shared client; body limits fit streaming (the proxy) and buffered reads (the registry)."""

    def __init__(self, max_clients: int = 64) -> None:
        self.max_clients = max_clients
        self._tcp: AsyncHTTPClient | None = None
        self._sockets: dict[str, AsyncHTTPClient] = {}

    def for_upstream(self, upstream: Upstream) -> AsyncHTTPClient:
        if upstream.socket is None:
            if self._tcp is None:
                self._tcp = self._make()
            return self._tcp
        client = self._sockets.get(upstream.socket)
        if client is None:
            client = self._sockets[upstream.socket] = self._make(
                resolver=_SocketResolver(path=upstream.socket)
            )
        return client

    def _make(self, **kwargs: Any) -> AsyncHTTPClient:
        return SimpleAsyncHTTPClient(
            force_instance=True,
            max_clients=self.max_clients,
            max_body_size=_MAX_STREAMED_BODY,
            max_buffer_size=_MAX_BUFFERED_BODY,
            **kwargs,
        )

    def close(self) -> None:
        for client in [self._tcp, *self._sockets.values()]:
            if client is not None:
                client.close()
        self._tcp, self._sockets = None, {}


class ProxySessions:
    """The aiohttp sessions the proxy streams through, owned here and closed together:
    kept-alive connections to each unix socket (the servers we run: nothing stalls there), and
    a fresh connection per request over TCP (a multi-worker MLflow server leaves Nagle on, so a
    reused connection waits 40 ms for the client's delayed ACK; a new one costs about 1 ms).
    Bodies are read in 256 KiB pieces: fewer steps for the event loop per GiB streamed."""

    READ_SIZE = 256 * 1024

    def __init__(self) -> None:
        self._sessions: dict[str | None, aiohttp.ClientSession] = {}

    def for_upstream(self, upstream: Upstream) -> aiohttp.ClientSession:
        session = self._sessions.get(upstream.socket)
        if session is None or session.closed:
            connector: aiohttp.BaseConnector = (
                aiohttp.UnixConnector(path=upstream.socket, limit=64)
                if upstream.socket
                else aiohttp.TCPConnector(force_close=True, limit=64)
            )
            session = self._sessions[upstream.socket] = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,  # bodies pass through as the upstream encoded them
                read_bufsize=self.READ_SIZE,
                skip_auto_headers=("Accept-Encoding", "User-Agent"),  # the client's own pass
                timeout=aiohttp.ClientTimeout(total=None),  # each request sets its own
            )
        return session

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions = {}


def ssl_context(upstream: Upstream) -> ssl.SSLContext | bool:
    """The TLS settings of an https upstream as aiohttp takes them (True: the defaults)."""
    if not upstream.base_url.startswith("https://") or not upstream.tls:
        return True
    context = ssl.create_default_context(cafile=upstream.tls.get("ca_certs"))
    if not upstream.tls.get("validate_cert", True):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if upstream.tls.get("client_cert"):
        context.load_cert_chain(upstream.tls["client_cert"])
    return context


async def answers(
    clients: HttpClients, upstream: Upstream, path: str, timeout: float = 2.0
) -> bool:
    """Whether `path` on `upstream` answers with success within `timeout` seconds."""
    client = clients.for_upstream(upstream)
    try:
        await client.fetch(upstream.url(path), request_timeout=timeout, connect_timeout=timeout)
    except (HTTPClientError, OSError):
        return False
    return True
