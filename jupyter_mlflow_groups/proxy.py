"""Members reach their group's MLflow and local deployments through the Jupyter server.

    {base_url}mlflow-groups/groups/{group}/mlflow/{path}              the group's MLflow (UI, API)
    {base_url}mlflow-groups/groups/{group}/deployments/{name}/{path}  a local deployment's
                                                                      invocations, ping, health,
                                                                      version

Every request is authenticated and authorized by Jupyter Server (a browser's cookie, a Jupyter
token, or a kernel's own token: MLflow's client sends MLFLOW_TRACKING_TOKEN as a Bearer token)
and checked against the group's members; the server adds the group's credentials itself, so
members never hold the service account's password, and re-reads them (`${file:}`) for each
request. Bodies stream both ways with backpressure: a multi-GB artifact is never held in
memory. The proxied UI runs in Jupyter's origin, so:

- a cookie-authenticated request that changes something must come from Jupyter's own origin
  (Origin, or the browser's Sec-Fetch-Site): MLflow's UI sends no XSRF token;
- what members logged (an HTML or SVG artifact, a model's output) is served with
  `Content-Security-Policy: sandbox`: it never runs script with a member's Jupyter session;
- the upstream's cookies, CORS grants and auth challenges never reach the browser.

jupyter-server-proxy's ProxyHandler was the model; it holds request bodies (and most responses)
whole in memory and leaves XSRF to the proxied app, neither of which fits here: this is built on
tornado's `stream_request_body` and aiohttp's client (pooled connections to a unix socket, and
reads whose pace the browser sets) instead.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from jupyter_server.auth.utils import HTTP_METHOD_TO_AUTH_ACTION
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import httputil, web
from tornado.iostream import StreamClosedError

from .contract import GROUPS_PATH, TOKEN_HEADER
from .errors import MlflowError
from .handler_base import GroupsHandlerBase
from .upstream import ProxySessions, Upstream, ssl_context

_HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade",
    }
)  # fmt: skip
#: Never forwarded: Jupyter's credentials (cookies, tokens) are no business of MLflow's, and
#: the origin check is done here (MLflow's own would refuse Jupyter's origin).
_DROPPED_REQUEST = _HOP_BY_HOP | {
    "host", "cookie", "authorization", "x-xsrftoken", "x-csrftoken", "x-mlflow-groups-token",
    "origin", "referer",
}  # fmt: skip
#: Never passed back: they would set cookies on Jupyter's origin, grant other origins access,
#: make the browser ask members for the service account's password, or replace our framing
#: and content policies.
_DROPPED_RESPONSE = _HOP_BY_HOP | {
    "set-cookie", "www-authenticate", "x-frame-options", "content-security-policy",
    "content-security-policy-report-only", "server", "date",
} | {
    f"access-control-{name}"
    for name in (
        "allow-origin", "allow-credentials", "allow-methods", "allow-headers", "expose-headers",
        "max-age",
    )
}  # fmt: skip
#: The MLflow UI's own page and files: the only upstream content allowed to run script.
_UI_SHELL = re.compile(r"^/(|index\.html|static-files/.*)$")
SANDBOX = "sandbox; frame-ancestors 'self'"
_CHUNKS_IN_FLIGHT = 4


class Forwarder:
    """The streaming half of a proxy handler (a tornado RequestHandler mixin, the class
    decorated with `web.stream_request_body`): `start_forwarding` once the request is allowed,
    before its body arrives; every method then waits for the answer to be passed back."""

    upstream: Upstream
    sessions: ProxySessions
    prefix: re.Pattern[str]  # the route up to the proxied path, on the raw request path
    connect_timeout: float
    request_timeout: float
    forwarding: asyncio.Future[None] | None = None
    body_complete = False
    request: httputil.HTTPServerRequest
    log: Any

    def content_policy(self, path: str) -> str | None:
        """The Content-Security-Policy of an answer for `path` (None: the handler's default)."""
        return SANDBOX

    def forward_failed(self, failure: MlflowError) -> None:
        """Answer that the upstream failed (before anything of its answer was sent)."""
        self.send_error(502, exc_info=(type(failure), failure, None))  # type: ignore[attr-defined]

    def start_forwarding(self) -> None:
        self.body_chunks: asyncio.Queue[bytes | None] = asyncio.Queue(_CHUNKS_IN_FLIGHT)
        self._response_started = False
        self.forwarding = asyncio.ensure_future(self._forward())

    async def data_received(self, chunk: bytes) -> None:
        """Hand the chunk to the upstream request, waiting while it is behind (backpressure);
        once forwarding has failed, the rest of the body is dropped."""
        if self.forwarding is None or self.forwarding.done():
            return
        put = asyncio.ensure_future(self.body_chunks.put(chunk))
        await asyncio.wait([put, self.forwarding], return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()

    async def relay(self, *_: Any, **__: Any) -> None:
        """Every method: the body has arrived; wait for the answer to be passed back."""
        self.body_complete = True
        if self.forwarding is None:
            return
        if not self.forwarding.done():
            await self.body_chunks.put(None)
        await self.forwarding

    get = head = post = put = patch = delete = options = relay

    def flush(self, include_footers: bool = False) -> Awaitable[None]:
        """An answer that starts before the whole request has arrived (a refusal, a login
        redirect, an early upstream answer) ends the connection: tornado closes it. Say so in
        the answer, or a proxy in front (JupyterHub's) reuses it and fails the next request."""
        handler: Any = self
        if not handler._headers_written and not self.body_complete:
            handler.set_header("Connection", "close")
        return super().flush(include_footers)  # type: ignore[misc]

    async def _forward(self) -> None:
        path, query = self._proxied_path(), self.request.query
        has_body = (
            self.request.method in ("POST", "PUT", "PATCH")
            or self.request.headers.get("Content-Length", "0") != "0"
            or "Transfer-Encoding" in self.request.headers
        )
        session = self.sessions.for_upstream(self.upstream)
        timeout = aiohttp.ClientTimeout(total=self.request_timeout, connect=self.connect_timeout)
        try:
            async with session.request(
                self.request.method or "GET",
                self.upstream.url(path + (f"?{query}" if query else "")),
                headers=self._request_headers(),
                data=self._body() if has_body else None,
                allow_redirects=False,
                ssl=ssl_context(self.upstream),
                timeout=timeout,
            ) as answer:
                self._start_response(answer, self.content_policy(path))
                async for chunk in answer.content.iter_chunked(ProxySessions.READ_SIZE):
                    self.write(chunk)  # type: ignore[attr-defined]
                    await self.flush()  # type: ignore[attr-defined]  # at the browser's pace
        except StreamClosedError:  # the browser went away: nothing more to do
            return
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as error:
            self._fail(error)
            return
        self.finish()  # type: ignore[attr-defined]

    async def _body(self) -> AsyncIterator[bytes]:
        while (chunk := await self.body_chunks.get()) is not None:
            yield chunk

    def _start_response(self, answer: aiohttp.ClientResponse, policy: str | None) -> None:
        self._response_started = True
        handler: Any = self
        handler.set_status(answer.status, answer.reason or None)
        handler.clear_header("Content-Type")
        for raw_name, raw_value in answer.raw_headers:
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            lowered = name.lower()
            if lowered in _DROPPED_RESPONSE:
                continue
            if lowered == "location":
                value = self._rewrite_location(value)
            handler.add_header(name, value)
        handler.set_header("X-Content-Type-Options", "nosniff")
        if policy is not None:
            handler.set_header("Content-Security-Policy", policy)

    def _fail(self, error: Exception) -> None:
        """The upstream failed: say so if nothing was sent yet, else cut the answer short."""
        if self._response_started:
            self.log.warning("MLflow groups: %s broke off: %s", self.request.path, error)
            self.request.connection.close()  # type: ignore[union-attr]
            return
        message = f"{self.upstream.shown} could not be reached"
        if isinstance(error, asyncio.TimeoutError):
            message = f"{self.upstream.shown} did not answer in time"
        self.forward_failed(MlflowError("unreachable", f"{message} ({error.__class__.__name__})"))

    def _proxied_path(self) -> str:
        """The rest of the raw request path after the route's prefix (never re-encoded)."""
        match = self.prefix.match(self.request.path)
        assert match is not None
        return "/" + self.request.path[match.end() :].lstrip("/")

    def _request_headers(self) -> httputil.HTTPHeaders:
        headers = httputil.HTTPHeaders()
        for name, value in self.request.headers.get_all():
            if name.lower() not in _DROPPED_REQUEST:
                headers.add(name, value)
        authorization = self.upstream.headers.get("Authorization")
        if authorization:
            headers["Authorization"] = authorization
        return headers

    def _rewrite_location(self, location: str) -> str:
        """A redirect within the upstream stays within the proxy."""
        parts, base = urlsplit(location), urlsplit(self.upstream.base_url)
        if parts.netloc and parts.netloc != base.netloc:
            return location
        path = parts.path
        if base.path and path.startswith(base.path):
            path = path[len(base.path) :]
        if not path.startswith("/"):
            return location  # relative to the page: stays under the proxy as it is
        prefix = self.prefix.match(self.request.path)
        assert prefix is not None
        rewritten = self.request.path[: prefix.end()].rstrip("/") + path
        return rewritten + (f"?{parts.query}" if parts.query else "")


@web.stream_request_body
class ProxyHandler(GroupsHandlerBase, Forwarder, JupyterHandler):  # type: ignore[misc]
    """Forwards one member's request to a group's server, with the group's credentials."""

    route: str  # the route's regex up to the proxied path (under the base URL)

    def initialize(self, **kwargs: Any) -> None:
        super().initialize(**kwargs)
        self.prefix = re.compile(
            f"^{re.escape(url_path_join(self.base_url, GROUPS_PATH))}/{self.route}"
        )
        self.sessions = self.service.sessions
        self.connect_timeout = self.extensionapp.status_timeout
        self.request_timeout = self.extensionapp.proxy_timeout

    async def prepare(self) -> None:  # type: ignore[override]
        """Authenticate (Jupyter's prepare: anonymous browsers go to the login page), authorize,
        check membership, then start forwarding before the body arrives (it streams)."""
        await super().prepare()
        if not self._finished and self.current_user is None:
            if "Authorization" in self.request.headers or TOKEN_HEADER in self.request.headers:
                raise web.HTTPError(403)  # a script's token that is not (or no longer) valid
            web.authenticated(lambda handler: None)(self)  # a browser: GET to the login page
        if self._finished:  # redirected to the login page
            return
        action = HTTP_METHOD_TO_AUTH_ACTION.get(self.request.method or "", "write")
        if not self.authorizer.is_authorized(self, self.current_user, action, self.auth_resource):
            raise web.HTTPError(403, "Not authorized to use MLflow groups")
        await self.bring_up_to_date()
        self.upstream = self.target(**self.path_kwargs)
        self.request.connection.set_max_body_size(self.extensionapp.proxy_max_body_size)
        self.settings["api_last_activity"] = _utcnow()
        self.start_forwarding()

    def on_finish(self) -> None:
        self.settings["api_last_activity"] = _utcnow()

    def target(self, **route: str) -> Upstream:
        raise NotImplementedError

    # -- origin: MLflow's UI sends no XSRF token --------------------------------------------------

    def check_xsrf_cookie(self) -> None:
        """Token-authenticated requests (scripts, kernels) pass. A browser's must come from
        Jupyter's own origin (MLflow's UI sends no XSRF token), by the browser's own word
        (Sec-Fetch-Site, Origin); without either (an older browser), it must carry Jupyter's
        XSRF token in a header, never in the URL: a page on another port of the same host can
        read the cookie, but cannot send a header cross-origin without Jupyter's consent."""
        if not hasattr(self, "_jupyter_current_user"):
            return  # called before authentication: prepare checks again
        if self.token_authenticated:
            return
        site = self.request.headers.get("Sec-Fetch-Site")
        origin = self.request.headers.get("Origin")
        if site is not None or origin is not None:
            if site == "same-origin" or (
                site is None and origin and urlsplit(origin).netloc == self.request.host
            ):
                return
            raise web.HTTPError(403, f"XSRF: a cross-site request (from {origin}) was refused")
        try:
            if "_xsrf" in self.request.query_arguments:
                raise web.HTTPError(403)
            web.RequestHandler.check_xsrf_cookie(self)  # the header (a streamed body is unread)
        except web.HTTPError:
            raise web.HTTPError(
                403, "XSRF: a request without Jupyter's XSRF token header was refused"
            ) from None


class MlflowProxyHandler(ProxyHandler):
    """A group's MLflow: its UI (a browser tab of its own, or a JupyterLab panel) and its API
    (a managed group's kernels use it as their tracking URI)."""

    route = "[^/]+/mlflow"

    async def prepare(self) -> None:  # type: ignore[override]
        if self.request.path.endswith("/mlflow") and self.request.method in ("GET", "HEAD"):
            query = f"?{self.request.query}" if self.request.query else ""
            self.redirect(f"{self.request.path}/{query}")
            return  # the UI's files are relative to its page: it must end with a slash
        await super().prepare()

    def target(self, group: str, path: str | None = None) -> Upstream:
        return self.service.proxy_upstream(group)

    def content_policy(self, path: str) -> str | None:
        return None if _UI_SHELL.match(path) else SANDBOX


class DeploymentProxyHandler(ProxyHandler):
    """A local deployment: MLflow's scoring server, for members only. Its answers are the
    model's (user content): always sandboxed."""

    route = "[^/]+/deployments/[^/]+"

    def target(self, group: str, name: str, path: str) -> Upstream:
        return self.service.deployments.upstream(group, name)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def proxy_routes() -> list[tuple[str, type[ProxyHandler]]]:
    group = rf"/{GROUPS_PATH}/(?P<group>[^/]+)"
    return [
        (rf"{group}/mlflow(?P<path>/.*)?", MlflowProxyHandler),
        (
            rf"{group}/deployments/(?P<name>[^/]+)/(?P<path>invocations|ping|health|version)",
            DeploymentProxyHandler,
        ),
    ]
