"""Live updates, with real parts: a real `mlflow server` (SQL backend) that delivers registry
webhooks, a real Jupyter server, and Jupyter's own event stream as JupyterLab subscribes to it.

An alias moved by a plain `MlflowClient` reaches the frontends and a following deployment
through MLflow's webhook, not by polling (the test's server polls every 10 minutes); what the
extension itself changes (promotions, deployments) is announced too; deliveries MLflow did
not sign are refused.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
from mlflow import MlflowClient
from support.deploying import TEAM_DEPLOYMENTS, finished, register_version, team_server
from support.events import EventStream
from support.jupyter import JupyterServerProcess
from support.managed import until
from support.servers import MlflowServer, start_mlflow, wait_until_healthy

from jupyter_mlflow_groups.cache import TtlCache
from jupyter_mlflow_groups.errors import MlflowError
from jupyter_mlflow_groups.managed import WEBHOOK_ENVIRONMENT
from jupyter_mlflow_groups.registry import GroupConnection, RegistryService
from jupyter_mlflow_groups.upstream import HttpClients
from jupyter_mlflow_groups.webhooks import MAX_AGE, RegistryWebhooks, signature

HOOK = "/mlflow-groups/hooks/team"


@pytest.fixture(scope="module")
def webhook_mlflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """An MLflow server allowed to call back over loopback http, as managed ones are."""
    server = start_mlflow(tmp_path_factory.mktemp("mlflow-webhooks"), extra_env=WEBHOOK_ENVIRONMENT)
    try:
        wait_until_healthy(server)
        yield server
    finally:
        server.stop()


def hooks_to(mlflow: MlflowServer, url_part: str) -> list[dict]:
    with urllib.request.urlopen(f"{mlflow.url}/api/2.0/mlflow/webhooks", timeout=10) as answer:
        webhooks = json.loads(answer.read()).get("webhooks", [])
    return [webhook for webhook in webhooks if url_part in webhook["url"]]


def is_event(group: str, topic: str, origin: str):
    return lambda event: (
        (event["group"], event["topic"], event["origin"])
        == (
            group,
            topic,
            origin,
        )
    )


async def test_an_alias_moved_anywhere_reaches_the_frontends_and_a_following_deployment_at_once(
    webhook_mlflow, sklearn_model, tmp_path
):
    model_dir, _, _ = sklearn_model
    model = f"live-{uuid.uuid4().hex[:6]}"
    first, _ = register_version(webhook_mlflow, model, model_dir)
    second, _ = register_version(webhook_mlflow, model, model_dir)
    mlflow = MlflowClient(tracking_uri=webhook_mlflow.url)
    mlflow.set_registered_model_alias(model, "champion", first)
    server = team_server(webhook_mlflow.url, tmp_path)
    server.args = ["--MlflowGroupsApp.follow_interval=600"]  # only a webhook explains a follow
    server.start()
    events = await EventStream.open(server)
    try:
        hook_url = f"{server.url}{HOOK}"
        await until(lambda: hooks_to(webhook_mlflow, hook_url), timeout=30)

        body = {"name": "live", "model": model, "version": "@champion", "follow": True}
        job = await finished(server, server.request("POST", TEAM_DEPLOYMENTS, body)["job"])
        assert job["state"] == "done", job
        await events.next(is_event("team", "deployments", "jupyter"))

        moved_at = time.monotonic()
        mlflow.set_registered_model_alias(model, "champion", second)
        await events.next(is_event("team", "aliases", "webhook"), timeout=15)
        print(f"alias move to the frontends' event: {time.monotonic() - moved_at:.2f} s")

        def serving_second():
            found = server.request("GET", f"{TEAM_DEPLOYMENTS}/live")
            return found if found["version"] == second and found["status"] == "serving" else None

        deployment = await until(serving_second, timeout=120)
        print(f"alias move to serving the new version: {time.monotonic() - moved_at:.1f} s")
        assert deployment["history"][0]["note"] == f"followed @champion from v{first} to v{second}"

        third, _ = register_version(webhook_mlflow, model, model_dir)  # a version appears
        await events.next(is_event("team", "models", "webhook"), timeout=15)
        version = f"/mlflow-groups/api/groups/team/models/{model}/versions/{third}"
        assert server.request("GET", version)["version"] == third

        promoted = server.answer(
            "PUT",
            f"/mlflow-groups/api/groups/team/models/{model}/aliases/staging",
            {"version": third, "reason": "try it"},
        )
        assert promoted[0] == 200, promoted
        await events.next(is_event("team", "aliases", "jupyter"))
        assert all(set(event) >= {"group", "topic", "origin"} for event in events.seen)
        assert not any(model in json.dumps(event) for event in events.seen)  # names no model
    finally:
        events.close()
        server.stop()
    assert hooks_to(webhook_mlflow, hook_url) == []  # the server removed its webhook


async def test_deliveries_mlflow_did_not_sign_are_refused_and_change_nothing(
    webhook_mlflow, tmp_path
):
    server = team_server(webhook_mlflow.url, tmp_path).start()
    events = await EventStream.open(server)
    try:
        await until(lambda: hooks_to(webhook_mlflow, f"{server.url}{HOOK}"), timeout=30)
        delivery = json.dumps({"entity": "model_version_alias", "action": "created"}).encode()
        now = str(int(time.time()))
        forged = signature("not-the-secret", "d1", now, delivery)
        for headers in (
            {},
            {"X-MLflow-Signature": forged, "X-MLflow-Timestamp": now, "X-MLflow-Delivery-Id": "d1"},
        ):
            request = urllib.request.Request(
                f"{server.url}{HOOK}", data=delivery, method="POST", headers=headers
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 401
            assert json.loads(refused.value.read())["error"]["code"] == "unauthenticated"
        with pytest.raises(TimeoutError):
            await events.next(lambda event: event["origin"] == "webhook", timeout=2)
    finally:
        events.close()
        server.stop()


def unreachable() -> GroupConnection:
    raise MlflowError("unreachable", "no MLflow here")


async def test_a_signature_counts_only_for_its_body_its_group_and_a_recent_time():
    hooks = RegistryWebhooks(
        RegistryService(HttpClients(), 5.0, TtlCache(0)), "ada", logging.getLogger()
    )
    hooks.ensure("team", "http://127.0.0.1:9/hooks/team", unreachable, patient=False)
    secret = hooks._hooks["team"].secret
    body = b'{"entity": "model_version", "action": "created"}'
    now = str(int(time.time()))

    def headers(secret: str, timestamp: str, payload: bytes = body) -> dict[str, str]:
        return {
            "X-MLflow-Signature": signature(secret, "delivery-1", timestamp, payload),
            "X-MLflow-Timestamp": timestamp,
            "X-MLflow-Delivery-Id": "delivery-1",
        }

    assert hooks.verify("team", headers(secret, now), body)["entity"] == "model_version"
    # MLflow's own formula: base64 of HMAC-SHA256 over "id.timestamp.body"
    expected = hmac.new(secret.encode(), f"delivery-1.{now}.".encode() + body, hashlib.sha256)
    assert (
        headers(secret, now)["X-MLflow-Signature"]
        == "v1," + base64.b64encode(expected.digest()).decode()
    )
    refused = [
        ("team", headers(secret, now), body + b" "),  # another body
        ("other", headers(secret, now), body),  # another group
        ("team", headers(secret, str(int(time.time() - MAX_AGE - 5))), body),  # a replay
        ("team", headers("guess", now), body),
        ("team", {**headers(secret, now), "X-MLflow-Timestamp": "soon"}, body),
    ]
    for group, given, payload in refused:
        with pytest.raises(Exception) as error:
            hooks.verify(group, given, payload)
        assert getattr(error.value, "status", None) == 401, (group, given)
    await hooks.close()


async def test_what_others_do_elsewhere_is_found_by_looking_every_poll_interval(
    deploy_server, sklearn_model, tmp_path
):
    """No webhook here (a plain MLflow): a version registered by a plain client, and a request
    a member makes on her own server, reach the admin's frontends by polling."""
    bindings = tmp_path / "bindings.json"
    policy = {"write": "members", "protected_aliases": ["champion"]}
    group = {"tracking_uri": deploy_server.url, "members": ["alice"], "admins": ["boss"]}
    bindings.write_text(json.dumps({"groups": {"team": {**group, "registry": policy}}}))
    env = {"JUPYTER_MLFLOW_GROUPS_FILE": str(bindings)}
    servers = {
        user: JupyterServerProcess(
            tmp_path / user,
            env=env,
            args=[f"--MlflowGroupsApp.user={user}", "--MlflowGroupsApp.poll_interval=1"],
        ).start()
        for user in ("alice", "boss")
    }
    events = await EventStream.open(servers["boss"])
    try:
        model = f"polled-{uuid.uuid4().hex[:6]}"
        await asyncio.sleep(2)  # the servers' first look (their reference) is taken by now
        version, _ = register_version(deploy_server, model, sklearn_model[0])
        await events.next(is_event("team", "models", "poll"), timeout=15)

        asked = servers["alice"].answer(
            "PUT",
            f"/mlflow-groups/api/groups/team/models/{model}/aliases/champion",
            {"version": version, "reason": "better recall"},
        )
        assert asked[0] == 202, asked
        await events.next(is_event("team", "requests", "poll"), timeout=15)
        pending = servers["boss"].request("GET", "/mlflow-groups/api/groups/team/requests")
        assert [r["id"] for r in pending["requests"]] == [asked[1]["request"]["id"]]
    finally:
        events.close()
        for server in servers.values():
            server.stop()
