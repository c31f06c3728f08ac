"""Deployments that follow an alias, on a real MLflow server and a real Jupyter server: the
alias is moved by a plain `MlflowClient` call (as anyone would, anywhere), and the deployment
serves the new version by itself; a follow that fails leaves the previous version serving."""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid

from mlflow import MlflowClient
from support.deploying import (
    TEAM_DEPLOYMENTS,
    finished,
    invocations,
    register_version,
    team_server,
)

INTERVAL = 0.5  # follow_interval of the test's server (30 s by default)


def follower_server(tracking_uri, tmp_path):
    server = team_server(tracking_uri, tmp_path)
    server.args = [f"--MlflowGroupsApp.follow_interval={INTERVAL}"]
    return server.start()


async def deploy_following(server, name: str, model: str) -> None:
    """Deploy `model`'s @champion to `name`, following it; wait until it serves."""
    body = {"name": name, "model": model, "version": "@champion", "follow": True}
    job = await finished(server, server.request("POST", TEAM_DEPLOYMENTS, body)["job"])
    assert job["state"] == "done" and job["follow"] is True, job


async def until(predicate, timeout: float = 180.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError("not reached in time")


async def test_a_deployment_follows_its_alias_moved_by_a_plain_mlflow_client(
    deploy_server, sklearn_model, tmp_path
):
    model_dir, rows, expected = sklearn_model
    model = f"followed-{uuid.uuid4().hex[:6]}"
    first, _ = register_version(deploy_server, model, model_dir)
    second, _ = register_version(deploy_server, model, model_dir)
    mlflow = MlflowClient(tracking_uri=deploy_server.url)
    mlflow.set_registered_model_alias(model, "champion", first)
    server = follower_server(deploy_server.url, tmp_path)
    try:
        await deploy_following(server, "champ", model)
        deployment = server.request("GET", f"{TEAM_DEPLOYMENTS}/champ")
        assert (deployment["version"], deployment["follow"]) == (first, True)

        moved_at = time.monotonic()
        mlflow.set_registered_model_alias(model, "champion", second)

        def serving_second():
            found = server.request("GET", f"{TEAM_DEPLOYMENTS}/champ")
            return found if found["version"] == second and found["status"] == "serving" else None

        deployment = await until(serving_second)
        print(f"alias move to serving the new version: {time.monotonic() - moved_at:.1f} s")
        latest = deployment["history"][0]
        assert latest["note"] == f"followed @champion from v{first} to v{second}"
        assert (latest["from_version"], latest["to_version"]) == (first, second)
        assert deployment["follow"] is True and deployment["message"] is None
        assert invocations(server, deployment["endpoint"], rows) == expected

        # deploying a version by hand ends following
        body = {"name": "champ", "model": model, "version": first}
        job = await finished(server, server.request("POST", TEAM_DEPLOYMENTS, body)["job"])
        assert job["state"] == "done", job
        assert server.request("GET", f"{TEAM_DEPLOYMENTS}/champ")["follow"] is False
        mlflow.set_registered_model_alias(model, "champion", first)
        mlflow.set_registered_model_alias(model, "champion", second)
        await asyncio.sleep(INTERVAL * 6)
        assert server.request("GET", f"{TEAM_DEPLOYMENTS}/champ")["version"] == first
    finally:
        server.stop()


async def test_a_follow_that_fails_leaves_the_previous_version_serving_and_says_why(
    deploy_server, sklearn_model, tmp_path
):
    model_dir, rows, expected = sklearn_model
    model = f"broken-follow-{uuid.uuid4().hex[:6]}"
    good, _ = register_version(deploy_server, model, model_dir)
    broken, broken_dir = register_version(deploy_server, model, model_dir)
    shutil.rmtree(broken_dir)  # its files are gone: no copy of it can be made
    mlflow = MlflowClient(tracking_uri=deploy_server.url)
    mlflow.set_registered_model_alias(model, "champion", good)
    server = follower_server(deploy_server.url, tmp_path)
    try:
        await deploy_following(server, "steady", model)
        mlflow.set_registered_model_alias(model, "champion", broken)

        def explained():
            found = server.request("GET", f"{TEAM_DEPLOYMENTS}/steady")
            return found if found["message"] and found["job"] is None else None

        deployment = await until(explained)
        assert deployment["message"].startswith(f"Could not follow @champion to v{broken}: ")
        assert f"v{good} serves on" in deployment["message"]
        assert (deployment["version"], deployment["status"]) == (good, "serving")
        assert invocations(server, deployment["endpoint"], rows) == expected
        await asyncio.sleep(INTERVAL * 6)  # several checks later: not tried again
        tries = server.log().count(f"follows @champion of {model} from v{good} to v{broken}")
        assert tries == 1
    finally:
        server.stop()


async def test_the_deploy_magic_and_panel_set_up_following(deploy_server, sklearn_model, tmp_path):
    model_dir, _, _ = sklearn_model
    model = f"magic-follow-{uuid.uuid4().hex[:6]}"
    version, _ = register_version(deploy_server, model, model_dir)
    MlflowClient(tracking_uri=deploy_server.url).set_registered_model_alias(model, "prod", version)
    server = follower_server(deploy_server.url, tmp_path)
    try:
        kernel = server.start_kernel()
        await server.execute(kernel, f"%mlflow_group deploy {model} @prod --to magic-prod --follow")
        said = await server.execute(
            kernel,
            "from jupyter_mlflow_groups.kernel.widgets import DeployPanel\n"
            "import gc\n"
            "panels = [o for o in gc.get_objects() if isinstance(o, DeployPanel)]\n"
            "assert len(panels) == 1 and panels[0].follow.value\n"
            "assert panels[0].finished.wait(120)\n"
            "print(panels[0].progress.value)",
        )
        assert said.strip().endswith("It follows @prod from now on."), said
        deployment = server.request("GET", f"{TEAM_DEPLOYMENTS}/magic-prod")
        assert (deployment["follow"], deployment["requested"]) == (True, "@prod")
        listed = await server.execute(
            kernel,
            "df = %mlflow_group deployments\nprint(df.loc[0, 'follows'])",
        )
        assert listed.strip() == "@prod"
    finally:
        server.stop()


async def test_following_needs_an_alias(deploy_server, tmp_path):
    server = follower_server(deploy_server.url, tmp_path)
    try:
        body = {"name": "pinned", "model": "any", "version": "3", "follow": True}
        status, answer = server.answer("POST", TEAM_DEPLOYMENTS, body)
        assert status == 400 and "follows an alias, not version 3" in answer["error"]["message"]
        body = {"name": "pinned", "model": "any", "version": "@champion", "follow": "yes"}
        status, answer = server.answer("POST", TEAM_DEPLOYMENTS, body)
        assert status == 400 and "'follow' must be true or false." in answer["error"]["message"]
    finally:
        server.stop()


def test_a_records_file_of_an_earlier_version_gains_the_new_columns(tmp_path):
    """Files written before following existed open, read as not following, and take notes."""
    import sqlite3

    from jupyter_mlflow_groups.deploy.records import DeploymentRecord, DeploymentStore

    path = tmp_path / "deployments.sqlite"
    with sqlite3.connect(path) as connection:
        connection.executescript(
            "create table deployments (name text primary key, model text not null, version text"
            " not null, requested text not null, status text not null, release text, target"
            " text not null, updated_at text not null, updated_by text not null, message text);"
            "create table history (id integer primary key autoincrement, name text not null,"
            " at text not null, by text not null, model text not null, from_version text,"
            " to_version text not null, job text not null);"
            "insert into deployments values ('old', 'm', '1', '@champion', 'serving', null,"
            " 'local', '2026-11-01T00:00:00Z', 'alice', null);"
        )
    store = DeploymentStore(path)
    assert store.get("old").follow is False
    record = DeploymentRecord(
        name="old", model="m", version="2", requested="@champion", status="serving",
        target="local", updated_at="2026-12-01T00:00:00Z", updated_by="alice", follow=True,
    )  # fmt: skip
    switched = store.switch(record, job="j1", from_version="1", note="followed @champion")
    assert switched.follow is True and switched.history[0]["note"] == "followed @champion"
    assert DeploymentStore(path).get("old").follow is True  # opening it again changes nothing
