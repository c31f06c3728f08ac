"""Who may call the API, checked on every handler the running server registered under it.

The requests are built from the server's own routing table, not from a list kept here: a
handler added later is checked without anyone remembering to add it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_server.auth.authorizer import Authorizer
from support.kernels import kernel_env, start_kernel
from support.rest import browser_session
from tornado import web
from tornado.httpclient import HTTPClientError, HTTPResponse
from tornado.routing import Router

from jupyter_mlflow_groups.kernel_tokens import TOKEN_HEADER

PREFIX = "mlflow-groups/api/"
PROXIED = "mlflow-groups/groups/"  # a group's MLflow and deployments, through Jupyter
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
FILLERS = {
    "group": "team-a", "name": "model", "version": "1", "run_id": "run", "key": "loss",
    "path": "ping",  # a deployment's route, and a path under a group's MLflow
}  # fmt: skip
KERNEL_TOKEN_VARIABLE = "JUPYTER_MLFLOW_GROUPS_TOKEN"
ACTIVE_BODY = json.dumps({"group": "team-a"})
BODY = json.dumps({"name": "d", "model": "m", "version": "1"})  # a deployment's


@pytest.fixture
def groups_file(bindings):
    bindings.write(
        {
            "default_group": "team-a",
            "groups": {
                "team-a": {"tracking_uri": "http://127.0.0.1:9", "members": ["alice"]},
                "others": {"tracking_uri": "http://127.0.0.1:9", "members": ["bob"]},
            },
        }
    )


def _rules(router: Any) -> Iterator[tuple[str, Any]]:
    """(path pattern, handler class) of every rule, through nested routers."""
    for rule in getattr(router, "rules", []):
        if isinstance(rule.target, Router):
            yield from _rules(rule.target)
        elif isinstance(rule.target, type) and hasattr(rule.matcher, "regex"):
            yield rule.matcher.regex.pattern, rule.target


def registered_requests(serverapp: Any, group: str = "team-a") -> list[tuple[str, str]]:
    """(method, path) for each method of each handler registered under the extension's API
    and its proxied routes."""
    requests = []
    fillers = {**FILLERS, "group": group}
    for pattern, handler in _rules(serverapp.web_app.default_router):
        if PREFIX not in pattern and PROXIED not in pattern:
            continue
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)\??", lambda m: fillers.get(m.group(1), "x"), pattern)
        path = path.replace("/mlflowping", "/mlflow/ping")  # the MLflow route's optional path
        for method in METHODS:
            if getattr(handler, method.lower()) is not getattr(web.RequestHandler, method.lower()):
                requests.append((method, path.rstrip("$")))
    return requests


def is_proxied(path: str) -> bool:
    return PROXIED in path


async def call(client: Any, method: str, path: str, **kwargs: Any) -> HTTPResponse:
    """The response, refusals included."""
    body = None
    if method in ("POST", "PUT", "PATCH"):
        body = ACTIVE_BODY if path.endswith("/active") else BODY
    try:
        return await client.fetch(path, method=method, body=body, **kwargs)
    except HTTPClientError as error:
        assert error.response is not None
        return error.response


def error_of(response: HTTPResponse) -> dict[str, str]:
    assert response.headers["Content-Type"].startswith("application/json"), response.body[:200]
    return json.loads(response.body)["error"]


async def test_the_routing_table_holds_every_endpoint(groups_file, jp_serverapp):
    requests = registered_requests(jp_serverapp)
    paths = {path.split("mlflow-groups/", 1)[1] for _, path in requests}
    assert {"api/groups", "api/active", "api/groups/team-a/models", "api/jobs/x"} <= paths
    assert {"groups/team-a/mlflow/ping", "groups/team-a/deployments/model/ping"} <= paths
    assert len(requests) >= 24


async def test_every_endpoint_refuses_anonymous_and_wrong_credentials(
    groups_file, jp_serverapp, http_server_client
):
    credentials: list[dict[str, str]] = [
        {},
        {"Authorization": "token not-the-server-token"},
        {TOKEN_HEADER: "not-a-kernel-token"},
    ]
    credentials.append({"Authorization": "Bearer not-a-kernel-token"})  # as MLflow sends one
    for method, path in registered_requests(jp_serverapp):
        for headers in credentials:
            response = await call(
                http_server_client, method, path, headers=headers, follow_redirects=False
            )
            if is_proxied(path) and method == "GET" and not headers:  # a browser: to the login
                assert response.code == 302, (method, path, headers)
                assert "/login?next=" in response.headers["Location"], (method, path, headers)
                assert b"MLflow" not in response.body
                continue
            assert response.code == 403, (method, path, headers)
            assert error_of(response)["code"] == "unauthenticated", (method, path, headers)


async def test_only_the_webhook_receiver_goes_without_jupyters_auth_and_it_wants_a_signature(
    groups_file, jp_serverapp, http_server_client
):
    others = {
        pattern
        for pattern, _ in _rules(jp_serverapp.web_app.default_router)
        if "mlflow-groups/" in pattern and PREFIX not in pattern and PROXIED not in pattern
    }
    assert len(others) == 1
    hooks = others.pop().split("(?P<group>", 1)[0]
    assert hooks.endswith("mlflow-groups/hooks/")
    credentials = [{}, {"Authorization": f"token {jp_serverapp.identity_provider.token}"}]
    for headers in credentials:  # Jupyter's own token is not MLflow's signature either
        for group in ("team-a", "others", "nobody"):
            response = await call(http_server_client, "POST", f"{hooks}{group}", headers=headers)
            assert response.code == 401, (group, headers, response.body)
            assert error_of(response)["code"] == "unauthenticated"
    response = await call(http_server_client, "GET", f"{hooks}team-a")
    assert response.code == 405


async def test_cookie_sessions_need_the_xsrf_token_for_every_change(
    groups_file, jp_serverapp, http_server_client
):
    login = await browser_session(http_server_client, jp_serverapp)
    cookie = {"Cookie": login["Cookie"]}
    changes = [(m, p) for m, p in registered_requests(jp_serverapp) if m != "GET"]
    assert len(changes) >= 6
    for method, path in changes:
        for headers in (cookie, {**cookie, "X-XSRFToken": "forged"}):
            response = await call(http_server_client, method, path, headers=headers)
            assert response.code == 403, (method, path, headers)
            error = error_of(response)
            assert error["code"] == "xsrf", (method, path, error)
            assert "X-XSRFToken" in error["hint"]
        accepted = await call(
            http_server_client, method, path, headers={**cookie, "X-XSRFToken": login["xsrf"]}
        )
        if accepted.code == 403:  # refused for another reason, never for the session
            assert error_of(accepted)["code"] not in ("xsrf", "unauthenticated"), (method, path)
    listing = await call(http_server_client, "GET", f"{jp_serverapp.base_url}{PREFIX}groups")
    assert listing.code == 403  # without the cookie
    listing = await call(
        http_server_client, "GET", f"{jp_serverapp.base_url}{PREFIX}groups", headers=cookie
    )
    assert listing.code == 200 and json.loads(listing.body)["active"] == "team-a"


async def test_a_user_outside_a_group_is_refused_on_every_endpoint_of_it(
    groups_file, jp_fetch, jp_serverapp, http_server_client
):
    kernel = await start_kernel(jp_fetch)
    kernel_token = (await kernel_env(jp_serverapp, kernel))[KERNEL_TOKEN_VARIABLE]
    server_token = {"Authorization": f"token {jp_serverapp.identity_provider.token}"}
    foreign = [
        (method, path)
        for method, path in registered_requests(jp_serverapp, group="others")
        if "/groups/others" in path
    ]
    assert len(foreign) >= 8
    for method, path in foreign:
        for headers in (server_token, {TOKEN_HEADER: kernel_token}):
            response = await call(http_server_client, method, path, headers=headers)
            assert response.code == 403, (method, path)
            error = error_of(response)
            assert error["code"] == "forbidden", (method, path)
            kernel_only = path.endswith("kernel-env") and headers is server_token
            expected = "Only a kernel" if kernel_only else "not a member of the group 'others'"
            assert expected in error["message"], (method, path, error)


async def test_jobs_of_a_group_the_user_left_are_refused(
    groups_file, bindings, jp_fetch, jp_serverapp, http_server_client
):
    started = await jp_fetch(
        "mlflow-groups", "api", "groups", "team-a", "deployments", method="POST", body=BODY
    )
    job = json.loads(started.body)["job"]["id"]
    bindings.write(
        {"groups": {"team-a": {"tracking_uri": "http://127.0.0.1:9", "members": ["bob"]}}}
    )
    token = {"Authorization": f"token {jp_serverapp.identity_provider.token}"}
    for method in ("GET", "DELETE"):
        path = f"{jp_serverapp.base_url}{PREFIX}jobs/{job}"
        response = await call(http_server_client, method, path, headers=token)
        assert (response.code, error_of(response)["code"]) == (403, "forbidden"), method


class ReadOnlyAuthorizer(Authorizer):
    """Lets users read and nothing else, as a deployment's policy might."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return action == "read"


class TestJupyterAuthorizerDecides:
    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        return {
            **jp_server_config,
            "ServerApp": {
                **jp_server_config["ServerApp"],
                "authorizer_class": ReadOnlyAuthorizer,
            },
        }

    async def test_reads_pass_and_changes_are_refused(
        self, groups_file, jp_serverapp, http_server_client
    ):
        token = {"Authorization": f"token {jp_serverapp.identity_provider.token}"}
        for method, path in registered_requests(jp_serverapp):
            response = await call(http_server_client, method, path, headers=token)
            error = error_of(response) if response.code >= 400 else {}
            if method == "GET":
                assert error.get("code") not in ("forbidden", "unauthenticated") or (
                    "kernel" in error.get("message", "")  # the kernel-only environment
                ), (method, path, error)
            else:
                assert (response.code, error["code"]) == (403, "forbidden"), (method, path)
