"""The group boundary on a shared host, checked as the operating system sees it.

One real `jupyter server` process whose environment holds what a shared server's does: two
groups' secrets (by `${env:...}`), a secret file, Jupyter's own token (JUPYTER_TOKEN) and an
unrelated setting. Its owner is in team-a (external, with credentials) and team-m (managed);
team-b belongs to someone else. Every process the extension starts is read from
/proc/<pid>/environ, and a second Unix account on the host tries the group's servers directly.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from support.deploying import finished, model_server_pid, register_version
from support.jupyter import JupyterClient, JupyterServerProcess
from support.processes import environ, listening_tcp_ports, process_group
from support.servers import ThrottledProxy

OTHER_ACCOUNT = "mlflowgroups-other"  # made by these tests: a user of the same host
MB = 1000 * 1000
API = "/mlflow-groups/api"
SECRETS = {
    "TEAM_A_PASSWORD": "team-a-password-3141",
    "TEAM_B_PASSWORD": "team-b-password-2718",
}
FILE_SECRET = "team-a-aws-secret-1618"
UNRELATED = ("SERVER_ONLY_SETTING", "the-server-s-own-4242")


@pytest.fixture(scope="module")
def other_account() -> str:
    """A second Unix account, as any other user of a shared host."""
    if shutil.which("useradd") is None:
        pytest.fail("useradd is missing: these tests need a second Unix account")
    subprocess.run(
        ["useradd", "--system", "--no-create-home", OTHER_ACCOUNT],
        capture_output=True,
        check=False,  # it may exist already (9: taken)
    )
    subprocess.run(["id", OTHER_ACCOUNT], check=True, capture_output=True)
    return OTHER_ACCOUNT


@pytest.fixture(scope="module")
def open_home() -> Iterator[Path]:
    """Where the server keeps its files: a directory every account may enter, like a home
    directory under /home, so only the extension's own permissions keep others out."""
    home = Path(tempfile.mkdtemp(prefix="jmg-boundary-"))
    home.chmod(0o755)
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def shared(deploy_server, open_home) -> Iterator[SimpleNamespace]:
    link = ThrottledProxy(int(deploy_server.url.rsplit(":", 1)[1]), bytes_per_second=20 * MB)
    secret_file = open_home / "team-a-aws-secret"
    secret_file.write_text(FILE_SECRET)
    owner = getpass.getuser()
    bindings = open_home / "bindings.json"
    bindings.write_text(
        json.dumps(
            {
                "default_group": "team-a",
                "groups": {
                    "team-a": {
                        "tracking_uri": link.url,  # slow: the copy lasts long enough to be read
                        "tracking_env": {
                            "MLFLOW_TRACKING_USERNAME": "svc-a",
                            "MLFLOW_TRACKING_PASSWORD": "${env:TEAM_A_PASSWORD}",
                        },
                        "artifact_env": {"AWS_SECRET_ACCESS_KEY": f"${{file:{secret_file}}}"},
                        "members": [owner],
                    },
                    "team-m": {"mode": "managed", "members": [owner]},
                    "team-b": {
                        "tracking_uri": deploy_server.url,
                        "tracking_env": {"MLFLOW_TRACKING_TOKEN": "${env:TEAM_B_PASSWORD}"},
                        "members": ["someone-else"],
                    },
                },
            }
        )
    )
    home = open_home / "home"
    server = JupyterServerProcess(
        home,
        env={
            "JUPYTER_MLFLOW_GROUPS_FILE": str(bindings),
            "JUPYTER_RUNTIME_DIR": str(open_home / "runtime"),
            **SECRETS,
            UNRELATED[0]: UNRELATED[1],
        },
    )
    server.env["JUPYTER_TOKEN"] = server.token  # as docker-stacks and many launchers set it
    try:
        yield SimpleNamespace(server=server.start(), home=home)
    finally:
        server.stop()
        link.close()


def every_secret(server: JupyterServerProcess) -> dict[str, str]:
    return {**SECRETS, "file secret": FILE_SECRET, "Jupyter's token": server.token}


def holding(env: dict[str, str], secrets: dict[str, str]) -> set[str]:
    """Which of the secrets appear anywhere in an environment (under any name)."""
    text = "\n".join(f"{name}={value}" for name, value in env.items())
    return {what for what, value in secrets.items() if value in text}


async def managed_status(server: JupyterServerProcess, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while not (status := server.request("GET", f"{API}/groups/team-m/status"))["ok"]:
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.5)
    return status


