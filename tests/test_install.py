"""What `pip install` ships works by itself: the server extension is enabled and the kernel
provisioner is the default, in a real `jupyter server` process with no extra configuration."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support.jupyter import JupyterServerProcess
from support.kernels import ENV_CODE


def test_jupyter_lists_the_extension_as_enabled_and_ok():
    listing = subprocess.run(
        [sys.executable, "-m", "jupyter", "server", "extension", "list"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    text = listing.stdout + listing.stderr
    assert (
        "jupyter_mlflow_groups \x1b[32menabled" in text or "jupyter_mlflow_groups enabled" in text
    )
    assert (
        "jupyter_mlflow_groups 0." in text
        and "OK" in text.split("jupyter_mlflow_groups 0.", 1)[1][:40]
    )


def test_the_provisioner_is_registered_as_an_entry_point():
    from jupyter_client.provisioning import KernelProvisionerFactory

    assert (
        "mlflow-groups-provisioner" in KernelProvisionerFactory.instance().get_provisioner_entries()
    )


@pytest.fixture
def shipped_server(tmp_path):
    bindings = tmp_path / "bindings.json"
    bindings.write_text(
        json.dumps(
            {
                "default_group": "team-a",
                "groups": {
                    "team-a": {
                        "tracking_uri": "http://team-a.invalid:5000",
                        "tracking_env": {"MLFLOW_TRACKING_TOKEN": "${env:TEAM_A_TOKEN}"},
                    },
                    "team-b": {"tracking_uri": "http://team-b.invalid:5000"},
                },
            }
        )
    )
    server = JupyterServerProcess(
        tmp_path / "home",
        env={
            "JUPYTER_MLFLOW_GROUPS_FILE": str(bindings),
            "TEAM_A_TOKEN": "token-from-server-env",
            "MLFLOW_TRACKING_URI": "http://server-own.invalid",
        },
    )
    yield server
    server.stop()


async def test_a_plain_jupyter_server_injects_and_remembers_the_active_group(shipped_server):
    server = shipped_server.start()
    env = json.loads(await server.execute(server.start_kernel(), ENV_CODE))
    assert env["MLFLOW_TRACKING_URI"] == "http://team-a.invalid:5000"
    assert env["MLFLOW_TRACKING_TOKEN"] == "token-from-server-env"
    assert env["JUPYTER_MLFLOW_GROUP"] == "team-a"

    server.request("PUT", "/mlflow-groups/api/active", {"group": "team-b"})
    server.stop()
    server.start()  # a restarted server remembers the choice
    assert server.request("GET", "/mlflow-groups/api/groups")["active"] == "team-b"
    env = json.loads(await server.execute(server.start_kernel(), ENV_CODE))
    assert env["MLFLOW_TRACKING_URI"] == "http://team-b.invalid:5000"
    assert "MLFLOW_TRACKING_TOKEN" not in env
    assert "token-from-server-env" not in server.log()


async def test_an_admin_s_own_default_provisioner_is_respected_and_warned_about(shipped_server):
    shipped_server.args = ["--KernelProvisionerFactory.default_provisioner_name=local-provisioner"]
    server = shipped_server.start()
    env = json.loads(await server.execute(server.start_kernel(), ENV_CODE))
    assert env["MLFLOW_TRACKING_URI"] == "http://server-own.invalid"  # untouched: not ours
    assert "default kernel provisioner is 'local-provisioner'" in server.log()


def test_the_test_extras_include_the_demos():
    """scripts/run counts an install with the test extras as one with the demo's
    (scripts/ensure-venv): the tests' environment runs the demo as a user's does."""
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    extras: dict[str, set[str]] = {}
    for line in requires("jupyter-mlflow-groups") or []:
        requirement = Requirement(line)
        for extra in ("test", "demo"):
            if requirement.marker and requirement.marker.evaluate({"extra": extra}):
                extras.setdefault(extra, set()).add(str(requirement).split(";")[0].strip())
    assert extras["demo"] and extras["demo"] <= extras["test"]
