"""Faults, each produced for real: an MLflow that answers garbage, wrong credentials, a closed
port, an MLflow that never answers, a full disk during a copy, the Jupyter server killed during
a copy. For each: the error the user sees, and that nothing is lost.

Covered elsewhere (not repeated here): status against a closed port, a silent server and wrong
credentials, and other requests served while MLflow hangs (test_status.py); cancel, a killed copy
process and staging left by dead jobs (test_deploy.py); a killed managed MLflow that comes back
with its data on the same URL (test_managed.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.deploying import (
    API,
    TEAM_DEPLOYMENTS,
    deploy,
    finished,
    follow,
    invocations,
    model_server_pid,
    predictions,
    register_version,
    sha256_tree,
    team_server,
    until_serving,
)
from support.extension import service_of
from support.jupyter import JupyterServerProcess
from support.managed import STATUS, running, until
from support.processes import stopped
from support.rest import fetch_json
from support.servers import ADMIN_USER, GarbageServer, ThrottledProxy

MB = 1024 * 1024
WRONG_PASSWORD = "wrong-password-faults-5c1a"
NOT_MLFLOW = "not MLflow's API"
BROWSE = {
    "models": ("models",),
    "model": ("models", "m"),
    "version": ("models", "m", "versions", "1"),
    "metric history": ("runs", "r0", "metrics", "loss"),
}
#: What the user sees for each kind of garbage: (error code, words of the message).
GARBAGE = {
    "html": ("mlflow_error", NOT_MLFLOW),
    "truncated": ("mlflow_error", NOT_MLFLOW),
    "wrong_shape": ("mlflow_error", NOT_MLFLOW),
    "not_http": ("unreachable", "without an HTTP answer"),
    "html_500": ("mlflow_error", "answered 500"),
}
#: The copy process reads HTTP itself and tells bytes that are not HTTP from a closed connection.
DEPLOY_GARBAGE = {
    **GARBAGE,
    "not_http": ("mlflow_error", "something that is not HTTP, " + NOT_MLFLOW),
}


@pytest.fixture
def extension_config() -> dict:
    return {"request_timeout": 5.0}  # a loaded machine checks basic-auth passwords slowly


@pytest.fixture
def garbage() -> Iterator[GarbageServer]:
    server = GarbageServer()
    yield server
    server.close()


def wrong_password(auth_url: str) -> dict:
    return {
        "tracking_uri": auth_url,
        "tracking_env": {
            "MLFLOW_TRACKING_USERNAME": ADMIN_USER,
            "MLFLOW_TRACKING_PASSWORD": WRONG_PASSWORD,
        },
    }


# -- an MLflow that answers garbage -------------------------------------------------------------


@pytest.mark.parametrize("mode", GarbageServer.MODES)
async def test_an_mlflow_answering_garbage_gets_a_specific_error(mode, garbage, bindings, jp_fetch):
    garbage.mode = mode
    bindings.write({"groups": {"g": {"tracking_uri": garbage.url}}})
    code, words = GARBAGE[mode]

    status, report = await fetch_json(jp_fetch, *API, "groups", "g", "status")
    assert status == 200, report
    assert (report["ok"], report["code"]) == (False, code)
    assert words in report["message"]
    for what, path in BROWSE.items():
        status, body = await fetch_json(jp_fetch, *API, "groups", "g", *path)
        assert status == 502, (what, body)
        error = body["error"]
        assert (error["code"], words in error["message"]) == (code, True), (what, error)
        assert error["hint"]


# -- wrong credentials, a closed port, a silent MLflow: browsing --------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "code", "words"),
    [
        ("wrong_password", 502, "unauthorized", "refused the credentials (401)"),
        ("closed_port", 502, "unreachable", "connection refused"),
        ("silent", 504, "timeout", "did not answer within 5 s"),
    ],
)
async def test_browsing_a_failing_mlflow_says_why(
    fault, status, code, words, mlflow_servers, silent_server, closed_url, bindings, jp_fetch
):
    binding = {
        "wrong_password": wrong_password(mlflow_servers.auth.url),
        "closed_port": {"tracking_uri": closed_url},
        "silent": {"tracking_uri": silent_server.url},
    }[fault]
    bindings.write({"groups": {"g": binding}})
    calls = [fetch_json(jp_fetch, *API, "groups", "g", *path) for path in BROWSE.values()]
    for what, (answered, body) in zip(BROWSE, await asyncio.gather(*calls), strict=True):
        assert (answered, body["error"]["code"]) == (status, code), (what, body)
        assert words in body["error"]["message"], (what, body)
        assert WRONG_PASSWORD not in json.dumps(body)


# -- the same faults on the deploy path --------------------------------------------------------


async def test_failed_deploys_leave_the_previous_deployment_serving(
    deploy_server,
    mlflow_servers,
    silent_server,
    closed_url,
    sklearn_model,
    bindings,
    jp_fetch,
    jp_serverapp,
    jp_client,
):
    model_dir, rows, expected = sklearn_model
    version, _ = register_version(deploy_server, "faulty", model_dir)
    bindings.write({"groups": {"g": {"tracking_uri": deploy_server.url}}})
    _, body = await deploy(jp_fetch, "g", "steady", "faulty", version)
    serving = (await follow(jp_fetch, body["job"]["id"]))[-1]
    assert serving["state"] == "done", serving["error"]
    service = service_of(jp_serverapp)
    directory = service.deploy_root(service.binding("g")) / "steady"
    files_before = sha256_tree(directory / "current")

    garbage = GarbageServer()
    faults = {
        "wrong_password": (wrong_password(mlflow_servers.auth.url), "unauthorized", "401"),
        "closed_port": ({"tracking_uri": closed_url}, "unreachable", "Connection refused"),
        **{
            f"garbage {mode}": ({"tracking_uri": garbage.url}, *DEPLOY_GARBAGE[mode])
            for mode in GarbageServer.MODES
        },
    }
    try:
        for fault, (binding, code, words) in faults.items():
            garbage.mode = fault.removeprefix("garbage ")
            bindings.write({"groups": {"g": binding}})
            _, body = await deploy(jp_fetch, "g", "steady", "faulty", version)
            job = (await follow(jp_fetch, body["job"]["id"]))[-1]
            assert (job["state"], job["error"]["code"]) == ("failed", code), (fault, job)
            assert words in job["error"]["message"], (fault, job)
            assert WRONG_PASSWORD not in json.dumps(job)
    finally:
        garbage.close()

    # an MLflow that never answers: the job waits (until the copy timeout) and can be cancelled
    bindings.write({"groups": {"g": {"tracking_uri": silent_server.url}}})
    _, body = await deploy(jp_fetch, "g", "steady", "faulty", version)
    assert (await fetch_json(jp_fetch, *API, "jobs", body["job"]["id"]))[1]["state"] in (
        "queued",
        "planning",
    )
    await asyncio.sleep(0.5)  # the copy process is up and waiting on the silent server
    await fetch_json(jp_fetch, *API, "jobs", body["job"]["id"], method="DELETE")
    # cancelled while MLflow still hangs: well before the copy's 60 s socket timeout
    assert (await follow(jp_fetch, body["job"]["id"], timeout=20))[-1]["state"] == "cancelled"

    assert sha256_tree(directory / "current") == files_before
    assert not any((directory / "staging").glob("*"))
    _, record = await fetch_json(jp_fetch, *API, "groups", "g", "deployments", "steady")
    assert (record["version"], record["status"]) == (version, "serving")
    assert len(record["history"]) == 1
    assert await predictions(jp_client, serving["endpoint"], rows) == expected


async def test_the_copy_worker_times_out_on_a_silent_mlflow(silent_server, tmp_path):
    """The copy process itself (what a job runs): bounded by the spec's timeout."""
    spec = {"model": "m", "requested": "1", "staging": str(tmp_path / "staging"), "timeout": 1}
    result = subprocess.run(
        [sys.executable, "-m", "jupyter_mlflow_groups.deploy.worker"],
        input=json.dumps(spec).encode(),
        capture_output=True,
        env={**os.environ, "MLFLOW_TRACKING_URI": silent_server.url},
        timeout=60,
    )
    event = json.loads(result.stdout.splitlines()[-1])
    assert (result.returncode, event["event"], event["code"]) == (2, "error", "timeout")
    assert "did not answer" in event["message"] and "within 1 s" in event["message"]


