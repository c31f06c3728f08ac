"""Each status class produced for real: live MLflow servers, a closed port, a silent socket,
a TLS front with a certificate the client does not trust, wrong credentials."""

from __future__ import annotations

import asyncio
import logging

import pytest
from support.rest import fetch_json
from support.servers import ADMIN_PASSWORD, ADMIN_USER, READER_PASSWORD, READER_USER, TEAM_WORKSPACE

API = ("mlflow-groups", "api")
WRONG_PASSWORD = "wrong-password-status-8d2e"


async def status_of(jp_fetch, bindings, binding: dict) -> dict:
    bindings.write({"groups": {"g": {**binding, "members": ["alice"]}}})
    code, body = await fetch_json(jp_fetch, *API, "groups", "g", "status")
    assert code == 200, body
    assert body["group"] == "g"
    return body


def basic(user: str, password: str) -> dict:
    return {"MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": password}


async def test_ok_reports_version_and_latency(mlflow_servers, bindings, jp_fetch):
    body = await status_of(jp_fetch, bindings, {"tracking_uri": mlflow_servers.plain.url})
    assert body["ok"] is True and body["code"] == "ok"
    assert body["configured"] is True and body["reachable"] is True
    assert body["server_version"].split(".")[0] == "3"
    assert body["latency_ms"] > 0
    assert body["message"].startswith(
        f"MLflow {body['server_version']} at {mlflow_servers.plain.url}"
    )


async def test_basic_auth_server_with_the_right_password(mlflow_servers, bindings, jp_fetch):
    body = await status_of(
        jp_fetch,
        bindings,
        {
            "tracking_uri": mlflow_servers.auth.url,
            "tracking_env": basic(ADMIN_USER, ADMIN_PASSWORD),
        },
    )
    assert (body["ok"], body["auth"], body["auth_ok"]) == (True, "basic", True)


async def test_wrong_password_is_unauthorized(mlflow_servers, bindings, jp_fetch):
    body = await status_of(
        jp_fetch,
        bindings,
        {
            "tracking_uri": mlflow_servers.auth.url,
            "tracking_env": basic(ADMIN_USER, WRONG_PASSWORD),
        },
    )
    assert (body["ok"], body["code"], body["reachable"], body["auth_ok"]) == (
        False,
        "unauthorized",
        True,
        False,
    )
    assert "refused the credentials" in body["message"]
    assert "ask your group admin" in body["hint"]
    assert WRONG_PASSWORD not in str(body)


async def test_no_credentials_on_an_auth_server_is_unauthorized(mlflow_servers, bindings, jp_fetch):
    body = await status_of(jp_fetch, bindings, {"tracking_uri": mlflow_servers.auth.url})
    assert body["code"] == "unauthorized"


async def test_a_token_is_sent_as_bearer_and_refused_by_basic_auth(
    mlflow_servers, bindings, jp_fetch
):
    body = await status_of(
        jp_fetch,
        bindings,
        {
            "tracking_uri": mlflow_servers.auth.url,
            "tracking_env": {"MLFLOW_TRACKING_TOKEN": "not-a-basic-credential"},
        },
    )
    assert (body["auth"], body["code"]) == ("bearer", "unauthorized")


async def test_basic_wins_over_a_token_when_both_are_set(mlflow_servers, bindings, jp_fetch):
    body = await status_of(
        jp_fetch,
        bindings,
        {
            "tracking_uri": mlflow_servers.auth.url,
            "tracking_env": {
                **basic(ADMIN_USER, ADMIN_PASSWORD),
                "MLFLOW_TRACKING_TOKEN": "ignored",
            },
        },
    )
    assert (body["auth"], body["ok"]) == ("basic", True)


async def test_a_workspace_without_permission_is_forbidden(mlflow_servers, bindings, jp_fetch):
    body = await status_of(
        jp_fetch,
        bindings,
        {
            "tracking_uri": mlflow_servers.auth.url,
            "workspace": TEAM_WORKSPACE,
            "tracking_env": basic(READER_USER, READER_PASSWORD),
        },
    )
    assert (body["code"], body["reachable"], body["auth_ok"]) == ("forbidden", True, True)
    assert f"no access to the workspace '{TEAM_WORKSPACE}'" in body["message"]


async def test_the_admin_may_use_the_workspace(mlflow_servers, bindings, jp_fetch):
    body = await status_of(
        jp_fetch,
        bindings,
        {
            "tracking_uri": mlflow_servers.auth.url,
            "workspace": TEAM_WORKSPACE,
            "tracking_env": basic(ADMIN_USER, ADMIN_PASSWORD),
        },
    )
    assert body["ok"] is True


async def test_an_unknown_workspace_is_not_found(mlflow_servers, bindings, jp_fetch):
    body = await status_of(
        jp_fetch,
        bindings,
        {
            "tracking_uri": mlflow_servers.auth.url,
            "workspace": "no-such-ws",
            "tracking_env": basic(ADMIN_USER, ADMIN_PASSWORD),
        },
    )
    assert body["code"] == "not_found"
    assert "has no workspace 'no-such-ws'" in body["message"]


async def test_a_workspace_on_a_server_without_workspaces_is_explained(
    mlflow_servers, bindings, jp_fetch
):
    body = await status_of(
        jp_fetch, bindings, {"tracking_uri": mlflow_servers.plain.url, "workspace": "team-x"}
    )
    assert body["code"] == "mlflow_error"
    assert "runs without workspaces" in body["message"]


async def test_a_closed_port_is_unreachable(closed_url, bindings, jp_fetch):
    body = await status_of(jp_fetch, bindings, {"tracking_uri": closed_url})
    assert (body["code"], body["reachable"], body["configured"]) == ("unreachable", False, True)
    assert "connection refused" in body["message"]


