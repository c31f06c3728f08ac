"""A run's artifacts and their previews through the REST API, against a real MLflow server:
its proxied artifact store (`--artifacts-destination`) and a plain local artifact directory."""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.request

import ipywidgets as widgets
import pytest
from support.extension import service_of
from support.processes import free_port
from support.rest import fetch_json
from support.seeding import PREVIEW_CSV, PREVIEW_JSON, PREVIEW_SVG, confusion_png
from support.servers import ADMIN_PASSWORD, ADMIN_USER, CountingProxy
from support.widget_text import button, leaves, visible_text
from tornado import web
from tornado.httpclient import HTTPClientError
from tornado.iostream import StreamClosedError

from jupyter_mlflow_groups.kernel.client import ServerClient
from jupyter_mlflow_groups.kernel.widgets import ArtifactsPanel, VersionDetail
from jupyter_mlflow_groups.kernel.widgets.artifacts import csv_table
from jupyter_mlflow_groups.mlflow_http import MlflowHttp, TooLarge
from jupyter_mlflow_groups.upstream import HttpClients, Upstream

API = ("mlflow-groups", "api", "groups")
LIMIT = 100_000  # logs/train.log is 300 kB


@pytest.fixture
def extension_config():
    return {"preview_max_bytes": LIMIT}


@pytest.fixture
def group(previews, deploy_server, bindings):
    bindings.write(
        {
            "groups": {
                "vis": {"tracking_uri": deploy_server.url, "ui_url": "http://ui.example"},
                "others": {"tracking_uri": deploy_server.url, "members": ["bob"]},
            }
        }
    )
    return "vis"


async def listing(jp_fetch, run_id, path=None, group="vis"):
    params = {"path": path} if path is not None else None
    return await fetch_json(jp_fetch, *API, group, "runs", run_id, "artifacts", params=params)


async def preview(jp_fetch, run_id, path, group="vis"):
    """(status, headers, body bytes) of a preview, refusals included."""
    try:
        response = await jp_fetch(*API, group, "runs", run_id, "artifact", params={"path": path})
    except HTTPClientError as error:
        assert error.response is not None
        return error.code, error.response.headers, error.response.body
    return response.code, response.headers, response.body


@pytest.mark.parametrize("which", ["proxied", "local"])
async def test_the_root_lists_directories_first_then_files(group, previews, jp_fetch, which):
    run_id = previews.run_id if which == "proxied" else previews.local_run_id
    status, body = await listing(jp_fetch, run_id)
    assert status == 200, body
    assert [(f["name"], f["is_dir"]) for f in body["files"]] == [
        ("eval", True),
        ("logs", True),
        ("plots", True),
        ("metrics.json", False),
        ("model.pkl", False),
        ("notes.txt", False),
    ]
    files = {f["path"]: f for f in body["files"]}
    assert files["metrics.json"]["file_size"] == len(previews.files["metrics.json"])
    assert files["metrics.json"]["preview"] == "json"
    assert files["model.pkl"]["preview"] is None
    assert files["plots"]["file_size"] is None and files["plots"]["preview"] is None
    assert body["path"] == "" and body["parent"] is None
    assert body["ui_url"].startswith("http://ui.example/#/experiments/")
    assert body["ui_url"].endswith(f"/runs/{run_id}")


async def test_a_directory_lists_one_level(group, previews, jp_fetch):
    status, body = await listing(jp_fetch, previews.run_id, "plots")
    assert status == 200, body
    assert body["path"] == "plots" and body["parent"] == ""
    assert [(f["path"], f["preview"]) for f in body["files"]] == [
        ("plots/confusion_matrix.png", "image"),
        ("plots/diagram.svg", "text"),
    ]


@pytest.mark.parametrize("which", ["proxied", "local"])
async def test_each_kind_is_served_as_the_server_decides(group, previews, jp_fetch, which):
    run_id = previews.run_id if which == "proxied" else previews.local_run_id
    status, headers, body = await preview(jp_fetch, run_id, "plots/confusion_matrix.png")
    assert status == 200
    assert headers["Content-Type"] == "image/png"
    assert body == confusion_png()
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in headers["Content-Security-Policy"]
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["Content-Disposition"].startswith('inline; filename="confusion_matrix.png"')
    assert headers["X-Artifact-Preview"] == "image"

    status, headers, body = await preview(jp_fetch, run_id, "metrics.json")
    assert status == 200
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert json.loads(body) == PREVIEW_JSON
    assert headers["X-Artifact-Preview"] == "json"

    status, headers, body = await preview(jp_fetch, run_id, "eval/predictions.csv")
    assert (status, headers["Content-Type"]) == (200, "text/plain; charset=utf-8")
    assert body.decode() == PREVIEW_CSV and headers["X-Artifact-Preview"] == "csv"

    status, headers, body = await preview(jp_fetch, run_id, "notes.txt")
    assert (status, headers["Content-Type"]) == (200, "text/plain; charset=utf-8")
    assert b"<b>not bold</b>" in body and headers["X-Content-Type-Options"] == "nosniff"


