"""Kernels started through the REST API carry the active group's binding, and nothing else."""

from __future__ import annotations

import logging

import pytest
from support.kernels import kernel_env, restart_kernel, start_kernel, start_session
from support.rest import fetch_json

SECRET_PASSWORD = "pw-9f3c=with spaces 'and' \"quotes\" ünï"
SECRET_TOKEN = "tok-51aa-never-shown"
SECRET_AWS = "aws-secret-77e0-never-shown"


@pytest.fixture
def two_groups(bindings, monkeypatch):
    monkeypatch.setenv("TEST_TEAM_A_PASSWORD", SECRET_PASSWORD)
    bindings.write(
        {
            "default_group": "team-a",
            "groups": {
                "team-a": {
                    "tracking_uri": "http://mlflow-a.invalid:5000",
                    "registry_uri": "http://registry-a.invalid:5000",
                    "workspace": "team-a",
                    "tracking_env": {
                        "MLFLOW_TRACKING_USERNAME": "svc-a",
                        "MLFLOW_TRACKING_PASSWORD": "${env:TEST_TEAM_A_PASSWORD}",
                        "MLFLOW_TRACKING_TOKEN": SECRET_TOKEN,
                    },
                    "artifact_env": {
                        "AWS_ACCESS_KEY_ID": "key-a",
                        "AWS_SECRET_ACCESS_KEY": SECRET_AWS,
                        "MLFLOW_S3_ENDPOINT_URL": "http://s3-a.invalid:9000",
                        "TEAM_A_ONLY": "only-in-a",
                    },
                    "members": ["alice"],
                },
                "team-b": {"tracking_uri": "http://mlflow-b.invalid:5000", "members": ["alice"]},
                "team-c": {"tracking_uri": "http://mlflow-c.invalid:5000", "members": ["bob"]},
            },
        }
    )


async def test_kernels_from_api_kernels_and_api_sessions_get_the_binding(
    two_groups, jp_fetch, jp_serverapp
):
    for start in (start_kernel, start_session):
        env = await kernel_env(jp_serverapp, await start(jp_fetch))
        assert env["JUPYTER_MLFLOW_GROUP"] == "team-a"
        assert env["MLFLOW_TRACKING_URI"] == "http://mlflow-a.invalid:5000"
        assert env["MLFLOW_REGISTRY_URI"] == "http://registry-a.invalid:5000"
        assert env["MLFLOW_WORKSPACE"] == "team-a"
        assert env["MLFLOW_TRACKING_USERNAME"] == "svc-a"
        assert env["MLFLOW_TRACKING_PASSWORD"] == SECRET_PASSWORD
        assert env["MLFLOW_TRACKING_TOKEN"] == SECRET_TOKEN
        assert env["AWS_SECRET_ACCESS_KEY"] == SECRET_AWS
        assert env["MLFLOW_S3_ENDPOINT_URL"] == "http://s3-a.invalid:9000"


async def test_a_switch_takes_effect_at_restart_and_removes_the_old_group(
    two_groups, jp_fetch, jp_serverapp
):
    kernel = await start_kernel(jp_fetch)
    assert (await kernel_env(jp_serverapp, kernel))["TEAM_A_ONLY"] == "only-in-a"

    status, body = await fetch_json(
        jp_fetch, "mlflow-groups", "api", "active", method="PUT", body={"group": "team-b"}
    )
    assert status == 200 and body["active"] == "team-b"
    assert "Running kernels keep their group until they are restarted" in body["message"]
    assert (await kernel_env(jp_serverapp, kernel))["JUPYTER_MLFLOW_GROUP"] == "team-a"

    await restart_kernel(jp_fetch, kernel)
    env = await kernel_env(jp_serverapp, kernel)
    assert env["JUPYTER_MLFLOW_GROUP"] == "team-b"
    assert env["MLFLOW_TRACKING_URI"] == "http://mlflow-b.invalid:5000"
    for leftover in (
        "MLFLOW_REGISTRY_URI",
        "MLFLOW_WORKSPACE",
        "MLFLOW_TRACKING_USERNAME",
        "MLFLOW_TRACKING_PASSWORD",
        "MLFLOW_TRACKING_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "MLFLOW_S3_ENDPOINT_URL",
        "TEAM_A_ONLY",
    ):
        assert leftover not in env

    new_kernel_env = await kernel_env(jp_serverapp, await start_kernel(jp_fetch))
    assert new_kernel_env["JUPYTER_MLFLOW_GROUP"] == "team-b"


async def test_the_server_s_own_mlflow_variables_and_run_state_never_leak(
    two_groups, jp_fetch, jp_serverapp, monkeypatch
):
    for name, value in {
        "MLFLOW_TRACKING_URI": "http://server-own.invalid",
        "MLFLOW_TRACKING_TOKEN": "server-own-token",
        "AWS_SESSION_TOKEN": "server-own-session",
        "MLFLOW_RUN_ID": "stale-run",
        "MLFLOW_EXPERIMENT_ID": "17",
        "MLFLOW_EXPERIMENT_NAME": "stale",
        "JUPYTER_MLFLOW_GROUP": "forged",
    }.items():
        monkeypatch.setenv(name, value)
    await fetch_json(
        jp_fetch, "mlflow-groups", "api", "active", method="PUT", body={"group": "team-b"}
    )
    env = await kernel_env(jp_serverapp, await start_kernel(jp_fetch))
    assert env["MLFLOW_TRACKING_URI"] == "http://mlflow-b.invalid:5000"
    assert env["JUPYTER_MLFLOW_GROUP"] == "team-b"
    for name in (
        "MLFLOW_TRACKING_TOKEN",
        "AWS_SESSION_TOKEN",
        "MLFLOW_RUN_ID",
        "MLFLOW_EXPERIMENT_ID",
        "MLFLOW_EXPERIMENT_NAME",
    ):
        assert name not in env
    assert env["PATH"]  # everything else of the server's environment is kept


async def test_an_edited_bindings_file_reaches_the_next_kernel(
    two_groups, bindings, jp_fetch, jp_serverapp
):
    bindings.write(
        {"groups": {"team-a": {"tracking_uri": "http://edited.invalid", "members": ["alice"]}}}
    )
    env = await kernel_env(jp_serverapp, await start_kernel(jp_fetch))
    assert env["MLFLOW_TRACKING_URI"] == "http://edited.invalid"
    assert "MLFLOW_TRACKING_PASSWORD" not in env


async def test_a_misconfigured_group_s_kernel_starts_without_mlflow_settings(
    bindings, jp_fetch, jp_serverapp, caplog
):
    bindings.write({"groups": {"broken": {"tracking_uri": "ftp://nowhere", "members": ["alice"]}}})
    with caplog.at_level(logging.WARNING):
        env = await kernel_env(jp_serverapp, await start_kernel(jp_fetch))
    assert env["JUPYTER_MLFLOW_GROUP"] == "broken"
    assert "MLFLOW_TRACKING_URI" not in env
    assert "no MLflow settings for a kernel" in caplog.text


async def test_kernelspecs_and_kernel_models_carry_no_secret(two_groups, jp_fetch, jp_serverapp):
    await start_kernel(jp_fetch)
    await start_session(jp_fetch)
    for parts in (("api", "kernelspecs"), ("api", "kernels"), ("api", "sessions")):
        body = (await jp_fetch(*parts)).body.decode()
        for secret in (SECRET_PASSWORD, SECRET_TOKEN, SECRET_AWS, "svc-a", "key-a"):
            assert secret not in body, parts