async def test_a_copy_worker_whose_server_died_stops_by_itself(
    deploy_server, sklearn_model, tmp_path
):
    """The Jupyter server is gone (nobody reads the worker's events): the copy stops instead of
    filling the disk as an orphan."""
    model_dir, _, _ = sklearn_model
    version, _ = register_version(
        deploy_server, "orphaned", model_dir, {"weights.bin": os.urandom(MB) * 100}
    )
    proxy = ThrottledProxy(int(deploy_server.url.rsplit(":", 1)[1]), bytes_per_second=10 * MB)
    staging = tmp_path / "staging"
    spec = {"model": "orphaned", "requested": version, "staging": str(staging), "threads": 2}
    worker = subprocess.Popen(
        [sys.executable, "-m", "jupyter_mlflow_groups.deploy.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "MLFLOW_TRACKING_URI": proxy.url},
    )
    try:
        assert worker.stdin is not None and worker.stdout is not None
        worker.stdin.write(json.dumps(spec).encode())
        worker.stdin.close()
        while json.loads(worker.stdout.readline()).get("bytes", 0) < 5 * MB:
            pass
        worker.stdout.close()  # what the server's death does to the pipe
        assert worker.wait(timeout=30) == 3  # stopped, not failed, and not running on
        copied = sum(path.stat().st_size for path in staging.rglob("*") if path.is_file())
        assert copied < 100 * MB
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        proxy.close()


# -- a full disk during a copy -----------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 40 MiB filesystem of its own (tmpfs), unmounted afterwards whatever happened."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


async def test_a_full_disk_fails_the_copy_and_keeps_the_previous_deployment(
    small_disk, deploy_server, sklearn_model, bindings, jp_fetch, jp_client
):
    model_dir, rows, expected = sklearn_model
    small, _ = register_version(deploy_server, "roomy", model_dir)
    big, _ = register_version(deploy_server, "roomy", model_dir, {"w.bin": os.urandom(MB) * 60})
    bindings.write(
        {"groups": {"g": {"tracking_uri": deploy_server.url, "deploy": {"root": str(small_disk)}}}}
    )
    _, body = await deploy(jp_fetch, "g", "tight", "roomy", small)
    serving = (await follow(jp_fetch, body["job"]["id"]))[-1]
    assert serving["state"] == "done", serving["error"]
    directory = small_disk / "tight"
    files_before = sha256_tree(directory / "current")
    free_before = shutil.disk_usage(small_disk).free

    _, body = await deploy(jp_fetch, "g", "tight", "roomy", big)
    job = (await follow(jp_fetch, body["job"]["id"]))[-1]
    assert (job["state"], job["error"]["code"]) == ("failed", "disk_full"), job
    assert "Free space" in job["error"]["hint"]
    assert "the disk holding the deployments is full" in job["error"]["message"]
    assert "Traceback" not in job["error"]["message"]
    assert sha256_tree(directory / "current") == files_before
    assert not any((directory / "staging").glob("*"))
    assert shutil.disk_usage(small_disk).free >= free_before - MB  # the space came back
    _, record = await fetch_json(jp_fetch, *API, "groups", "g", "deployments", "tight")
    assert (record["version"], record["status"]) == (small, "serving")
    assert await predictions(jp_client, serving["endpoint"], rows) == expected

    _, body = await deploy(jp_fetch, "g", "tight", "roomy", small)
    again = (await follow(jp_fetch, body["job"]["id"]))[-1]
    assert again["state"] == "done", again["error"]


# -- the Jupyter server killed during a copy ---------------------------------------------------


async def test_jupyter_killed_during_a_copy_keeps_the_previous_deployment(
    deploy_server, sklearn_model, tmp_path
):
    """SIGKILL to everything the Jupyter server ran (as when its container or cgroup is
    killed); started again on the same directories."""
    model_dir, rows, expected = sklearn_model
    first, _ = register_version(deploy_server, "survives", model_dir)
    second, _ = register_version(
        deploy_server, "survives", model_dir, {"weights.bin": os.urandom(MB) * 100}
    )
    proxy = ThrottledProxy(int(deploy_server.url.rsplit(":", 1)[1]), bytes_per_second=20 * MB)
    server = team_server(proxy.url, tmp_path)
    deployments = TEAM_DEPLOYMENTS

    try:
        server.start()
        body = {"name": "prod", "model": "survives", "version": first}
        serving = await finished(server, server.request("POST", deployments, body)["job"])
        assert serving["state"] == "done", serving["error"]
        directory = Path(server.request("GET", f"{deployments}/prod")["path"]).parent.parent
        files_before = sha256_tree(directory / "current")

        body = {"name": "prod", "model": "survives", "version": second}
        job = server.request("POST", deployments, body)["job"]
        while job["bytes_done"] < 10 * MB:
            await asyncio.sleep(0.05)
            job = server.request("GET", f"/mlflow-groups/api/jobs/{job['id']}")
            assert job["state"] in ("queued", "planning", "copying"), job
        assert server.process is not None
        model_server = model_server_pid(directory)
        os.killpg(server.process.pid, signal.SIGKILL)  # Jupyter and its copy process
        os.killpg(model_server, signal.SIGKILL)  # and the model server it started
        server.process.wait()
        assert stopped(model_server)
        assert any((directory / "staging").glob("*"))  # the copy was interrupted halfway
        assert sha256_tree(directory / "current") == files_before

        server.start()
        record = await until_serving(server, "prod")
        assert (record["version"], record["job"]) == (first, None)  # not stuck "deploying"
        assert not any((directory / "staging").glob("*"))
        assert sha256_tree(directory / "current") == files_before
        assert invocations(server, serving["endpoint"], rows) == expected
        with pytest.raises(Exception, match="404"):  # the interrupted job died with its server
            server.request("GET", f"/mlflow-groups/api/jobs/{job['id']}")

        job = await finished(server, server.request("POST", deployments, body)["job"])
        assert job["state"] == "done", job["error"]
        assert server.request("GET", f"{deployments}/prod")["version"] == second
    finally:
        server.stop()
        proxy.close()


# -- a managed MLflow that crashes -------------------------------------------------------------


async def test_while_a_crashed_managed_mlflow_restarts_users_are_told_and_kernels_keep_it(tmp_path):
    """What the user sees in the restart window, and a kernel started before the crash still
    reaches MLflow afterwards (its data coming back is test_managed.py's)."""
    server = JupyterServerProcess(tmp_path / "home", env={"JUPYTER_MLFLOW_GROUPS_FILE": ""})
    try:
        server.start()
        before = await until(lambda: running(server))
        kernel = server.start_kernel()
        os.killpg(before["managed"]["pid"], signal.SIGKILL)

        states: list[str] = []

        def seen(status: dict) -> dict:
            states.append(status["managed"]["state"])
            return status

        status = await until(lambda: restarting(seen(server.request("GET", STATUS))), interval=0.05)
        assert (status["ok"], status["code"]) in ((False, "starting"), (False, "unreachable"))
        assert "the MLflow server exited with code -9" in status["message"], status
        assert "server.log" in status["hint"]
        with pytest.raises(urllib.error.HTTPError) as refused:
            server.request("GET", "/mlflow-groups/api/groups/default/models")
        error = json.loads(refused.value.read())["error"]
        assert (refused.value.code, error["code"]) == (502, "unreachable"), error

        await until(
            lambda: seen(server.request("GET", STATUS))["managed"]["state"] == "running",
            interval=0.05,
        )
        assert "stopped" not in states, states  # it restarts: never shown as stopped
        await until(lambda: running(server))
        code = (  # what MLflow's client does with the kernel's variables
            "import os, urllib.request\n"
            "url = os.environ['MLFLOW_TRACKING_URI']\n"
            "token = os.environ['MLFLOW_TRACKING_TOKEN']\n"
            "request = urllib.request.Request(url + '/api/2.0/mlflow/experiments/search"
            "?max_results=1', headers={'Authorization': 'Bearer ' + token})\n"
            "print(url, urllib.request.urlopen(request, timeout=10).status)"
        )
        proxied = f"{server.url}/mlflow-groups/groups/default/mlflow"
        assert (await server.execute(kernel, code)).split() == [proxied, "200"]
    finally:
        server.stop()


def restarting(status: dict) -> dict | None:
    """The status while the supervisor brings the server back ("restarting", then "starting")."""
    return status if status["managed"]["state"] in ("restarting", "starting") else None
