"""On a real JupyterHub: memberships come from the Hub, each user's kernels get their own
group's binding, nobody reaches another group's MLflow, and a membership changed in the Hub
applies at the next kernel start.

Two users, ada in team-a and bob in team-b, each with their own single-user server (the
simple local process spawner); both groups are bound in one shared bindings file.
"""

from __future__ import annotations

import json
import logging
import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from support.deploying import finished, invocations, register_version
from support.jupyter import JupyterClient
from support.processes import free_port

from jupyter_mlflow_groups.binding_store import BindingStore
from jupyter_mlflow_groups.hub import HubMemberships

API = "/mlflow-groups/api"
SHOW_BINDING = (
    "import os, mlflow\nprint(os.environ.get('JUPYTER_MLFLOW_GROUP'), mlflow.get_tracking_uri())\n"
)


def refusal(call: Callable[[], Any]) -> tuple[int, dict]:
    """The HTTP status and JSON body of a request that must fail."""
    with pytest.raises(urllib.error.HTTPError) as raised:
        call()
    body = raised.value.read()
    try:
        return raised.value.code, json.loads(body)
    except ValueError:
        return raised.value.code, {"body": body.decode(errors="replace")}


async def kernel_binding(client: JupyterClient, kernel_id: str) -> list[str]:
    """The group and tracking URI a kernel's MLflow uses, as the kernel itself reports them."""
    return (await client.execute(kernel_id, SHOW_BINDING)).split()


async def test_each_users_kernels_get_their_own_groups_binding(hub):
    for user, group in (("ada", "team-a"), ("bob", "team-b")):
        client = getattr(hub, user)
        groups = client.request("GET", f"{API}/groups")
        assert groups["user"] == user
        assert [entry["name"] for entry in groups["groups"]] == [group]
        assert groups["active"] == group and groups["errors"] == []

        kernel = client.start_kernel()
        assert await kernel_binding(client, kernel) == [group, hub.url[group]]
        # the magics talk back to the user's own server, behind the Hub's proxy
        status = await client.execute(kernel, "%mlflow_group status")
        assert f"MLflow group '{group}': OK" in status, status
        client.request("DELETE", f"/api/kernels/{kernel}")


async def test_a_user_cannot_activate_browse_or_deploy_in_another_group(hub):
    ada = hub.ada
    attempts = {
        "activate": lambda: ada.request("PUT", f"{API}/active", {"group": "team-b"}),
        "status": lambda: ada.request("GET", f"{API}/groups/team-b/status"),
        "browse": lambda: ada.request("GET", f"{API}/groups/team-b/models"),
        "list deployments": lambda: ada.request("GET", f"{API}/groups/team-b/deployments"),
        "deploy": lambda: ada.request(
            "POST",
            f"{API}/groups/team-b/deployments",
            {"name": "x", "model": "model-000", "version": "1"},
        ),
    }
    for what, attempt in attempts.items():
        status, body = refusal(attempt)
        assert (status, body["error"]["code"]) == (403, "forbidden"), what
        assert "not a member of the group 'team-b'" in body["error"]["message"], what
    assert ada.request("GET", f"{API}/groups")["active"] == "team-a"

    kernel = ada.start_kernel()
    switched = await ada.execute(kernel, "%mlflow_group use team-b")
    assert "not a member of the group 'team-b'" in switched
    assert await kernel_binding(ada, kernel) == ["team-a", hub.url["team-a"]]
    ada.request("DELETE", f"/api/kernels/{kernel}")

    # nor through bob's server: the Hub does not let ada's token in
    as_ada_on_bobs = JupyterClient(hub.bob.url, ada.token)
    status, _ = refusal(lambda: as_ada_on_bobs.request("GET", f"{API}/groups"))
    assert status == 403


