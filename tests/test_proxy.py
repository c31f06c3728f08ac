"""A group's MLflow through the Jupyter server: for its members only, with the group's
credentials added by the server, streaming, and safe to open in Jupyter's own origin.

Real parts: the session's plain and basic-auth `mlflow server` processes, pytest-jupyter's
server (and a real `jupyter server` process for what must be measured from outside).
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from support.extension import service_of
from support.jupyter import JupyterServerProcess
from support.rest import browser_session, fetch_json
from support.servers import ADMIN_PASSWORD, ADMIN_USER
from tornado.httpclient import HTTPClientError, HTTPResponse

API = ("mlflow-groups", "api")
SEARCH = "/api/2.0/mlflow/experiments/search?max_results=1"
HOSTILE_HTML = b"<script>fetch('/api/kernels', {method: 'POST', body: '{}'})</script>"
MIB = 1024 * 1024


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "mlflow-password"
    path.write_text(ADMIN_PASSWORD)
    return path


@pytest.fixture
def groups(bindings, mlflow_servers, password_file) -> None:
    plain = mlflow_servers.plain.url
    bindings.write(
        {
            "groups": {
                "open": {"tracking_uri": plain, "ui": "proxy", "members": ["alice"]},
                "locked": {
                    "tracking_uri": mlflow_servers.auth.url,
                    "tracking_env": {
                        "MLFLOW_TRACKING_USERNAME": ADMIN_USER,
                        "MLFLOW_TRACKING_PASSWORD": f"${{file:{password_file}}}",
                    },
                    "members": ["alice"],
                },
                "direct": {"tracking_uri": plain, "members": ["alice"]},
                "others": {"tracking_uri": plain, "ui": "proxy", "members": ["bob"]},
            }
        }
    )


async def proxied(
    http_server_client: Any,
    serverapp: Any,
    group: str,
    path: str,
    *,
    token: bool = True,
    **kwargs: Any,
) -> HTTPResponse:
    """A request to `path` under the group's proxied MLflow; refusals are returned, not raised."""
    headers = dict(kwargs.pop("headers", {}))
    if token:
        headers["Authorization"] = f"token {serverapp.identity_provider.token}"
    url = f"{serverapp.base_url}mlflow-groups/groups/{group}/mlflow{path}"
    try:
        return await http_server_client.fetch(
            url, headers=headers, follow_redirects=False, **kwargs
        )
    except HTTPClientError as error:
        assert error.response is not None
        return error.response


async def test_a_member_reaches_the_groups_mlflow_ui_and_api(
    groups, jp_serverapp, http_server_client, jp_fetch
):
    ui = await proxied(http_server_client, jp_serverapp, "open", "/")
    assert ui.code == 200 and b"<title>MLflow</title>" in ui.body
    assert ui.headers["Content-Security-Policy"].startswith("frame-ancestors 'self'")
    assert "sandbox" not in ui.headers["Content-Security-Policy"]  # MLflow's own app runs
    found = await proxied(http_server_client, jp_serverapp, "open", SEARCH)
    assert found.code == 200 and "experiments" in json.loads(found.body)

    bare = await proxied(http_server_client, jp_serverapp, "open", "")
    assert bare.code == 302  # the UI's files are relative to its page, which ends with /
    assert bare.headers["Location"].endswith("/mlflow-groups/groups/open/mlflow/")

    _, listed = await fetch_json(jp_fetch, *API, "groups")
    shown = {group["name"]: (group["ui"], group["ui_url"]) for group in listed["groups"]}
    base = jp_serverapp.base_url
    assert shown["open"] == ("proxy", f"{base}mlflow-groups/groups/open/mlflow/")
    assert shown["locked"] == ("proxy", f"{base}mlflow-groups/groups/locked/mlflow/")
    assert shown["direct"][0] == "direct" and shown["direct"][1].startswith("http://127.0.0.1:")


async def test_the_server_adds_the_groups_credentials_and_rereads_them(
    groups, password_file, jp_serverapp, http_server_client
):
    """Members never hold the service account's password, the browser is never asked for it,
    and a password rotated on disk applies at the next request."""
    found = await proxied(http_server_client, jp_serverapp, "locked", SEARCH)
    assert found.code == 200, found.body

    password_file.write_text("a-wrong-password-0000")
    refused = await proxied(http_server_client, jp_serverapp, "locked", SEARCH)
    assert refused.code == 401
    assert "WWW-Authenticate" not in refused.headers  # no password prompt in members' browsers
    assert b"a-wrong-password-0000" not in refused.body

    password_file.write_text(ADMIN_PASSWORD)
    assert (await proxied(http_server_client, jp_serverapp, "locked", SEARCH)).code == 200


