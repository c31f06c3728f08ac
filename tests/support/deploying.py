"""Versions with real artifacts in a real MLflow server, and following deployment jobs.

A version's files are written where the proxied tracking server keeps artifacts
(`<artifacts destination>/<experiment>/<run>/artifacts/model`): exactly what `mlflow-artifacts:`
URIs point at, so the copy job really downloads them over MLflow's artifact API.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import http.client
import json
import shutil
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from .jupyter import JupyterClient, JupyterServerProcess
from .rest import fetch_json
from .servers import MlflowServer

API = ("mlflow-groups", "api")
TEAM_DEPLOYMENTS = "/mlflow-groups/api/groups/team/deployments"


def sha256_tree(root: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under root."""
    digests = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digests[path.relative_to(root).as_posix()] = hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
    return digests


def local_experiment(server: MlflowServer, directory: Path) -> str:
    """An experiment whose runs keep artifacts in a local directory (`file://` URIs)."""
    body = {"name": f"local-{directory}", "artifact_location": directory.as_uri()}
    return server.request("POST", "/api/2.0/mlflow/experiments/create", body)["experiment_id"]


def register_version(
    server: MlflowServer,
    name: str,
    model_dir: Path,
    extra: dict[str, bytes] | None = None,
    experiment: str = "0",
) -> tuple[str, Path]:
    """A new version of `name` whose artifacts are `model_dir` plus `extra` files; returns the
    version and the directory its artifacts really are in (the run's artifact location)."""
    run = server.request("POST", "/api/2.0/mlflow/runs/create", {"experiment_id": experiment})[
        "run"
    ]["info"]
    artifact_uri = run["artifact_uri"]
    if artifact_uri.startswith("mlflow-artifacts:"):
        source_dir = server.root / "artifacts" / artifact_uri.split(":", 1)[1].lstrip("/") / "model"
    else:
        source_dir = Path(artifact_uri.removeprefix("file://")) / "model"
    shutil.copytree(model_dir, source_dir, symlinks=True)
    for relative, content in (extra or {}).items():
        target = source_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    with contextlib.suppress(Exception):  # already registered: add a version
        server.request("POST", "/api/2.0/mlflow/registered-models/create", {"name": name})
    version = server.request(
        "POST",
        "/api/2.0/mlflow/model-versions/create",
        {"name": name, "source": f"{artifact_uri}/model", "run_id": run["run_id"]},
    )["model_version"]["version"]
    return str(version), source_dir


async def deploy(jp_fetch: Any, group: str, name: str, model: str, version: str) -> tuple[int, Any]:
    body = {"name": name, "model": model, "version": version}
    return await fetch_json(
        jp_fetch, *API, "groups", group, "deployments", method="POST", body=body
    )


async def follow(
    jp_fetch: Any, job_id: str, interval: float = 0.02, timeout: float = 300
) -> list[dict]:
    """Every state of a job seen by polling its REST resource, until it finishes."""
    seen: list[dict] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        status, job = await fetch_json(jp_fetch, *API, "jobs", job_id)
        assert status == 200, job
        seen.append(job)
        if job["state"] in ("done", "failed", "cancelled"):
            return seen
        await asyncio.sleep(interval)
    raise TimeoutError(f"job {job_id} still {seen[-1]['state']} after {timeout} s")


def invocations(
    jupyter: JupyterClient,
    endpoint: str,
    rows: list[list[float]],
    columns: list[str] | None = None,
) -> list:
    """Predictions of a local deployment, called as a member does: at its `endpoint` (a path
    on the Jupyter server), with the server's token."""
    import requests

    frame = {"columns": columns or [f"f{i}" for i in range(len(rows[0]))], "data": rows}
    response = requests.post(
        urljoin(jupyter.url, f"{endpoint}invocations"),
        json={"dataframe_split": frame},
        headers={"Authorization": f"token {jupyter.token}"},
        timeout=30,
    )
    response.raise_for_status()
    return json.loads(response.text)["predictions"]


async def predictions(
    jupyter: JupyterClient,
    endpoint: str,
    rows: list[list[float]],
    columns: list[str] | None = None,
) -> list:
    """`invocations` from a test whose Jupyter server runs on its own event loop (pytest-jupyter):
    the blocking call goes to a thread, so the server can answer it."""
    return await asyncio.to_thread(invocations, jupyter, endpoint, rows, columns)


def team_server(tracking_uri: str, tmp_path: Path) -> JupyterServerProcess:
    """A real Jupyter server process (not started) whose one group, `team`, is bound to
    `tracking_uri`."""
    bindings = tmp_path / "bindings.json"
    bindings.write_text(json.dumps({"groups": {"team": {"tracking_uri": tracking_uri}}}))
    return JupyterServerProcess(
        tmp_path / "home", env={"JUPYTER_MLFLOW_GROUPS_FILE": str(bindings)}
    )


async def finished(server: JupyterClient, job: dict) -> dict:
    """The job (as a POST or GET returned it) once it has ended, polled on `server`."""
    while job["state"] not in ("done", "failed", "cancelled"):
        await asyncio.sleep(0.1)
        job = server.request("GET", f"/mlflow-groups/api/jobs/{job['id']}")
    return job


async def until_serving(
    server: JupyterClient, name: str, deployments: str = TEAM_DEPLOYMENTS
) -> dict:
    """The deployment `name` (of team, by default) once it serves, after a deployment or a
    start of `server`: `starting` until then, never `stopped` nor `failed`."""
    for _ in range(600):
        deployment = server.request("GET", f"{deployments}/{name}")
        if deployment["status"] == "serving":
            return deployment
        assert deployment["status"] == "starting", deployment
        await asyncio.sleep(0.1)
    raise TimeoutError(f"deployment {name} not serving after 60 s: {deployment}")


def model_server_pid(directory: Path) -> int:
    """The process (group) of the model server serving the deployment in `directory`."""
    return json.loads((directory / "serve.pid").read_text())["pid"]


def ping_on_socket(directory: Path) -> int:
    """The status of /ping asked of the deployment's model server itself, on its unix socket
    (what only this account can do; everyone else goes through Jupyter)."""
    path = json.loads((directory / "serve.pid").read_text())["socket"]
    connection = http.client.HTTPConnection("localhost")
    connection.sock = socket.socket(socket.AF_UNIX)
    connection.sock.connect(path)
    try:
        connection.request("GET", "/ping")
        return connection.getresponse().status
    finally:
        connection.close()
