"""Blocking HTTP for the copy worker: one persistent connection per thread, no stalls.

MLflow's server (uvicorn) leaves Nagle's algorithm on, so on a reused connection a small
response's body waits for the client's delayed ACK: 40 ms per request. Asking the kernel to ACK
at once (TCP_QUICKACK, Linux) right before reading each response removes the stall while keeping
the connection (and its TLS session) for the next request.

A managed group's MLflow may listen only on a unix socket in a private directory: a pool given
`unix_socket` sends every request there (`Host: localhost`), whatever host its URL names.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import SplitResult, urlencode, urlsplit

from ..contract import mask_uri
from ..errors import not_mlflow_api
from ..tracking_auth import TrackingAuth
from .errors import CopyError, Stopped

CHUNK = 1024 * 1024
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)
_DEFAULT_PORTS = {"http": 80, "https": 443}

#: scheme, host (lowercase), port (the scheme's default if none)
Origin = tuple[str, str, int | None]


def origin_of(parts: SplitResult) -> Origin:
    """Who a URL talks to: two URLs of one origin reach the same server."""
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)


def oversized(path: str, size: int) -> CopyError:
    """The store sent (or is about to send) more bytes than it announced: the copy stops there,
    so a hostile or broken store cannot fill the disk through a file listed as small."""
    return CopyError(
        "unsafe_source",
        f"the store sent more than the {size} bytes it announced for {path}: the copy was "
        "stopped. The file changed while it was copied, or the artifact store is not what it "
        "claims to be: deploy again, and ask your admin to check the store if it happens again",
    )


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a unix socket: the connection says `Host: localhost`."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class HttpPool:
    def __init__(
        self, auth: TrackingAuth, timeout: float = 60.0, unix_socket: str | None = None
    ) -> None:
        self.auth = auth
        self.unix_socket = unix_socket
        parts = urlsplit(auth.base_url)
        self.origin = origin_of(parts)
        self.secure = parts.scheme == "https" and unix_socket is None
        self.host, self.port = parts.hostname or "", parts.port
        #: in messages: the host (or the socket) that failed, and the URL (without a password)
        #: or the socket that answered
        self.name = f"the MLflow socket {unix_socket}" if unix_socket else self.host
        self.where = self.name if unix_socket else mask_uri(auth.base_url) or self.name
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()
        self._context = auth.ssl_context() if self.secure else None

    def serves(self, url: str) -> bool:
        """True when `url` is on this pool's server (same scheme, host and port)."""
        return bool(self.auth.base_url) and origin_of(urlsplit(url)) == self.origin

    def at(self, base_url: str) -> HttpPool:
        """A pool for another base URL. The same server keeps the credentials (and the socket);
        another host gets none of them: the group's credentials are for its tracking server."""
        if self.serves(base_url):
            return HttpPool(replace(self.auth, base_url=base_url), self.timeout, self.unix_socket)
        headers = {k: v for k, v in self.auth.headers.items() if k.lower() != "authorization"}
        anonymous = replace(self.auth, base_url=base_url, headers=headers, client_cert=None)
        return HttpPool(anonymous, self.timeout)

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A JSON object from MLflow's API; a web page, cut-short JSON or another kind of JSON
        is not MLflow's API, and said so."""
        response = self._get(path, params)
        try:
            body = json.loads(self._read(response, path))
        except ValueError:
            raise self.not_mlflow(path, "something that is not JSON") from None
        if not isinstance(body, dict):
            raise self.not_mlflow(path, f"JSON that is not an object ({type(body).__name__})")
        return body

    def not_mlflow(self, path: str, what: str) -> CopyError:
        return CopyError("mlflow_error", not_mlflow_api(self.where, path, what))

    def download(
        self,
        path: str,
        destination: Path,
        size: int | None,
        on_bytes: Callable[[int], None],
        should_stop: Callable[[], bool],
        shown: str,
    ) -> None:
        """Stream `path` into `destination`, never more than `size` bytes (the listing's), or
        than the answer's Content-Length when the listing gave none; `shown` names the file."""
        response = self._get(path, None)
        try:
            limit = _limit(size, response.length, shown)
            with destination.open("wb") as sink:
                _stream(response, sink, limit, on_bytes, should_stop, shown)
        except http.client.IncompleteRead:
            raise CopyError(
                "unreachable", f"{self.name} closed the connection in the middle of {path}"
            ) from None
        except TimeoutError:
            raise self._timed_out(path) from None
        finally:
            if not response.isclosed():  # bytes left unread: the connection cannot be reused
                self._forget_connection()

    def _read(self, response: http.client.HTTPResponse, path: str) -> bytes:
        try:
            return response.read()
        except http.client.IncompleteRead:
            raise self.not_mlflow(path, "an answer cut short") from None
        except TimeoutError:
            raise self._timed_out(path) from None

    def _timed_out(self, path: str) -> CopyError:
        return CopyError("timeout", f"{self.name} did not answer {path} within {self.timeout:g} s")

    def _get(self, path: str, params: Mapping[str, Any] | None) -> http.client.HTTPResponse:
        target = self.prefix + path + (f"?{urlencode(params, doseq=True)}" if params else "")
        for attempt in (1, 2):  # a kept-alive connection the server closed: retry once, fresh
            connection = self._connection(fresh=attempt == 2)
            try:
                connection.request("GET", target, headers=dict(self.auth.headers))
                if _QUICKACK is not None and self.unix_socket is None and connection.sock:
                    connection.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
                response = connection.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                if attempt == 2:
                    raise CopyError("unreachable", f"{self.name} closed the connection") from None
                continue
            except TimeoutError:
                raise self._timed_out(path) from None
            except http.client.HTTPException:  # a status line or headers that are not HTTP
                raise self.not_mlflow(path, "something that is not HTTP") from None
            except OSError as error:
                reason = error.strerror or error.__class__.__name__
                raise CopyError("unreachable", f"{self.name} is not reachable: {reason}") from None
            if response.status >= 300:
                self._forget_connection()  # its body is not worth reading
                raise _status_error(self.name, response.status, path)
            return response
        raise AssertionError("unreachable")

    def _connection(self, fresh: bool) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None or fresh:
            if connection is not None:
                connection.close()
            connection = self._new_connection()
            self._local.connection = connection
        return connection

    def _new_connection(self) -> http.client.HTTPConnection:
        if self.unix_socket:
            return UnixHTTPConnection(self.unix_socket, self.timeout)
        if self.secure:
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=self.timeout, context=self._context
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def _forget_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