async def test_non_members_anonymous_callers_and_direct_groups_are_refused(
    groups, jp_serverapp, http_server_client
):
    foreign = await proxied(http_server_client, jp_serverapp, "others", SEARCH)
    assert foreign.code == 403
    assert json.loads(foreign.body)["error"]["code"] == "forbidden"
    assert "not a member of the group 'others'" in json.loads(foreign.body)["error"]["message"]

    anonymous = await proxied(http_server_client, jp_serverapp, "open", "/", token=False)
    assert anonymous.code == 302 and "/login?next=" in anonymous.headers["Location"]
    posted = await proxied(
        http_server_client, jp_serverapp, "open", "/api/2.0/mlflow/experiments/create",
        token=False, method="POST", body=json.dumps({"name": f"anonymous-{uuid.uuid4().hex}"}),
    )  # fmt: skip
    assert posted.code == 403 and json.loads(posted.body)["error"]["code"] == "unauthenticated"

    direct = await proxied(http_server_client, jp_serverapp, "direct", SEARCH)
    assert direct.code == 404
    assert "at its own address" in json.loads(direct.body)["error"]["message"]


def exchange(connection: http.client.HTTPConnection, method: str, path: str, **headers: str):
    """One request and its whole answer on a kept-alive connection: (status, Connection)."""
    body = json.dumps({"name": f"refused-{uuid.uuid4().hex}"}) if method == "POST" else None
    connection.request(method, path, body=body, headers=headers)
    answer = connection.getresponse()
    answer.read()
    return answer.status, answer.getheader("Connection")


async def test_a_refusal_says_it_ends_the_connection_and_allowed_calls_keep_it(
    groups, jp_serverapp, http_server_client, jp_http_port
):
    """A refusal comes before the request's body is read, so tornado drops the connection; the
    answer must say so, or a proxy in front that keeps connections alive (JupyterHub's) reuses
    it and fails the member's next request with a 503."""
    token = {"Authorization": f"token {jp_serverapp.identity_provider.token}"}
    prefix = f"{jp_serverapp.base_url}mlflow-groups/groups"
    create = "/api/2.0/mlflow/experiments/create"

    def converse() -> list[tuple[int, str | None]]:
        connection = http.client.HTTPConnection("127.0.0.1", jp_http_port, timeout=30)
        answers = [
            exchange(connection, "GET", f"{prefix}/open/mlflow{SEARCH}", **token),
            exchange(connection, "GET", f"{prefix}/open/mlflow{SEARCH}", **token),
            exchange(connection, "POST", f"{prefix}/others/mlflow{create}", **token),
        ]
        connection.close()
        anonymous = http.client.HTTPConnection("127.0.0.1", jp_http_port, timeout=30)
        answers.append(exchange(anonymous, "POST", f"{prefix}/open/mlflow{create}"))
        anonymous.close()
        return answers

    kept, reused, foreign, anonymous = await asyncio.to_thread(converse)
    assert kept == reused == (200, None)  # the second call went over the same connection
    assert foreign == (403, "close")
    assert anonymous == (403, "close")


async def test_a_browser_session_changes_things_only_from_jupyters_own_origin(
    groups, jp_serverapp, http_server_client, mlflow_servers
):
    session = await browser_session(http_server_client, jp_serverapp)
    cookie = {"Cookie": session["Cookie"], "Content-Type": "application/json"}
    host = f"127.0.0.1:{jp_serverapp.port}"
    create = "/api/2.0/mlflow/experiments/create"

    def exists(name: str) -> bool:
        try:
            mlflow_servers.plain.request(
                "GET", f"/api/2.0/mlflow/experiments/get-by-name?experiment_name={name}"
            )
        except Exception:
            return False
        return True

    cross_site = [
        {"Origin": "http://evil.example"},
        {"Origin": "http://localhost:9"},  # MLflow itself would let a localhost origin in
        {"Sec-Fetch-Site": "cross-site", "Origin": f"http://{host}"},
        {"Sec-Fetch-Site": "same-site"},
        {"X-XSRFToken": "forged"},
        {"Origin": "http://127.0.0.1:9", "X-XSRFToken": session["xsrf"]},  # another port
        {},
    ]
    for extra in cross_site:
        name = f"cross-site-{uuid.uuid4().hex}"
        refused = await proxied(
            http_server_client, jp_serverapp, "open", create, token=False, method="POST",
            body=json.dumps({"name": name}), headers={**cookie, **extra},
        )  # fmt: skip
        assert refused.code == 403, extra
        assert json.loads(refused.body)["error"]["code"] == "xsrf", extra
        assert not exists(name), extra
    name = f"token-in-url-{uuid.uuid4().hex}"  # a form of another site can put it there
    in_url = await proxied(
        http_server_client, jp_serverapp, "open", f"{create}?_xsrf={session['xsrf']}",
        token=False, method="POST", body=json.dumps({"name": name}), headers=cookie,
    )  # fmt: skip
    assert in_url.code == 403 and not exists(name)

    for extra in (
        {"Origin": f"http://{host}"},
        {"Sec-Fetch-Site": "same-origin"},
        {"X-XSRFToken": session["xsrf"]},  # as JupyterLab's own requests carry it
    ):
        name = f"same-origin-{uuid.uuid4().hex}"
        created = await proxied(
            http_server_client, jp_serverapp, "open", create, token=False, method="POST",
            body=json.dumps({"name": name}), headers={**cookie, **extra},
        )  # fmt: skip
        assert created.code == 200, (extra, created.body)
        assert exists(name), extra


