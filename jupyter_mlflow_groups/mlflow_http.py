"""Async HTTP to a group's MLflow server, with the binding's auth, and failures classified.

The server is an `Upstream`: an external server as the kernels' variables describe it (read
through TrackingAuth, so the server and the kernels agree on auth and TLS), or the unix socket
of a server this extension runs.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Mapping
from io import BytesIO
from typing import Any
from urllib.parse import urlencode, urlsplit

from tornado.httpclient import AsyncHTTPClient, HTTPRequest, HTTPResponse
from tornado.iostream import StreamClosedError
from tornado.simple_httpclient import HTTPStreamClosedError, HTTPTimeoutError

from .contract import mask_uri
from .errors import MlflowError, not_mlflow_api
from .tracking_auth import WORKSPACE_HEADER
from .upstream import Upstream


class TooLarge(Exception):
    """An answer longer than the caller's limit: its size when the server said it."""

    def __init__(self, size: int | None) -> None:
        super().__init__(size)
        self.size = size


class MlflowHttp:
    """Talks to one MLflow tracking server."""

    def __init__(self, upstream: Upstream, client: AsyncHTTPClient) -> None:
        self.upstream = upstream
        self.shown_url = upstream.shown
        self._client = client
        self._host = urlsplit(upstream.base_url).hostname or upstream.base_url

    async def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float,
        in_workspace: bool = True,
    ) -> tuple[HTTPResponse, float]:
        """GET `path` under the tracking URI; returns the 2xx response and seconds taken.

        `in_workspace=False` leaves the workspace header out (for the workspace API itself).
        """
        return await self.request("GET", path, params, timeout=timeout, in_workspace=in_workspace)

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        *,
        timeout: float,
        in_workspace: bool = True,
    ) -> tuple[HTTPResponse, float]:
        """`method` on `path` (a JSON `body`, when given); the 2xx response and seconds taken,
        or the failure classified as an MlflowError."""
        request = self._request(method, path, params, body, timeout, in_workspace)
        started = time.perf_counter()
        try:
            response = await self._client.fetch(request, raise_error=False)
        except Exception as error:  # classified below; nothing else may escape
            raise self._classify_transport(error, timeout) from None
        elapsed = time.perf_counter() - started
        if response.code >= 300:
            raise self._classify_status(response)
        return response, elapsed

    async def get_at_most(
        self, path: str, params: Mapping[str, Any], limit: int, *, timeout: float
    ) -> bytes:
        """GET `path`'s body, streamed and kept only up to `limit` bytes: TooLarge (and the
        connection dropped) as soon as the answer says or shows it is longer."""
        status: list[int] = []
        chunks: list[bytes] = []
        received = 0
        refused: list[TooLarge] = []  # tornado reports the dropped connection, not why

        def on_header(line: str) -> None:
            if not status and line.startswith("HTTP/"):
                status.append(int(line.split()[1]))
                return
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length" and status and status[0] < 300:
                size = value.strip()
                if size.isdigit() and int(size) > limit:
                    refused.append(TooLarge(int(size)))
                    raise refused[-1]

        def on_chunk(chunk: bytes) -> None:
            nonlocal received
            received += len(chunk)
            if received > limit and status and status[0] < 300:
                refused.append(TooLarge(None))
                raise refused[-1]
            if received <= limit + 65536:  # an error's body is kept for its message
                chunks.append(chunk)

        request = self._request(
            "GET",
            path,
            params,
            None,
            timeout,
            header_callback=on_header,
            streaming_callback=on_chunk,
        )
        try:
            response = await self._client.fetch(request, raise_error=False)
        except Exception as error:  # classified below; nothing else may escape
            if refused:
                raise refused[0] from None
            raise self._classify_transport(error, timeout) from None
        if refused:
            raise refused[0]
        body = b"".join(chunks)
        if response.code >= 300:
            raise self._classify_status(
                HTTPResponse(request, response.code, response.headers, BytesIO(body))
            )
        return body

    def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any,
        timeout: float,
        in_workspace: bool = True,
        **callbacks: Any,
    ) -> HTTPRequest:
        """A request of `path` under the tracking URI, with the group's headers and TLS."""
        query = f"?{urlencode(params, doseq=True)}" if params else ""
        headers = dict(self.upstream.headers)
        if not in_workspace:
            headers.pop(WORKSPACE_HEADER, None)
        if body is not None:
            headers["Content-Type"] = "application/json"
        return HTTPRequest(
            self.upstream.url(f"{path}{query}"),
            method=method,
            headers=headers,
            body=json.dumps(body) if body is not None else None,
            allow_nonstandard_methods=True,  # MLflow's DELETEs take a JSON body
            connect_timeout=timeout,
            request_timeout=timeout,
            follow_redirects=False,
            **callbacks,
            **self.upstream.tls,
        )

    async def get_json(
        self, path: str, params: Mapping[str, Any] | None = None, *, timeout: float
    ) -> tuple[Any, float]:
        return await self.request_json("GET", path, params, timeout=timeout)

    async def request_json(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        *,
        timeout: float,
    ) -> tuple[Any, float]:
        """`request`, its answer parsed: MLflow's API answers JSON, anything else is reported."""
        response, elapsed = await self.request(method, path, params, body, timeout=timeout)
        try:
            return json.loads(response.body), elapsed
        except ValueError:
            what = "something that is not JSON"
            raise MlflowError(
                "mlflow_error", not_mlflow_api(self.shown_url, path, what), response.code
            ) from None

    def _classify_transport(self, error: BaseException, timeout: float) -> MlflowError:
        where = self.shown_url
        if isinstance(error, HTTPTimeoutError):
            return MlflowError("timeout", f"MLflow at {where} did not answer within {timeout:g} s")
        if isinstance(error, ssl.SSLCertVerificationError):
            return MlflowError(
                "tls", f"TLS certificate of {where} not accepted: {error.verify_message}"
            )
        if isinstance(error, ssl.SSLError):
            return MlflowError("tls", f"TLS handshake with {where} failed: {error.reason or error}")
        if isinstance(error, ConnectionRefusedError):
            return MlflowError(
                "unreachable", f"MLflow at {where} is not reachable: connection refused"
            )
        if isinstance(error, socket.gaierror):
            return MlflowError(
                "unreachable",
                f"MLflow at {where} is not reachable: host name '{self._host}' does not resolve",
            )
        if isinstance(error, (HTTPStreamClosedError, StreamClosedError)):
            # tornado also closes the stream on an answer that is not HTTP at all
            return MlflowError(
                "unreachable",
                f"MLflow at {where} closed the connection without an HTTP answer: it stopped, "
                "or the tracking URI's scheme or port is not the MLflow server's",
            )
        if isinstance(error, OSError):
            reason = error.strerror or error.__class__.__name__
            return MlflowError("unreachable", f"MLflow at {where} is not reachable: {reason}")
        if isinstance(error, ValueError):  # e.g. an unsupported URL
            return MlflowError("not_configured", f"Cannot talk to {where}: {error}")
        return MlflowError("unreachable", f"MLflow at {where} failed: {error.__class__.__name__}")

    def _classify_status(self, response: HTTPResponse) -> MlflowError:
        code = response.code
        detail = _mlflow_message(response)
        where = self.shown_url
        if code == 400:
            return MlflowError("bad_request", f"MLflow refused the request{detail}", code)
        if code == 401:
            return MlflowError(
                "unauthorized", f"MLflow at {where} refused the credentials (401)", code
            )
        if code == 403:
            return MlflowError("forbidden", f"MLflow at {where} denied access (403){detail}", code)
        if code == 404:
            return MlflowError(
                "not_found", f"MLflow at {where} has no such resource (404){detail}", code
            )
        if 300 <= code < 400:
            target = mask_uri(response.headers.get("Location", "?"))
            return MlflowError(
                "mlflow_error",
                f"MLflow at {where} redirects to {target}: fix the tracking URI",
                code,
            )
        return MlflowError("mlflow_error", f"MLflow at {where} answered {code}{detail}", code)


def _mlflow_message(response: HTTPResponse) -> str:
    """MLflow's own error message (`{"error_code", "message"}`), shortened, if there is one."""
    try:
        body = json.loads(response.body or b"")
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message:
        return ""
    return f": {message[:300]}"
