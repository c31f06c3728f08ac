"""Blocking HTTP for the copy worker: one persistent connection per thread, no stalls.

MLflow's server (uvicorn) leaves Nagle's algorithm on, so on a reused connection a small
response's body waits for the client's delayed ACK: 40 ms per request. Asking the kernel to ACK
at once (TCP_QUICKACK, Linux) right before reading each response removes the stall while keeping
the connection (and its TLS session) for the next request.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlencode, urlsplit

from ..errors import not_mlflow_api
from ..secrets import mask_uri
from ..tracking_auth import TrackingAuth
from .errors import CopyError, Stopped

CHUNK = 1024 * 1024
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


class HttpPool:
    def __init__(self, auth: TrackingAuth, timeout: float = 60.0) -> None:
        self.auth = auth
        parts = urlsplit(auth.base_url)
        self.secure = parts.scheme == "https"
        self.host, self.port = parts.hostname or "", parts.port
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()
        self._context = auth.ssl_context() if self.secure else None

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
        return CopyError("mlflow_error", not_mlflow_api(mask_uri(self.auth.base_url), path, what))

    def download(
        self,
        path: str,
        destination: Path,
        on_bytes: Callable[[int], None],
        should_stop: Callable[[], bool],
    ) -> None:
        response = self._get(path, None)
        with destination.open("wb") as sink:
            try:
                _stream(response, sink, on_bytes, should_stop)
            except http.client.IncompleteRead:
                raise CopyError(
                    "unreachable", f"{self.host} closed the connection in the middle of {path}"
                ) from None
            except TimeoutError:
                raise self._timed_out(path) from None

    def _read(self, response: http.client.HTTPResponse, path: str) -> bytes:
        try:
            return response.read()
        except http.client.IncompleteRead:
            raise self.not_mlflow(path, "an answer cut short") from None
        except TimeoutError:
            raise self._timed_out(path) from None

    def _timed_out(self, path: str) -> CopyError:
        return CopyError("timeout", f"{self.host} did not answer {path} within {self.timeout:g} s")

    def _get(self, path: str, params: Mapping[str, Any] | None) -> http.client.HTTPResponse:
        target = self.prefix + path + (f"?{urlencode(params, doseq=True)}" if params else "")
        for attempt in (1, 2):  # a kept-alive connection the server closed: retry once, fresh
            connection = self._connection(fresh=attempt == 2)
            try:
                connection.request("GET", target, headers=dict(self.auth.headers))
                if _QUICKACK is not None and connection.sock is not None:
                    connection.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
                response = connection.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                if attempt == 2:
                    raise CopyError("unreachable", f"{self.host} closed the connection") from None
                continue
            except TimeoutError:
                raise self._timed_out(path) from None
            except http.client.HTTPException:  # a status line or headers that are not HTTP
                raise self.not_mlflow(path, "something that is not HTTP") from None
            except OSError as error:
                reason = error.strerror or error.__class__.__name__
                raise CopyError("unreachable", f"{self.host} is not reachable: {reason}") from None
            if response.status >= 400:
                response.read()
                raise _status_error(response.status, path)
            return response
        raise AssertionError("unreachable")

    def _connection(self, fresh: bool) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None or fresh:
            if connection is not None:
                connection.close()
            if self.secure:
                connection = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.timeout, context=self._context
                )
            else:
                connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._local.connection = connection
        return connection


def _stream(
    response: BinaryIO,
    sink: BinaryIO,
    on_bytes: Callable[[int], None],
    should_stop: Callable[[], bool],
) -> None:
    while chunk := response.read(CHUNK):
        if should_stop():
            raise Stopped()
        sink.write(chunk)
        on_bytes(len(chunk))


def _status_error(status: int, path: str) -> CopyError:
    code = {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(status, "mlflow_error")
    return CopyError(code, f"MLflow answered {status} for {path.split('?')[0]}")