def _limit(size: int | None, length: int | None, shown: str) -> int:
    """How many bytes the copy takes of a file: what the listing announced (an answer that
    announces more is refused at once), else what the answer announces, else nothing."""
    if size is None:
        if length is None:
            raise CopyError(
                "unsafe_source",
                f"the store announced no size for {shown}, neither in its listing nor in its "
                "answer (Content-Length): the copy takes no file of unknown size. Ask your admin "
                "to check the artifact store",
            )
        return length
    if length is not None and length > size:
        raise oversized(shown, size)
    return size


def _stream(
    response: BinaryIO,
    sink: BinaryIO,
    limit: int,
    on_bytes: Callable[[int], None],
    should_stop: Callable[[], bool],
    shown: str,
) -> None:
    """Copy the answer, reading at most one byte past `limit` (to see that it is exceeded) and
    writing nothing past it."""
    written = 0
    while chunk := response.read(min(CHUNK, limit - written + 1)):
        if should_stop():
            raise Stopped()
        if written + len(chunk) > limit:
            raise oversized(shown, limit)
        sink.write(chunk)
        written += len(chunk)
        on_bytes(len(chunk))


def _status_error(name: str, status: int, path: str) -> CopyError:
    path = path.split("?")[0]
    if status < 400:
        return CopyError(
            "unsafe_source",
            f"{name} answered {path} with a redirect ({status}): the copy follows no redirects, "
            "which could lead to another host. Ask your admin to set the tracking URI to the "
            "address the server redirects to",
        )
    code = {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(status, "mlflow_error")
    return CopyError(code, f"MLflow answered {status} for {path}")