async def test_svg_is_never_served_as_an_image(group, previews, jp_fetch):
    status, headers, body = await preview(jp_fetch, previews.run_id, "plots/diagram.svg")
    assert status == 200
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "svg" not in headers["Content-Type"]
    assert body.decode() == PREVIEW_SVG
    assert headers["X-Artifact-Preview"] == "text"
    assert "sandbox" in headers["Content-Security-Policy"]


async def test_too_big_is_refused_with_its_size_and_the_limit(group, previews, jp_fetch):
    status, _, body = await preview(jp_fetch, previews.run_id, "logs/train.log")
    assert status == 413
    error = json.loads(body)["error"]
    assert error["code"] == "too_large"
    size = len(previews.files["logs/train.log"])
    assert f"{size:,} bytes" in error["message"] and f"{LIMIT:,} bytes" in error["message"]


async def test_a_file_no_preview_shows_is_refused(group, previews, jp_fetch):
    status, _, body = await preview(jp_fetch, previews.run_id, "model.pkl")
    assert status == 415
    assert json.loads(body)["error"]["code"] == "not_previewable"


async def test_an_unknown_file_is_a_404_naming_it(group, previews, jp_fetch):
    status, _, body = await preview(jp_fetch, previews.run_id, "plots/roc.png")
    assert status == 404
    error = json.loads(body)["error"]
    assert "'plots/roc.png'" in error["message"] and previews.run_id in error["message"]
    status, _, body = await preview(jp_fetch, "0" * 32, "metrics.json")
    assert status == 404
    assert "No run" in json.loads(body)["error"]["message"]


async def test_an_unknown_run_s_listing_is_a_404(group, previews, jp_fetch):
    status, body = await listing(jp_fetch, "0" * 32)
    assert status == 404 and "No run" in body["error"]["message"]


ESCAPES = ["../secret.txt", "plots/../../x.txt", "/etc/passwd.txt", "plots\\x.txt",
           "a\x00.txt", "C:/x.txt", "./notes.txt", "plots//x.png"]  # fmt: skip


async def test_path_escapes_are_refused_before_mlflow_is_asked(previews, deploy_server, bindings,
                                                               jp_fetch):  # fmt: skip
    proxy = CountingProxy(int(deploy_server.url.rsplit(":", 1)[1]))
    try:
        bindings.write({"groups": {"counted": {"tracking_uri": proxy.url}}})
        proxy.reset()
        for path in ESCAPES:
            status, _, body = await preview(jp_fetch, previews.run_id, path, group="counted")
            assert status == 400, path
            error = json.loads(body)["error"]
            assert error["code"] == "bad_request" and "refused" in error["message"], path
            status, body = await listing(jp_fetch, previews.run_id, path, group="counted")
            assert status == 400, path
        status, _, body = await preview(jp_fetch, previews.run_id, "", group="counted")
        assert status == 400 and "Name the artifact" in json.loads(body)["error"]["message"]
        assert proxy.total == 0
        status, _, _ = await preview(jp_fetch, previews.run_id, "notes.txt", group="counted")
        assert status == 200 and proxy.total > 0  # the same route, a good path: MLflow asked
    finally:
        proxy.close()


async def test_a_non_member_is_refused_before_the_path_is_read(group, previews, jp_fetch):
    status, _, body = await preview(jp_fetch, previews.run_id, "../x", group="others")
    assert status == 403
    assert json.loads(body)["error"]["code"] == "forbidden"
    status, body = await listing(jp_fetch, previews.run_id, "../x", group="others")
    assert status == 403


# -- the widget ---------------------------------------------------------------------------------


async def act(function, *args, **kwargs):
    return await asyncio.to_thread(function, *args, **kwargs)


@pytest.fixture
def client(group, jp_serverapp, http_server_client):
    """A client as a kernel has one (http_server_client: the test server must be listening)."""
    token = service_of(jp_serverapp).tokens.issue("artifacts-test-kernel", "alice")
    return ServerClient(f"http://127.0.0.1:{jp_serverapp.port}{jp_serverapp.base_url}", token)


async def test_the_version_widget_lists_artifacts_and_previews_an_image_and_text(client, previews):
    detail = await act(VersionDetail, previews.model, "1", "vis", client=client)
    (panel,) = [node for node in leaves(detail) if isinstance(node, ArtifactsPanel)]
    assert panel.run_id == previews.run_id
    text = visible_text(panel)
    for name in ("eval/", "plots/", "metrics.json", "notes.txt", "model.pkl"):
        assert name in text, name
    await act(button(panel, "plots/").click)
    assert panel.path == "plots"
    await act(button(panel, "confusion_matrix.png").click)
    (image,) = [node for node in leaves(panel.preview) if isinstance(node, widgets.Image)]
    assert image.value == confusion_png() and image.format == "png"
    await act(button(panel, "diagram.svg").click)
    assert not [node for node in leaves(panel.preview) if isinstance(node, widgets.Image)]
    assert "&lt;script&gt;" in "".join(
        node.value for node in leaves(panel.preview) if isinstance(node, widgets.HTML)
    )
    await act(button(panel, ".. (up)").click)
    await act(button(panel, "metrics.json").click)
    assert '"accuracy": 0.91' in visible_text(panel.preview)
    await act(button(panel, "eval/").click)
    await act(button(panel, "predictions.csv").click)
    html = "".join(n.value for n in leaves(panel.preview) if isinstance(n, widgets.HTML))
    assert "<th style='text-align: left; padding: 0 8px'>label</th>" in html
    assert html.count("<tr>") == 4  # the header and three rows
    await act(button(panel, ".. (up)").click)
    await act(button(panel, "model.pkl").click)
    assert "Open the run in the MLflow UI" in visible_text(panel.preview)


