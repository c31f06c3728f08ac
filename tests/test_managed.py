"""Managed MLflow servers, run by the extension itself: zero configuration, supervision,
sharing between Jupyter servers. Every Jupyter server here is a real `jupyter server` process."""

from __future__ import annotations

import json
import logging
import os
import signal
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import requests
from support.events import EventStream
from support.jupyter import JupyterServerProcess
from support.kernels import ENV_CODE
from support.managed import STATUS, running, until
from support.processes import listening_tcp_ports, stopped

from jupyter_mlflow_groups.managed import HEALTH, ManagedServers, managed_server

MLFLOW = "/mlflow-groups/groups/default/mlflow"
WEBHOOKS = "/api/2.0/mlflow/webhooks"
CREATE_MODEL = "/api/2.0/mlflow/registered-models/create"


def through_jupyter(server: JupyterServerProcess, method: str, path: str, **kwargs) -> Any:
    """A call to the managed MLflow's API as any member's client makes it: at the server's
    proxy, with Jupyter's token."""
    headers = {"Authorization": f"token {server.token}"}
    return requests.request(method, f"{server.url}{MLFLOW}{path}", headers=headers, **kwargs)


@pytest.fixture
def shared_home(tmp_path):
    """A Jupyter data directory (hence a groups root) that several servers can share."""
    return tmp_path / "home"


@pytest.fixture
def servers(shared_home):
    started: list[JupyterServerProcess] = []

    def start() -> JupyterServerProcess:
        server = JupyterServerProcess(shared_home, env={"JUPYTER_MLFLOW_GROUPS_FILE": ""})
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


async def test_zero_configuration_gives_a_working_managed_group(servers, shared_home):
    server = servers()
    first = server.request("GET", STATUS)  # Jupyter answers while MLflow is still starting
    assert first["managed"]["state"] in ("starting", "running")
    early = server.start_kernel()  # before MLflow answers: it gets the URL MLflow will answer at
    groups = server.request("GET", "/mlflow-groups/api/groups")
    assert [(g["name"], g["mode"]) for g in groups["groups"]] == [("default", "managed")]
    assert groups["active"] == "default"

    status = await until(lambda: running(server))
    root = shared_home / "data" / "jupyter_mlflow_groups" / "groups" / "default"
    assert status["managed"]["root"] == str(root) and status["managed"]["owned"] is True
    assert (root / "mlflow.db").exists() and (root / "server.json").exists()

    code = ENV_CODE + (
        "\nimport mlflow\n"
        "with mlflow.start_run(run_name='from-a-kernel') as run:\n"
        "    mlflow.log_metric('loss', 0.5)\n"
        "print(mlflow.get_run(run.info.run_id).data.metrics['loss'])\n"
    )
    output = (await server.execute(server.start_kernel(), code, timeout=120)).splitlines()
    env = json.loads(output[0])
    assert env["MLFLOW_TRACKING_URI"] == f"{server.url}{MLFLOW}"  # through Jupyter, as a member
    assert output[-1] == "0.5"
    early_env = json.loads(await server.execute(early, ENV_CODE))
    assert early_env["MLFLOW_TRACKING_URI"] == f"{server.url}{MLFLOW}"

    # the managed MLflow calls its Jupyter server back: a model registered from anywhere is
    # announced to the frontends by its webhook (this server never polls for models)
    hooks = await until(lambda: through_jupyter(server, "GET", WEBHOOKS).json().get("webhooks"))
    assert [hook["url"] for hook in hooks] == [f"{server.url}/mlflow-groups/hooks/default"]
    events = await EventStream.open(server)
    try:
        created = through_jupyter(server, "POST", CREATE_MODEL, json={"name": "announced"})
        assert created.status_code == 200, created.text
        event = await events.next(lambda event: event["origin"] == "webhook", timeout=15)
        assert (event["group"], event["topic"]) == ("default", "models")
    finally:
        events.close()


async def test_the_socket_is_known_from_the_start_and_private(tmp_path):
    """Requests in the first instant wait for the socket the server will answer on; only this
    account may enter its directory, and the server listens on no TCP port."""
    managed = ManagedServers(logging.getLogger("test"))
    managed.ensure("g", tmp_path)
    upstream = managed.upstream("g")
    assert upstream is not None and upstream.socket
    socket = Path(upstream.socket)
    try:
        await until(lambda: managed.state("g").state == "running")
        assert managed.upstream("g") == upstream
        assert await managed_server(tmp_path, "g").healthy(HEALTH, str(socket))
        assert socket.parent.stat().st_mode & 0o777 == 0o700
        assert socket.parent.stat().st_uid == os.getuid()
        pid = managed.state("g").pid
        assert not listening_tcp_ports(pid), "the managed MLflow listens on TCP"
    finally:
        await managed.stop_all()
    assert not socket.exists()


