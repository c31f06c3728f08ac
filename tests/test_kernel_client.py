"""A kernel reaches this extension's API with its own token, which grants nothing else."""

from __future__ import annotations

import json

import pytest
from support.kernels import kernel_env, restart_kernel, run_in_kernel, start_kernel
from support.rest import fetch_json
from tornado.httpclient import HTTPClientError

from jupyter_mlflow_groups.kernel.client import NotConnected, ServerClient
from jupyter_mlflow_groups.kernel_tokens import TOKEN_HEADER

GROUPS_CODE = """
import json
from jupyter_mlflow_groups.kernel.client import ServerClient
print(json.dumps(ServerClient.from_environment().groups()))
"""


@pytest.fixture
def one_group(bindings):
    bindings.write({"groups": {"team-a": {"tracking_uri": "http://team-a.invalid"}}})


async def fetch_with_token(http_server_client, url: str, token: str) -> tuple[int, dict]:
    try:
        response = await http_server_client.fetch(url, headers={TOKEN_HEADER: token})
    except HTTPClientError as error:
        return error.code, json.loads(error.response.body or b"{}")
    return response.code, json.loads(response.body)


async def test_a_kernel_uses_the_api_with_its_own_token(one_group, jp_fetch, jp_serverapp):
    kernel = await start_kernel(jp_fetch)
    env = await kernel_env(jp_serverapp, kernel)
    assert (
        env["JUPYTER_MLFLOW_GROUPS_URL"]
        == f"http://127.0.0.1:{jp_serverapp.port}{jp_serverapp.base_url}"
    )
    assert env["JUPYTER_MLFLOW_GROUPS_TOKEN"] != jp_serverapp.identity_provider.token
    groups = json.loads(await run_in_kernel(jp_serverapp, kernel, GROUPS_CODE))
    assert groups["active"] == "team-a"


async def test_the_token_grants_this_api_only_and_dies_with_its_kernel(
    one_group, jp_fetch, jp_serverapp, http_server_client, jp_base_url
):
    kernel = await start_kernel(jp_fetch)
    token = (await kernel_env(jp_serverapp, kernel))["JUPYTER_MLFLOW_GROUPS_TOKEN"]
    ours = f"{jp_base_url}mlflow-groups/api/groups"
    status, body = await fetch_with_token(http_server_client, ours, token)
    assert status == 200 and body["active"] == "team-a"
    for other in ("api/kernels", "api/contents", "api/sessions", "api/kernelspecs"):
        status, _ = await fetch_with_token(http_server_client, f"{jp_base_url}{other}", token)
        assert status == 403, other

    await restart_kernel(jp_fetch, kernel)
    renewed = (await kernel_env(jp_serverapp, kernel))["JUPYTER_MLFLOW_GROUPS_TOKEN"]
    assert renewed != token
    assert (await fetch_with_token(http_server_client, ours, token))[0] == 403
    assert (await fetch_with_token(http_server_client, ours, renewed))[0] == 200

    await jp_fetch("api", "kernels", kernel, method="DELETE")
    status, body = await fetch_with_token(http_server_client, ours, renewed)
    assert (status, body["error"]["code"]) == (403, "unauthenticated")


async def test_a_made_up_token_is_refused(one_group, jp_serverapp, http_server_client, jp_base_url):
    status, body = await fetch_with_token(
        http_server_client, f"{jp_base_url}mlflow-groups/api/groups", "made-up"
    )
    assert (status, body["error"]["code"]) == (403, "unauthenticated")


def test_outside_jupyter_the_client_says_so(monkeypatch):
    monkeypatch.delenv("JUPYTER_MLFLOW_GROUPS_URL", raising=False)
    monkeypatch.delenv("JUPYTER_MLFLOW_GROUPS_TOKEN", raising=False)
    with pytest.raises(
        NotConnected, match="not started by a Jupyter server with jupyter-mlflow-groups"
    ):
        ServerClient.from_environment()


def test_an_unreachable_server_is_not_connected(closed_url):
    with pytest.raises(NotConnected, match="is not reachable"):
        ServerClient(closed_url, "token").groups()


async def test_only_a_kernel_may_read_a_group_s_environment(
    bindings, jp_fetch, jp_serverapp, http_server_client, jp_base_url, monkeypatch
):
    monkeypatch.setenv("KERNEL_ENV_SECRET", "kernel-env-secret-value")
    secret = {"AWS_SECRET_ACCESS_KEY": "${env:KERNEL_ENV_SECRET}"}
    bindings.write(
        {
            "groups": {
                "team-a": {"tracking_uri": "http://a.invalid", "artifact_env": secret},
                "team-b": {"tracking_uri": "http://b.invalid", "members": ["bob"]},
            }
        }
    )
    status, body = await fetch_json(
        jp_fetch, "mlflow-groups", "api", "groups", "team-a", "kernel-env"
    )
    assert (status, body["error"]["code"]) == (403, "forbidden")  # the browser's token: refused
    assert "kernel-env-secret-value" not in json.dumps(body)

    kernel = await start_kernel(jp_fetch)
    token = (await kernel_env(jp_serverapp, kernel))["JUPYTER_MLFLOW_GROUPS_TOKEN"]
    url = f"{jp_base_url}mlflow-groups/api/groups/team-a/kernel-env"
    status, body = await fetch_with_token(http_server_client, url, token)
    assert status == 200
    assert body["set"]["AWS_SECRET_ACCESS_KEY"] == "kernel-env-secret-value"
    assert body["set"]["MLFLOW_TRACKING_URI"] == "http://a.invalid"
    assert "MLFLOW_RUN_ID" in body["unset"] and "JUPYTER_MLFLOW_GROUPS_TOKEN" not in body["unset"]
    other = f"{jp_base_url}mlflow-groups/api/groups/team-b/kernel-env"
    status, body = await fetch_with_token(http_server_client, other, token)
    assert (status, body["error"]["code"]) == (403, "forbidden")  # not a member of team-b