async def test_a_deployment_in_ones_group_is_recorded_under_the_hub_user(hub, sklearn_model):
    """...and its endpoint answers through the Hub's proxy, under the user's prefix, for the
    user's own token only; so does the group's MLflow."""
    model_dir, rows, predicted = sklearn_model
    version, _ = register_version(hub.team_a_mlflow, "hub-iris", model_dir)
    ada = hub.ada
    deployments = f"{API}/groups/team-a/deployments"
    job = ada.request(
        "POST", deployments, {"name": "hub-iris", "model": "hub-iris", "version": version}
    )["job"]
    assert (await finished(ada, job))["state"] == "done"
    deployment = ada.request("GET", f"{deployments}/hub-iris")
    assert deployment["version"] == version
    assert deployment["updated_by"] == "ada"
    model = ada.request("GET", f"{API}/groups/team-a/models/hub-iris")
    assert {v["version"]: v["deployed_by"] for v in model["versions"]}[version] == ["hub-iris"]

    endpoint = deployment["endpoint"]
    assert endpoint == "/user/ada/mlflow-groups/groups/team-a/deployments/hub-iris/"
    assert invocations(ada, endpoint, rows) == predicted  # through the Hub's proxy
    with pytest.raises(requests.HTTPError, match="403"):  # bob's token: the Hub says no
        invocations(JupyterClient(ada.url, hub.bob.token), endpoint, rows)
    ui = ada.request("GET", f"{API}/groups")["groups"][0]["ui_url"]
    assert ui == "/user/ada/mlflow-groups/groups/team-a/mlflow/"
    page = requests.get(
        urljoin(ada.url, ui), headers={"Authorization": f"token {ada.token}"}, timeout=30
    )
    assert page.status_code == 200 and "<title>MLflow</title>" in page.text
    ada.request("DELETE", f"{deployments}/hub-iris")


async def test_a_membership_change_in_the_hub_applies_at_the_next_kernel_start(hub):
    ada = hub.ada
    running = ada.start_kernel()
    assert await kernel_binding(ada, running) == ["team-a", hub.url["team-a"]]
    hub.hub.set_groups("ada", joined=["team-b"], left=["team-a"])
    try:
        started_after = ada.start_kernel()
        assert await kernel_binding(ada, started_after) == ["team-b", hub.url["team-b"]]
        # a running kernel keeps its group until it restarts
        assert await kernel_binding(ada, running) == ["team-a", hub.url["team-a"]]
        ada.request("POST", f"/api/kernels/{running}/restart")
        assert await kernel_binding(ada, running) == ["team-b", hub.url["team-b"]]

        groups = ada.request("GET", f"{API}/groups")
        assert [entry["name"] for entry in groups["groups"]] == ["team-b"]
        status, body = refusal(lambda: ada.request("GET", f"{API}/groups/team-a/models"))
        assert (status, body["error"]["code"]) == (403, "forbidden")
        for kernel in (running, started_after):
            ada.request("DELETE", f"/api/kernels/{kernel}")
    finally:
        hub.hub.set_groups("ada", joined=["team-a"], left=["team-b"])
    kernel = ada.start_kernel()
    assert await kernel_binding(ada, kernel) == ["team-a", hub.url["team-a"]]
    ada.request("DELETE", f"/api/kernels/{kernel}")


async def test_memberships_when_the_hub_cannot_answer(hub, silent_server, tmp_path: Path, caplog):
    """Refused, unreachable, silent or someone else's token: said why, and the last answer
    stays."""
    bindings_file = tmp_path / "bindings.json"
    bindings_file.write_text(
        json.dumps({"groups": {name: {"tracking_uri": url} for name, url in hub.url.items()}})
    )
    log = logging.getLogger("test-hub")
    bindings = BindingStore({}, None, str(bindings_file), log).current()
    api_url = f"{hub.hub.url}/hub/api"

    def memberships(token: str, url: str = api_url) -> HubMemberships:
        return HubMemberships(url, token, "ada", ttl=30, timeout=5, log=log)

    ada = memberships(hub.ada.token)
    await ada.refresh()
    assert ada.groups_of("ada", bindings) == ["team-a"] and ada.problem is None
    assert ada.groups_of("bob", bindings) == []  # the token speaks for its owner only

    ada.api_url = f"http://127.0.0.1:{free_port()}/hub/api"  # nothing listens
    await ada.refresh()  # answered less than ttl ago: not asked again
    assert ada.problem is None
    await ada.refresh(force=True)
    assert "JupyterHub did not answer" in ada.problem
    assert "keeping its last answer" in ada.problem
    assert ada.groups_of("ada", bindings) == ["team-a"]

    ada.api_url, ada.timeout = f"{silent_server.url}/hub/api", 0.5  # listens, never answers
    await ada.refresh(force=True)
    assert "JupyterHub did not answer: Timeout" in ada.problem
    assert ada.groups_of("ada", bindings) == ["team-a"]

    for token, reason in (
        ("not-a-token", "JupyterHub refused this server's token (HTTP 403)"),
        (hub.bob.token, "does not belong to ada (it identifies 'bob')"),
    ):
        never_answered = memberships(token)
        await never_answered.refresh()
        assert reason in never_answered.problem
        assert "no group until it answers" in never_answered.problem
        assert never_answered.groups_of("ada", bindings) == []
    assert hub.ada.token not in caplog.text and hub.bob.token not in caplog.text