async def test_a_killed_managed_server_comes_back_with_its_data(servers):
    server = servers()
    before = await until(lambda: running(server))
    through_jupyter(
        server, "POST", "/api/2.0/mlflow/experiments/create", json={"name": "survives"}, timeout=10
    ).raise_for_status()

    os.killpg(before["managed"]["pid"], signal.SIGKILL)
    await until(lambda: server.request("GET", STATUS)["managed"]["state"] != "running")
    after = await until(lambda: running(server))
    assert after["managed"]["pid"] != before["managed"]["pid"]
    assert after["managed"]["restarts"] >= 1
    found = through_jupyter(  # the same address as before: running kernels keep working
        server,
        "GET",
        "/api/2.0/mlflow/experiments/get-by-name",
        params={"experiment_name": "survives"},
        timeout=10,
    )
    assert found.status_code == 200  # the same sqlite file, nothing lost
    assert "exited" in server.log() or "stopped answering" in server.log()


async def test_two_jupyter_servers_share_one_managed_server(servers):
    first = servers()
    owner = await until(lambda: running(first))
    second = servers()
    shared = await until(lambda: running(second))
    assert shared["managed"]["pid"] == owner["managed"]["pid"]  # reused, not a second one
    assert (owner["managed"]["owned"], shared["managed"]["owned"]) == (True, False)
    created = through_jupyter(
        first, "POST", "/api/2.0/mlflow/experiments/create", json={"name": "shared"}, timeout=10
    )
    created.raise_for_status()
    seen = through_jupyter(
        second, "GET", "/api/2.0/mlflow/experiments/get-by-name",
        params={"experiment_name": "shared"}, timeout=10,
    )  # fmt: skip
    assert seen.status_code == 200  # one server, one registry, reached by both

    first.stop()  # its MLflow server stops with it; the second Jupyter server takes over
    taken_over = await until(
        lambda: (s := running(second)) and s["managed"]["pid"] != owner["managed"]["pid"] and s
    )
    assert taken_over["managed"]["owned"] is True
    with pytest.raises(ProcessLookupError):
        os.kill(owner["managed"]["pid"], 0)


async def test_a_server_whose_jupyter_server_died_is_taken_over_not_left_behind(servers):
    first = servers()
    pid = (await until(lambda: running(first)))["managed"]["pid"]
    second = servers()
    assert (await until(lambda: running(second)))["managed"]["owned"] is False

    os.killpg(first.process.pid, signal.SIGKILL)  # no clean-up at all: MLflow runs on, orphaned
    first.process.wait()
    taken = await until(lambda: (s := running(second)) and s["managed"]["owned"] and s)
    assert taken["managed"]["pid"] == pid  # the same server, now the second one's

    os.killpg(second.process.pid, signal.SIGKILL)
    second.process.wait()
    third = servers()  # finds it orphaned at start-up
    adopted = await until(lambda: (s := running(third)) and s["managed"]["owned"] and s)
    assert adopted["managed"]["pid"] == pid
    third.stop()
    assert stopped(pid)  # stopped with its last owner


async def test_an_interrupted_jupyter_server_without_a_terminal_stops_its_mlflow(servers):
    """Ctrl-C without a terminal skips Jupyter's clean-up of extensions; ours runs at exit."""
    server = servers()
    pid = (await until(lambda: running(server)))["managed"]["pid"]
    os.kill(server.process.pid, signal.SIGINT)
    server.process.wait(timeout=60)
    assert "Interrupted" in server.log()  # the path that skips extensions' clean-up
    assert stopped(pid)


async def test_deploying_from_a_managed_group_reads_its_artifact_directory(servers, sklearn_model):
    import mlflow

    server = servers()
    status = await until(lambda: running(server))
    model_dir, _, _ = sklearn_model
    client = mlflow.MlflowClient(f"{server.url}{MLFLOW}")
    with mock.patch.dict(os.environ, {"MLFLOW_TRACKING_TOKEN": server.token}):
        experiment = client.create_experiment("managed-deploy")
        run = client.create_run(experiment)
        client.log_artifacts(run.info.run_id, str(model_dir), "model")
        client.create_registered_model("managed-iris")
        version = client.create_model_version(
            "managed-iris", f"{run.info.artifact_uri}/model", run.info.run_id
        )
    body = {"name": "local-copy", "model": "managed-iris", "version": version.version}
    job = server.request("POST", "/mlflow-groups/api/groups/default/deployments", body)["job"]
    path = f"/mlflow-groups/api/jobs/{job['id']}"
    job = await until(
        lambda: (j := server.request("GET", path))["state"] in ("done", "failed") and j, timeout=240
    )
    assert job["state"] == "done", job["error"]
    artifacts = Path(status["managed"]["root"]) / "artifacts"
    assert job["source"].startswith(f"the directory {artifacts}")  # no HTTP for the copy