async def test_a_kernel_gets_its_group_and_nothing_of_the_server_or_other_groups(shared):
    server = shared.server
    kernel = server.start_kernel()
    pid = int((await server.execute(kernel, "import os; print(os.getpid())")).strip())
    env = environ(pid)
    assert holding(env, every_secret(server)) == {"TEAM_A_PASSWORD", "file secret"}
    assert env["MLFLOW_TRACKING_PASSWORD"] == SECRETS["TEAM_A_PASSWORD"]  # its own group's
    assert env["AWS_SECRET_ACCESS_KEY"] == FILE_SECRET
    assert not {"TEAM_A_PASSWORD", "TEAM_B_PASSWORD", "JUPYTER_TOKEN"} & set(env)
    assert env[UNRELATED[0]] == UNRELATED[1]  # the rest of the user's environment stays

    as_kernel = JupyterClient(server.url, env["JUPYTER_MLFLOW_GROUPS_TOKEN"])
    for path in ("/api/contents", "/api/kernels", "/api/terminals"):  # its token's reach
        with pytest.raises(urllib.error.HTTPError) as refused:
            as_kernel.request("GET", path)
        assert refused.value.code == 403, path
    server.request("DELETE", f"/api/kernels/{kernel}")


async def test_copy_workers_model_servers_and_managed_servers_get_only_what_they_need(
    shared, deploy_server, sklearn_model
):
    server = shared.server
    model_dir, _, _ = sklearn_model
    version, _ = register_version(
        deploy_server, "bounded", model_dir, {"weights.bin": os.urandom(MB) * 60}
    )
    deployments = f"{API}/groups/team-a/deployments"
    job = server.request(
        "POST", deployments, {"name": "bounded", "model": "bounded", "version": version}
    )["job"]

    worker_env = None
    while worker_env is None and job["state"] not in ("done", "failed"):
        for pid in process_group(server.process.pid):  # the copy takes seconds: a slow link
            if b"jupyter_mlflow_groups.deploy.worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                worker_env = environ(pid)
        job = server.request("GET", f"{API}/jobs/{job['id']}")
        await asyncio.sleep(0.05)
    assert worker_env is not None, "the copy worker was never seen"
    assert (await finished(server, job))["state"] == "done"
    assert holding(worker_env, every_secret(server)) == {"TEAM_A_PASSWORD", "file secret"}
    assert worker_env["MLFLOW_TRACKING_PASSWORD"] == SECRETS["TEAM_A_PASSWORD"]
    assert UNRELATED[0] not in worker_env  # what the copy needs, not the server's settings

    directory = Path(server.request("GET", f"{deployments}/bounded")["path"]).parents[1]
    model_server = model_server_pid(directory)
    for pid in process_group(model_server):
        serving_env = environ(pid)
        assert holding(serving_env, every_secret(server)) == set()  # a local copy needs none
        assert not {"MLFLOW_TRACKING_USERNAME", "AWS_SECRET_ACCESS_KEY", UNRELATED[0]} & set(
            serving_env
        )

    managed = (await managed_status(server))["managed"]
    for pid in process_group(managed["pid"]):
        assert holding(environ(pid), every_secret(server)) == set()
    server.request("DELETE", f"{deployments}/bounded")


async def test_another_account_on_the_host_reaches_nothing_of_the_group(
    shared, other_account, deploy_server, sklearn_model
):
    """It finds no TCP port, cannot connect to the servers' sockets, and cannot read the
    managed group's database or artifacts."""
    server = shared.server
    managed = (await managed_status(server))["managed"]
    root = Path(managed["root"])
    managed_socket = json.loads((root / "server.json").read_text())["socket"]
    model_dir, _, _ = sklearn_model
    version, _ = register_version(deploy_server, "guarded", model_dir)
    deployments = f"{API}/groups/team-a/deployments"
    job = server.request(
        "POST", deployments, {"name": "guarded", "model": "guarded", "version": version}
    )["job"]
    assert (await finished(server, job))["state"] == "done"
    directory = Path(server.request("GET", f"{deployments}/guarded")["path"]).parents[1]
    model_socket = json.loads((directory / "serve.pid").read_text())["socket"]

    for parent in [*root.parents, Path(managed_socket).parent.parent]:
        if parent.is_relative_to(shared.home.parent):  # open to all: only ours is private
            parent.chmod(parent.stat().st_mode | 0o005)
    assert not listening_tcp_ports(managed["pid"])
    assert not listening_tcp_ports(model_server_pid(directory))
    probe = (
        "import socket, sys\n"
        "for target in sys.argv[1:]:\n"
        "    try:\n"
        "        if target.endswith('.sock'):\n"
        "            s = socket.socket(socket.AF_UNIX); s.connect(target); s.close()\n"
        "        else:\n"
        "            open(target, 'rb').read(1)\n"
        "        print(target, 'OPEN')\n"
        "    except OSError as error:\n"
        "        print(target, type(error).__name__)\n"
    )
    targets = [managed_socket, model_socket, str(root / "mlflow.db")]
    tried = subprocess.run(
        ["runuser", "-u", other_account, "--", "/usr/bin/python3", "-c", probe, *targets],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    outcomes = dict(line.rsplit(" ", 1) for line in tried.stdout.splitlines())
    assert outcomes == {target: "PermissionError" for target in targets}, tried.stdout

    # the account running Jupyter reaches the same socket: the refusal is the other account's
    assert server.request("GET", f"{API}/groups/team-m/status")["ok"] is True
    server.request("DELETE", f"{deployments}/guarded")