async def test_a_host_that_does_not_resolve_is_unreachable(bindings, jp_fetch):
    body = await status_of(jp_fetch, bindings, {"tracking_uri": "http://no-such-host.invalid:5000"})
    assert body["code"] == "unreachable"
    assert "does not resolve" in body["message"]


async def test_a_server_that_never_answers_times_out_within_the_bound(
    silent_server, bindings, jp_fetch
):
    loop = asyncio.get_running_loop()
    started = loop.time()
    body = await status_of(jp_fetch, bindings, {"tracking_uri": silent_server.url})
    assert body["code"] == "timeout"
    assert "did not answer within 3 s" in body["message"]
    assert loop.time() - started < 3 * 3  # bounded by status_timeout, not by a TCP default


async def test_a_hanging_mlflow_does_not_block_other_requests(silent_server, bindings, jp_fetch):
    bindings.write({"groups": {"g": {"tracking_uri": silent_server.url}}})
    hanging = asyncio.ensure_future(fetch_json(jp_fetch, *API, "groups", "g", "status"))
    for _ in range(5):
        code, _ = await fetch_json(jp_fetch, *API, "groups")
        assert code == 200
        code, _ = await fetch_json(jp_fetch, "api", "status")
        assert code == 200
    assert not hanging.done()  # the other requests were served while the status check waited
    assert (await hanging)[1]["code"] == "timeout"


async def test_an_untrusted_certificate_is_a_tls_error(tls_front, bindings, jp_fetch):
    body = await status_of(jp_fetch, bindings, {"tracking_uri": tls_front.url})
    assert body["code"] == "tls"
    assert "certificate" in body["message"].lower()
    assert "MLFLOW_TRACKING_SERVER_CERT_PATH" in body["hint"]


async def test_the_ca_certificate_of_the_binding_is_used(tls_front, bindings, jp_fetch):
    body = await status_of(
        jp_fetch,
        bindings,
        {
            "tracking_uri": tls_front.url,
            "tracking_env": {"MLFLOW_TRACKING_SERVER_CERT_PATH": str(tls_front.ca_path)},
        },
    )
    assert body["ok"] is True, body


async def test_insecure_tls_skips_verification(tls_front, bindings, jp_fetch):
    body = await status_of(
        jp_fetch,
        bindings,
        {"tracking_uri": tls_front.url, "tracking_env": {"MLFLOW_TRACKING_INSECURE_TLS": "true"}},
    )
    assert body["ok"] is True, body


async def test_a_server_that_is_not_mlflow_is_not_found(jp_serverapp, bindings, jp_fetch):
    jupyter = f"http://127.0.0.1:{jp_serverapp.port}"
    body = await status_of(jp_fetch, bindings, {"tracking_uri": jupyter})
    assert body["code"] in {"not_found", "forbidden"}
    assert body["reachable"] is True


async def test_a_misconfigured_group_is_not_configured(bindings, jp_fetch, caplog):
    with caplog.at_level(logging.WARNING):
        body = await status_of(jp_fetch, bindings, {"tracking_uri": "ftp://nowhere"})
    assert (body["code"], body["configured"], body["reachable"]) == ("not_configured", False, None)
    assert "MLflow is not configured for group 'g'" in body["message"]
    assert "unsupported scheme 'ftp'" in body["message"]
    assert "ask your group admin" in body["hint"].lower()
    assert "group 'g', field 'tracking_uri'" in caplog.text


async def test_a_missing_secret_reference_is_not_configured(
    bindings, jp_fetch, monkeypatch, tmp_path
):
    secret = tmp_path / "token"
    secret.write_text("x")
    bindings.write(
        {
            "groups": {
                "g": {
                    "tracking_uri": "http://h.invalid",
                    "tracking_env": {"MLFLOW_TRACKING_TOKEN": f"${{file:{secret}}}"},
                }
            }
        }
    )
    await fetch_json(jp_fetch, *API, "groups")
    secret.unlink()
    _, body = await fetch_json(jp_fetch, *API, "groups", "g", "status")
    assert body["code"] == "not_configured"
    assert "no such file" in body["message"]


async def test_a_local_sqlite_store_is_checked_on_disk(bindings, jp_fetch, tmp_path):
    body = await status_of(jp_fetch, bindings, {"tracking_uri": f"sqlite:///{tmp_path}/mlflow.db"})
    assert (body["ok"], body["checked"]) == (True, True)
    body = await status_of(jp_fetch, bindings, {"tracking_uri": "file:///no/such/dir/mlruns"})
    assert (body["code"], body["reachable"]) == ("unreachable", False)


@pytest.mark.parametrize("uri", ["databricks", "postgresql://u@db.invalid/mlflow"])
async def test_stores_the_server_cannot_ask_are_reported_unchecked(bindings, jp_fetch, uri):
    body = await status_of(jp_fetch, bindings, {"tracking_uri": uri})
    assert (body["ok"], body["checked"], body["reachable"]) == (True, False, None)
    assert "does not check it" in body["message"]


async def test_a_managed_group_whose_server_is_starting_says_so(bindings, jp_fetch, jp_base_url):
    """Asked at once (an MLflow server takes seconds to start): configured, not yet answering."""
    body = await status_of(jp_fetch, bindings, {"mode": "managed"})
    assert (body["code"], body["configured"], body["ok"]) == ("starting", True, False)
    assert body["managed"]["state"] == "starting"
    proxied = f"{jp_base_url}mlflow-groups/groups/g/mlflow"  # reached through Jupyter
    assert (body["tracking_uri"], body["ui_url"]) == (proxied, f"{proxied}/")
    assert "server.log" in body["hint"]
