"""Hostile input through the REST API: huge, unicode and control-character names, traversal in
deployment names and in artifact listings, and bindings files that would crash the server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from support.deploying import deploy, follow
from support.extension import service_of
from support.rest import fetch_json
from tornado.httpclient import HTTPClientError

API = ("mlflow-groups", "api")

HOSTILE_NAMES = {
    "long": "m" * 10_000,
    "rtl": "\u202eledom-\u05de\u05d5\u05d3\u05dc",
    "emoji": "model-\U0001f680\U0001f469\u200d\U0001f4bb",
    "combining": "mode\u0301\u0332l",
    "slash": "a/../../b",
    "percent-2f": "a%2Fb",
    "dots": "..",
    "nul": "a\x00b",
    "crlf": "a\r\nSet-Cookie: evil=1",
}
TRAVERSING_DEPLOYMENTS = ["..", "%2e%2e", "/etc", "..\\..\\x", "a/../b", "C:\\x", ".", "a\x00b"]


@pytest.fixture
def extension_config(tmp_path: Path) -> dict:
    return {"groups_root": str(tmp_path / "groups")}


@pytest.fixture
def real_group(deploy_server, bindings) -> str:
    bindings.write({"groups": {"real": {"tracking_uri": deploy_server.url}}})
    return "real"


async def raw_fetch(client, *quoted_parts: str, method: str = "GET", body=None):
    """(status, headers, body) without raising, for path segments the caller quoted (jp_fetch
    would quote them again)."""
    url = "/".join((client.base, *API, *quoted_parts))
    data = json.dumps(body) if body is not None else None
    try:
        response = await client.fetch(url, method=method, body=data, headers=client.auth)
    except HTTPClientError as error:
        assert error.response is not None, error
        response = error.response
    return response.code, response.headers, response.body


@pytest.fixture
def client(http_server_client, jp_base_url, jp_auth_header):
    http_server_client.base = jp_base_url.rstrip("/")
    http_server_client.auth = jp_auth_header
    return http_server_client


def assert_answered_safely(status, headers, body: bytes, sent: str) -> dict:
    """A 2xx or a clear 4xx in the error shape, as JSON, with nothing sent back in a header."""
    assert status < 500, body[:500]
    assert headers["Content-Type"].startswith("application/json")
    for name, value in headers.get_all():
        assert "evil" not in name.lower() and "evil" not in value, (name, value)
    answer = json.loads(body)
    if status >= 400:
        assert set(answer) == {"error"} and answer["error"]["code"] and answer["error"]["message"]
    if sent == HOSTILE_NAMES["long"] and status >= 400:
        assert len(body) < 25_000  # said once at most, not amplified
    return answer


@pytest.mark.parametrize("kind", HOSTILE_NAMES)
async def test_hostile_model_names_get_a_clear_answer(real_group, client, jp_fetch, kind):
    name = HOSTILE_NAMES[kind]
    segment = quote(name, safe="")
    requests = [
        ("groups", real_group, "models", segment),
        ("groups", real_group, "models", segment, "versions", "1"),
        ("groups", real_group, "models", segment, "versions", "@" + segment),
        ("groups", real_group, "runs", segment, "metrics", segment),
        ("groups", real_group, "deployments", segment),
        ("groups", segment, "models"),
    ]
    for parts in requests:
        status, headers, body = await raw_fetch(client, *parts)
        answer = assert_answered_safely(status, headers, body, name)
        assert status in (400, 404), (parts[:4], status, answer)
    status, headers, body = await raw_fetch(
        client,
        "groups",
        real_group,
        "deployments",
        method="POST",
        body={"name": "fine-name", "model": name, "version": "1"},
    )
    assert_answered_safely(status, headers, body, name)
    if status == 202:  # the job is what fails: the model does not exist
        (final,) = (await follow(jp_fetch, json.loads(body)["job"]["id"]))[-1:]
        assert final["state"] == "failed" and final["error"]["message"]


async def test_a_filter_of_hostile_text_is_refused_or_answered(real_group, jp_fetch):
    for text in (*HOSTILE_NAMES.values(), "name = 'x' OR 1=1 --", "name LIKE '%'"):
        status, answer = await fetch_json(
            jp_fetch, *API, "groups", real_group, "models", params={"filter": text}
        )
        assert status in (200, 400), (text[:40], status, answer)


@pytest.mark.parametrize("name", TRAVERSING_DEPLOYMENTS)
async def test_deployment_names_that_traverse_are_refused(
    real_group, client, jp_fetch, tmp_path, name
):
    await fetch_json(jp_fetch, *API, "groups", real_group, "deployments")  # opens the area
    area = tmp_path / "groups"
    before = sorted(area.rglob("*"))
    status, body = await deploy(jp_fetch, real_group, name, "any-model", "1")
    assert (status, body["error"]["code"]) == (400, "bad_request")
    assert "is not a valid deployment name" in body["error"]["message"]
    status, headers, raw = await raw_fetch(
        client, "groups", real_group, "deployments", quote(name, safe=""), method="DELETE"
    )
    assert status in (400, 404)
    assert_answered_safely(status, headers, raw, name)
    assert sorted(area.rglob("*")) == before  # nothing created, nothing removed


class HostileListingMlflow:
    """A fake MLflow whose artifact listing names paths outside the model directory.

    A fake on purpose: a real MLflow server will not store such artifact paths, but a
    compromised or buggy server (or a proxy) can send them. It answers the two calls a deploy
    job makes for a numbered version: the download URI, and the artifact listing."""

    def __init__(self, entries: list[dict]) -> None:
        listing = entries

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path.endswith("/model-versions/get-download-uri"):
                    body = {"artifact_uri": "mlflow-artifacts:/m/model"}
                elif url.path.endswith("/mlflow-artifacts/artifacts"):
                    directory = parse_qs(url.query).get("path", [""])[0]
                    body = {"files": listing if directory == "m/model" else []}
                else:
                    body = {"error_code": "ENDPOINT_NOT_FOUND"}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hostile_mlflow(request) -> Iterator[HostileListingMlflow]:
    server = HostileListingMlflow(request.param)
    yield server
    server.close()


MLMODEL = {"path": "m/model/MLmodel", "is_dir": False, "file_size": 10}


@pytest.mark.parametrize(
    "hostile_mlflow",
    [
        [MLMODEL, {"path": "m/model/..", "is_dir": True}],
        [MLMODEL, {"path": "m/model/..", "is_dir": False, "file_size": 5}],
        [MLMODEL, {"path": "m/model/..\\..\\escape", "is_dir": False, "file_size": 5}],
        [MLMODEL, {"path": "m/model/a\x00b", "is_dir": False, "file_size": 5}],
    ],
    indirect=True,
    ids=["dir-dotdot", "file-dotdot", "backslashes", "nul"],
)
async def test_an_artifact_listing_that_leaves_the_directory_fails_the_job(
    hostile_mlflow, bindings, jp_fetch, jp_serverapp, tmp_path
):
    bindings.write({"groups": {"evil": {"tracking_uri": hostile_mlflow.url}}})
    status, body = await deploy(jp_fetch, "evil", "victim", "m", "1")
    assert status == 202, body
    final = (await follow(jp_fetch, body["job"]["id"]))[-1]
    assert (final["state"], final["error"]["code"]) == ("failed", "unsafe_path")
    assert "would leave the deployment directory" in final["error"]["message"]
    service = service_of(jp_serverapp)
    deployment = service.deploy_root(service.binding("evil")) / "victim"
    assert not (deployment / "current").exists() and not (deployment / "releases").exists()
    assert not list(deployment.glob("staging/*"))  # the staging copy is gone too
    assert not [p for p in tmp_path.rglob("*") if "escape" in p.name]


async def test_a_bindings_file_that_would_crash_the_parser_is_reported(bindings, jp_fetch):
    """Before the nesting limit, a deep file raised RecursionError: every request was a 500."""
    bindings.write("groups: " + "[" * 50_000)
    status, body = await fetch_json(jp_fetch, *API, "groups")
    assert status == 200
    assert "nests deeper than 32 levels" in body["errors"][0]