async def test_what_members_logged_is_served_sandboxed_and_upstream_grants_are_dropped(
    groups, jp_serverapp, http_server_client, mlflow_servers
):
    """An HTML artifact in Jupyter's origin must never run script with a member's session;
    MLflow's CORS grants (it lets any localhost origin in) and frame options never pass."""
    server = mlflow_servers.plain
    run = server.request("POST", "/api/2.0/mlflow/runs/create", {"experiment_id": "0"})["run"]
    location = run["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/")
    upload = requests.put(
        f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{location}/evil.html",
        data=HOSTILE_HTML,
        timeout=30,
    )
    upload.raise_for_status()
    run_id = run["info"]["run_id"]
    session = await browser_session(http_server_client, jp_serverapp)  # a member's browser
    browser = {"Cookie": session["Cookie"], "Origin": "http://localhost:9"}
    for path in (
        f"/get-artifact?path=evil.html&run_uuid={run_id}",
        f"/ajax-api/2.0/mlflow-artifacts/artifacts/{location}/evil.html",
    ):
        served = await proxied(
            http_server_client, jp_serverapp, "open", path, token=False, headers=browser
        )
        assert served.code == 200 and served.body == HOSTILE_HTML, path
        assert served.headers["Content-Security-Policy"].split(";")[0] == "sandbox", path
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert "X-Frame-Options" not in served.headers
        assert served.headers.get("Access-Control-Allow-Origin") != "http://localhost:9"


async def test_a_kernel_token_reaches_the_groups_mlflow_and_nothing_else_of_jupyter(
    groups, jp_serverapp, http_server_client
):
    """MLflow's client sends MLFLOW_TRACKING_TOKEN as a Bearer token: a kernel's own token
    works there (a managed group's kernels get it so), and only for its owner's groups."""
    service = service_of(jp_serverapp)
    token = service.tokens.issue("a-kernel", "alice")
    bearer = {"Authorization": f"Bearer {token}"}
    found = await proxied(
        http_server_client, jp_serverapp, "open", SEARCH, token=False, headers=bearer
    )
    assert found.code == 200
    foreign = await proxied(
        http_server_client, jp_serverapp, "others", SEARCH, token=False, headers=bearer
    )
    assert foreign.code == 403
    for path in ("api/contents", "api/kernels"):
        with pytest.raises(HTTPClientError) as refused:
            await http_server_client.fetch(
                f"{jp_serverapp.base_url}{path}", headers=bearer, follow_redirects=False
            )
        assert refused.value.code == 403, (path, refused.value.response.headers.get("Location"))
    service.forget_kernel("a-kernel")
    gone = await proxied(
        http_server_client, jp_serverapp, "open", SEARCH, token=False, headers=bearer
    )
    assert gone.code == 403


async def test_a_deeply_nested_body_is_a_bad_request(groups, jp_fetch):
    nested = "[" * 100_000 + "]" * 100_000
    status, body = await fetch_json(jp_fetch, *API, "active", method="PUT", body=nested)
    assert (status, body["error"]["code"]) == (400, "bad_request")
    assert "nests too deeply" in body["error"]["message"]


def peak_rss(pid: int) -> int:
    """Bytes: the most memory the process ever held (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


async def test_big_artifacts_stream_through_both_ways_without_being_held(deploy_server, tmp_path):
    """512 MiB up (as a kernel's log_artifact sends it) and down (as a browser downloads it)
    through the proxy: the Jupyter server's peak memory barely moves."""
    bindings = tmp_path / "bindings.json"
    bindings.write_text(
        json.dumps({"groups": {"team": {"tracking_uri": deploy_server.url, "ui": "proxy"}}})
    )
    server = JupyterServerProcess(
        tmp_path / "home", env={"JUPYTER_MLFLOW_GROUPS_FILE": str(bindings)}
    )
    auth = {"Authorization": f"token {server.token}"}
    artifacts = "/mlflow-groups/groups/team/mlflow/api/2.0/mlflow-artifacts/artifacts"
    name = f"big-{uuid.uuid4().hex}.bin"
    block = os.urandom(MIB)

    def body() -> Any:
        for _ in range(512):
            yield block

    try:
        server.start()
        assert server.process is not None
        before = peak_rss(server.process.pid)
        uploaded = requests.put(
            f"{server.url}{artifacts}/{name}", data=body(), headers=auth, timeout=600
        )
        assert uploaded.status_code == 200, uploaded.text
        assert (deploy_server.root / "artifacts" / name).stat().st_size == 512 * MIB

        digest = hashlib.sha256()
        with requests.get(
            f"{server.url}{artifacts}/{name}", headers=auth, stream=True, timeout=600
        ) as download:
            download.raise_for_status()
            for chunk in download.iter_content(MIB):
                digest.update(chunk)
        expected = hashlib.sha256()
        for chunk in body():
            expected.update(chunk)
        assert digest.hexdigest() == expected.hexdigest()
        grown = peak_rss(server.process.pid) - before
        assert grown < 96 * MIB, f"the server's peak memory grew by {grown / MIB:.0f} MiB"
    finally:
        server.stop()