def test_csv_cells_are_escaped_and_rows_capped():
    html = csv_table("a,b\n<img src=x onerror=alert(1)>,2\n" + "x,y\n" * 80)
    assert "<img" not in html and "&lt;img src=x" in html
    assert "First 50 of 81 rows" in html


# -- the bounded read --------------------------------------------------------------------------


async def test_a_read_stops_at_the_limit(previews, deploy_server):
    """The size check before the read trusts the listing; the read itself is bounded too:
    MLflow's Content-Length past the limit drops the answer before its body is read."""
    clients = HttpClients()
    try:
        http = MlflowHttp(Upstream(deploy_server.url), clients.for_upstream(Upstream("x")))
        params = {"run_id": previews.run_id, "path": "logs/train.log"}
        with pytest.raises(TooLarge) as refused:
            await http.get_at_most("/get-artifact", params, 1000, timeout=30)
        assert refused.value.size == len(previews.files["logs/train.log"])
        body = await http.get_at_most(
            "/get-artifact", {**params, "path": "notes.txt"}, 1000, timeout=30
        )
        assert body == previews.files["notes.txt"]
    finally:
        clients.close()


async def test_a_read_without_a_length_stops_past_the_limit():
    """An answer that does not say its length (chunked) is dropped once past the limit."""
    sent = []

    class Endless(web.RequestHandler):
        async def get(self) -> None:
            for _ in range(10_000):  # 100 MB, unless the client hangs up
                self.write(b"x" * 10_000)
                try:
                    await self.flush()
                except StreamClosedError:
                    return
                sent.append(10_000)

    port = free_port()
    server = web.Application([("/get-artifact", Endless)]).listen(port, "127.0.0.1")
    clients = HttpClients()
    try:
        upstream = Upstream(f"http://127.0.0.1:{port}")
        http = MlflowHttp(upstream, clients.for_upstream(upstream))
        with pytest.raises(TooLarge) as refused:
            await http.get_at_most("/get-artifact", {"path": "x.txt"}, 5000, timeout=30)
        assert refused.value.size is None
        await asyncio.sleep(0.5)  # the server's next writes find the connection closed
        assert sum(sent) < 100_000_000  # the server was cut off: nothing more was read
    finally:
        clients.close()
        server.stop()


# -- a server with authentication ----------------------------------------------------------------


def _auth_run_with_notes(auth) -> str:
    """A run in the auth server's Default experiment (other tests expect no experiment of
    ours there) with notes.txt, logged as the admin."""
    api = "/api/2.0/mlflow"
    info = auth.request("POST", f"{api}/runs/create", {"experiment_id": "0"})["run"]["info"]
    root = info["artifact_uri"].removeprefix("mlflow-artifacts:/")  # as MLflow's client does
    token = base64.b64encode(":".join(auth.auth).encode()).decode()
    request = urllib.request.Request(
        f"{auth.url}/api/2.0/mlflow-artifacts/artifacts/{root}/notes.txt",
        data=b"only with credentials\n",
        method="PUT",
        headers={"Authorization": f"Basic {token}"},
    )
    with urllib.request.urlopen(request, timeout=30):
        pass
    return info["run_id"]


async def test_the_group_s_credentials_go_with_the_server_s_reads(mlflow_servers, bindings,
                                                                  jp_fetch):  # fmt: skip
    auth = mlflow_servers.auth
    run_id = _auth_run_with_notes(auth)

    def group(user: str, password: str) -> dict:
        env = {"MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": password}
        return {"tracking_uri": auth.url, "tracking_env": env}

    bindings.write(
        {
            "groups": {
                "admin": group(ADMIN_USER, ADMIN_PASSWORD),
                "wrong": group(ADMIN_USER, ADMIN_PASSWORD + "-wrong"),
            }
        }
    )
    status, body = await listing(jp_fetch, run_id, group="admin")
    assert status == 200 and [f["name"] for f in body["files"]] == ["notes.txt"]
    status, headers, content = await preview(jp_fetch, run_id, "notes.txt", group="admin")
    assert (status, content) == (200, b"only with credentials\n")
    assert ADMIN_PASSWORD not in str(dict(headers))
    status, _, content = await preview(jp_fetch, run_id, "notes.txt", group="wrong")
    assert status == 502 and json.loads(content)["error"]["code"] == "unauthorized"
