"""`%mlflow_group` in real kernels started through the REST API, against real MLflow servers.

What is asserted is what a person sees (stdout, stderr, the rendered table, the widget's text)
and what the kernel then holds (os.environ, mlflow.get_tracking_uri()). The `plain` server's
registry is only read; anything written goes to the `auth` server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import pytest
from jupyter_client.kernelspec import KernelSpec
from support.jupyter import JupyterServerProcess
from support.kernels import restart_kernel, start_kernel
from support.rest import fetch_json
from support.seeding import compared_model_files
from support.servers import ADMIN_PASSWORD, ADMIN_USER
from support.widget_text import IMPORT_IN_KERNEL

from jupyter_mlflow_groups.provisioner import EXTENSION_ARGUMENT, runs_ipykernel, with_extension

PASSWORD = "reg-pw-5e1d never shown"
AWS_SECRET = "aws-secret-0c4f-never-shown"
URI_PASSWORD = "uri-pw-77aa"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@dataclass
class Cell:
    """One cell's run, as a front end receives it."""

    stdout: str = ""
    stderr: str = ""
    results: list[dict[str, Any]] = field(default_factory=list)  # execute_result, display_data
    reply: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.reply.get("status") == "ok"

    @property
    def everything(self) -> str:
        return self.stdout + self.stderr + json.dumps(self.results) + json.dumps(self.reply)


async def run_cell(serverapp: Any, kernel_id: str, code: str, timeout: float = 120) -> Cell:
    client = serverapp.kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    cell = Cell()

    def collect(message: dict[str, Any]) -> None:
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            if content["name"] == "stdout":
                cell.stdout += content["text"]
            else:
                cell.stderr += content["text"]
        elif kind in ("execute_result", "display_data"):
            cell.results.append(content["data"])

    try:
        await client.wait_for_ready(timeout=timeout)
        reply = await client.execute_interactive(code, output_hook=collect, timeout=timeout)
    finally:
        client.stop_channels()
    cell.reply = reply["content"]
    return cell


async def printed(serverapp: Any, kernel_id: str, code: str) -> Any:
    """The JSON a cell prints (the cell must succeed)."""
    cell = await run_cell(serverapp, kernel_id, code)
    assert cell.ok, cell.reply
    return json.loads(cell.stdout.strip().splitlines()[-1])


STATE = """
import json, os, sys
print(json.dumps({
    "env": dict(os.environ),
    "tracking_uri": mlflow.get_tracking_uri() if "mlflow" in sys.modules else None,
    "registry_uri": mlflow.get_registry_uri() if "mlflow" in sys.modules else None,
}))
"""


@pytest.fixture
def groups(bindings, mlflow_servers, closed_url, monkeypatch) -> dict[str, str]:
    """reg: the plain server (read only), with secrets; writable: the auth server as admin;
    down: nothing listens; broken: misconfigured; masked: a password in its URI; bob's:
    a group alice is not in."""
    monkeypatch.setenv("TEST_REG_PASSWORD", PASSWORD)
    bindings.write(
        {
            "default_group": "reg",
            "groups": {
                "reg": {
                    "tracking_uri": mlflow_servers.plain.url,
                    "tracking_env": {
                        "MLFLOW_TRACKING_USERNAME": "svc-reg",
                        "MLFLOW_TRACKING_PASSWORD": "${env:TEST_REG_PASSWORD}",
                    },
                    "artifact_env": {
                        "AWS_ACCESS_KEY_ID": "key-reg",
                        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
                        "MLFLOW_S3_ENDPOINT_URL": "http://s3-reg.invalid:9000",
                        "REG_ONLY": "only-in-reg",
                    },
                },
                "writable": {
                    "tracking_uri": mlflow_servers.auth.url,
                    "tracking_env": {
                        "MLFLOW_TRACKING_USERNAME": ADMIN_USER,
                        "MLFLOW_TRACKING_PASSWORD": ADMIN_PASSWORD,
                    },
                    "artifact_env": {
                        "AWS_ACCESS_KEY_ID": "key-writable",
                        "AWS_SECRET_ACCESS_KEY": "secret-writable",
                    },
                },
                "down": {"tracking_uri": closed_url},
                "broken": {"tracking_uri": "ftp://nowhere"},
                "masked": {"tracking_uri": f"http://svc:{URI_PASSWORD}@mlflow.invalid:5000"},
                "bobs": {"tracking_uri": "http://bob.invalid", "members": ["bob"]},
            },
        }
    )
    return {
        "reg": mlflow_servers.plain.url,
        "writable": mlflow_servers.auth.url,
        "down": closed_url,
    }


async def activate(jp_fetch: Any, group: str) -> None:
    status, _ = await fetch_json(
        jp_fetch, "mlflow-groups", "api", "active", method="PUT", body={"group": group}
    )
    assert status == 200


def assert_no_secret(text: str) -> None:
    for secret in (PASSWORD, AWS_SECRET, URI_PASSWORD, "key-reg", ADMIN_PASSWORD):
        assert secret not in text


# -- auto-configuration ---------------------------------------------------------------------------


def test_only_ipykernel_kernels_get_the_extension_argument():
    def spec(argv: list[str], language: str = "python") -> KernelSpec:
        return KernelSpec(argv=argv, language=language, display_name="k")

    assert runs_ipykernel(spec(["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]))
    assert runs_ipykernel(spec(["/opt/py/bin/python", "-m", "ipykernel", "-f", "{c}"]))
    assert runs_ipykernel(spec(["/opt/py/bin/python", "/opt/py/ipykernel_launcher.py", "-f", "c"]))
    assert not runs_ipykernel(spec(["xpython", "-f", "{connection_file}"]))
    assert not runs_ipykernel(spec(["R", "-e", "IRkernel::main()", "ipykernel"], language="R"))
    assert not runs_ipykernel(None)

    original = ["--debug"]
    assert with_extension(original) == ["--debug", EXTENSION_ARGUMENT]
    assert original == ["--debug"]  # the kernel manager keeps it for restarts
    assert with_extension([EXTENSION_ARGUMENT]) == [EXTENSION_ARGUMENT]
    assert with_extension(None) == [EXTENSION_ARGUMENT]


LOADED = """
import json, sys
print(json.dumps({
    "extensions": sorted(get_ipython().extension_manager.loaded),
    "magic": "mlflow_group" in get_ipython().magics_manager.magics["line"],
    "imported": [
        m
        for m in ("mlflow", "requests", "pandas", "jupyter_server",
                  "jupyter_mlflow_groups.kernel.commands")
        if m in sys.modules
    ],
}))
"""


async def test_kernels_start_with_the_magics_loaded_once_across_restarts(
    groups, jp_fetch, jp_serverapp
):
    kernel = await start_kernel(jp_fetch)
    manager = jp_serverapp.kernel_manager.get_kernel(kernel)
    for restart in range(3):
        if restart:
            await restart_kernel(jp_fetch, kernel)
        command = Path(f"/proc/{manager.provisioner.pid}/cmdline").read_bytes().split(b"\0")
        assert command.count(EXTENSION_ARGUMENT.encode()) == 1, command
        assert EXTENSION_ARGUMENT not in (manager._launch_args.get("extra_arguments") or [])
        state = await printed(jp_serverapp, kernel, LOADED)
        assert "jupyter_mlflow_groups" in state["extensions"]
        assert state["magic"] is True
        # loading the magics imports no MLflow, requests, pandas, nor the sub-commands
        assert state["imported"] == []
    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group list")  # no %load_ext needed
    assert cell.ok and "* reg" in cell.stdout


async def test_a_jupyter_server_as_installed_gives_kernels_the_magics(tmp_path):
    """No test configuration: what `pip install` ships makes the provisioner add `--ext`."""
    bindings = tmp_path / "bindings.json"
    bindings.write_text(json.dumps({"groups": {"team-a": {"tracking_uri": "http://a.invalid"}}}))
    server = JupyterServerProcess(
        tmp_path / "home", env={"JUPYTER_MLFLOW_GROUPS_FILE": str(bindings)}
    ).start()
    try:
        kernel = server.start_kernel()
        state = json.loads(await server.execute(kernel, LOADED))
        listing = await server.execute(kernel, "%mlflow_group list")
    finally:
        server.stop()
    assert state["magic"] is True and state["imported"] == []
    assert "* team-a  http://a.invalid  <- this kernel" in listing


# -- the group ------------------------------------------------------------------------------------


async def test_the_overview_shows_the_group_its_binding_masked_and_its_status(
    groups, jp_fetch, jp_serverapp, jp_base_url
):
    kernel = await start_kernel(jp_fetch)
    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group")
    assert cell.ok and cell.stderr == ""
    lines = cell.stdout.splitlines()
    assert lines[0] == "MLflow group: reg (this kernel's group, and the active group)"
    assert f"  tracking URI   {groups['reg']}" in lines
    # its credentials would stand in a browser's way: the UI is shown through Jupyter
    assert f"  MLflow UI      {jp_base_url}mlflow-groups/groups/reg/mlflow/" in lines
    assert "  registry URI   the tracking URI" in lines
    assert (
        "  credentials    basic: MLFLOW_TRACKING_PASSWORD=***, MLFLOW_TRACKING_USERNAME=svc-reg"
        in lines
    )
    assert (
        "  artifact store AWS_ACCESS_KEY_ID=***, AWS_SECRET_ACCESS_KEY=***, "
        "MLFLOW_S3_ENDPOINT_URL=http://s3-reg.invalid:9000, REG_ONLY=***"
    ) in lines
    assert lines[-1].startswith(
        f"Status: OK: MLflow {mlflow.__version__} at {groups['reg']} answered in "
    )
    assert_no_secret(cell.everything)

    await activate(jp_fetch, "down")  # another kernel (or the sidebar) switched group
    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group")
    assert cell.stdout.splitlines()[:2] == [
        "MLflow group: reg (this kernel's group)",
        "  New kernels get 'down'; this kernel keeps 'reg' until it restarts or you run "
        "%mlflow_group use down",
    ]


async def test_list_marks_the_active_group_and_this_kernel(groups, jp_fetch, jp_serverapp):
    kernel = await start_kernel(jp_fetch)
    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group list")
    assert cell.ok
    assert cell.stdout.splitlines() == [
        "Your MLflow groups (* the active group, which new kernels get):",
        f"* reg       {groups['reg']}  <- this kernel",
        f"  writable  {groups['writable']}",
        f"  down      {groups['down']}",
        "  broken    not configured (see %mlflow_group status broken)",
        "  masked    http://svc:***@mlflow.invalid:5000",
    ]


async def test_use_switches_the_server_and_this_kernel(groups, jp_fetch, jp_serverapp):
    kernel, bystander = await start_kernel(jp_fetch), await start_kernel(jp_fetch)
    setup = await run_cell(
        jp_serverapp,
        kernel,
        "import os, mlflow, boto3\n"
        "mlflow.set_tracking_uri('http://set-in-code.invalid')\n"
        "mlflow.set_registry_uri('http://registry-in-code.invalid')\n"
        "os.environ['MLFLOW_EXPERIMENT_ID'] = '17'\n"
        "boto3.client('s3', region_name='us-east-1')\n"
        "print(boto3.DEFAULT_SESSION.get_credentials().access_key)",
    )
    assert setup.ok and setup.stdout.strip() == "key-reg"
    before = (await printed(jp_serverapp, kernel, STATE))["env"]

    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group use writable")
    assert cell.ok and cell.stderr == "", cell.stderr
    assert cell.stdout.splitlines() == [
        f"This kernel now uses the MLflow group 'writable' (was 'reg'): MLflow at "
        f"{groups['writable']}.",
        "  set: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, JUPYTER_MLFLOW_GROUP, "
        "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT, MLFLOW_TRACKING_PASSWORD, MLFLOW_TRACKING_URI, "
        "MLFLOW_TRACKING_USERNAME",
        # MLFLOW_REGISTRY_URI: mlflow.set_registry_uri() had set it
        "  removed: MLFLOW_EXPERIMENT_ID, MLFLOW_REGISTRY_URI, MLFLOW_S3_ENDPOINT_URL, REG_ONLY",
        "New kernels use the group 'writable'. Other running kernels keep their group until "
        "they are restarted.",
    ]
    assert_no_secret(cell.everything)

    state = await printed(jp_serverapp, kernel, STATE)
    env = state["env"]
    assert env["JUPYTER_MLFLOW_GROUP"] == "writable"
    assert env["MLFLOW_TRACKING_URI"] == groups["writable"]
    assert env["MLFLOW_TRACKING_USERNAME"] == ADMIN_USER
    assert env["MLFLOW_TRACKING_PASSWORD"] == ADMIN_PASSWORD
    assert env["AWS_ACCESS_KEY_ID"] == "key-writable"
    for gone in ("REG_ONLY", "MLFLOW_S3_ENDPOINT_URL", "MLFLOW_EXPERIMENT_ID"):
        assert gone not in env
    for kept in ("JUPYTER_MLFLOW_GROUPS_URL", "JUPYTER_MLFLOW_GROUPS_TOKEN", "PATH"):
        assert env[kept] == before[kept]
    # MLflow forgot the URIs set in code and follows the new group, credentials included.
    assert state["tracking_uri"] == groups["writable"]
    assert state["registry_uri"] == groups["writable"]
    works = await run_cell(
        jp_serverapp,
        kernel,
        "print([e.name for e in mlflow.search_experiments(max_results=1)])\n"
        "boto3.client('s3', region_name='us-east-1')\n"
        "print(boto3.DEFAULT_SESSION.get_credentials().access_key)",
    )
    assert works.ok, works.reply
    assert works.stdout.splitlines() == ["['Default']", "key-writable"]

    # The server switched: new kernels get the group, other running kernels keep theirs.
    assert (await fetch_json(jp_fetch, "mlflow-groups", "api", "groups"))[1]["active"] == "writable"
    assert (await printed(jp_serverapp, bystander, STATE))["env"]["JUPYTER_MLFLOW_GROUP"] == "reg"
    fresh = await start_kernel(jp_fetch)
    assert (await printed(jp_serverapp, fresh, STATE))["env"]["JUPYTER_MLFLOW_GROUP"] == "writable"


async def test_use_refuses_a_group_you_are_not_in_and_changes_nothing(
    groups, jp_fetch, jp_serverapp
):
    kernel = await start_kernel(jp_fetch)
    before = (await printed(jp_serverapp, kernel, STATE))["env"]
    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group use bobs")
    assert cell.ok and cell.stdout == ""
    assert cell.stderr.splitlines()[0] == (
        "You (alice) are not a member of the group 'bobs': ask its admin to add you."
    )
    assert "Traceback" not in cell.everything
    assert (await printed(jp_serverapp, kernel, STATE))["env"] == before
    assert (await fetch_json(jp_fetch, "mlflow-groups", "api", "groups"))[1]["active"] == "reg"


async def test_use_warns_about_an_active_run_and_the_advice_works(
    groups, jp_fetch, jp_serverapp, mlflow_servers
):
    await activate(jp_fetch, "writable")
    kernel = await start_kernel(jp_fetch)
    started = await run_cell(
        jp_serverapp, kernel, "import mlflow\nprint(mlflow.start_run().info.run_id)"
    )
    assert started.ok, started.reply
    run_id = started.stdout.strip().splitlines()[-1]

    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group use reg")
    assert cell.ok
    assert cell.stdout.startswith("This kernel now uses the MLflow group 'reg' (was 'writable')")
    assert cell.stderr.splitlines() == [
        f"Warning: MLflow run {run_id} is still active, on the MLflow of group 'writable': "
        "logging to it now fails, and so does starting a new run.",
        "What to do: To finish it: %mlflow_group use writable, mlflow.end_run(), then "
        "%mlflow_group use reg.",
    ]
    state = await printed(jp_serverapp, kernel, STATE)
    assert state["tracking_uri"] == groups["reg"]
    assert "MLFLOW_RUN_ID" not in state["env"]

    finish = await run_cell(
        jp_serverapp,
        kernel,
        "%mlflow_group use writable\nmlflow.end_run()\n%mlflow_group use reg\n"
        "print(mlflow.active_run(), mlflow.get_tracking_uri())",
    )
    assert finish.ok, finish.reply
    assert finish.stderr == ""
    assert finish.stdout.splitlines()[-1] == f"None {groups['reg']}"
    run = mlflow_servers.auth.request("GET", f"/api/2.0/mlflow/runs/get?run_id={run_id}")
    assert run["run"]["info"]["status"] == "FINISHED"


async def test_status_diagnoses_and_says_what_to_do(groups, jp_fetch, jp_serverapp):
    kernel = await start_kernel(jp_fetch)
    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group status")
    lines = cell.stdout.splitlines()
    assert lines[0] == "MLflow group 'reg': OK"
    assert lines[1].startswith(f"  MLflow {mlflow.__version__} at {groups['reg']} answered in ")
    assert lines[2].startswith(
        f"  tracking URI {groups['reg']} · auth basic · MLflow {mlflow.__version__} · "
    )

    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group status down")  # any of yours
    assert cell.ok
    lines = cell.stdout.splitlines()
    assert lines[0] == "MLflow group 'down': unreachable"
    assert lines[1] == f"  MLflow at {groups['down']} is not reachable: connection refused"
    assert lines[2] == (
        "  What to do: Check that the MLflow server is running and that this machine can reach it."
    )
    assert lines[3].startswith(f"  tracking URI {groups['down']} · auth none · checked at ")

    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group use broken")
    assert cell.ok
    assert (
        cell.stdout.splitlines()[0] == "This kernel now uses the MLflow group 'broken' (was 'reg')."
    )
    assert cell.stderr.splitlines() == [
        "Warning: group 'broken' has no usable MLflow binding, so MLflow is not configured "
        "in this kernel.",
        "What to do: See %mlflow_group status.",
    ]
    env = (await printed(jp_serverapp, kernel, STATE))["env"]
    assert env["JUPYTER_MLFLOW_GROUP"] == "broken" and "MLFLOW_TRACKING_URI" not in env
    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group status")
    lines = cell.stdout.splitlines()
    assert lines[0] == "MLflow group 'broken': not configured"
    assert lines[1].startswith("  MLflow is not configured for group 'broken': ")
    assert "tracking_uri" in lines[1] and "ftp" in lines[1]
    assert lines[2] == "  What to do: Ask your group admin to bind this group to an MLflow server."

    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group status bobs")
    assert cell.ok and cell.stdout == ""
    assert "You (alice) are not a member of the group 'bobs'" in cell.stderr
    assert "Traceback" not in cell.everything


async def test_env_shows_the_variables_with_secrets_masked(groups, jp_fetch, jp_serverapp):
    kernel = await start_kernel(jp_fetch)
    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group env")
    assert cell.ok
    lines = [" ".join(line.split()) for line in cell.stdout.splitlines()]
    assert lines[0] == "MLflow environment of this kernel (group reg):"
    for line in (
        "JUPYTER_MLFLOW_GROUP reg",
        f"MLFLOW_TRACKING_URI {groups['reg']}",
        "MLFLOW_TRACKING_USERNAME svc-reg",
        "MLFLOW_S3_ENDPOINT_URL http://s3-reg.invalid:9000",
        "MLFLOW_TRACKING_PASSWORD *** (set, not shown)",
        "AWS_ACCESS_KEY_ID *** (set, not shown)",
        "AWS_SECRET_ACCESS_KEY *** (set, not shown)",
        "REG_ONLY *** (set, not shown)",  # listed because the binding sets it
        "JUPYTER_MLFLOW_GROUPS_TOKEN *** (set, not shown)",
        "JUPYTER_MLFLOW_GROUPS_URL *** (set, not shown)",
    ):
        assert line in lines
    token = (await printed(jp_serverapp, kernel, STATE))["env"]["JUPYTER_MLFLOW_GROUPS_TOKEN"]
    assert token not in cell.everything
    assert_no_secret(cell.everything)

    await run_cell(jp_serverapp, kernel, "%mlflow_group use masked")
    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group env")
    lines = [" ".join(line.split()) for line in cell.stdout.splitlines()]
    assert "MLFLOW_TRACKING_URI http://svc:***@mlflow.invalid:5000" in lines
    assert "REG_ONLY *** (set, not shown)" not in lines
    assert_no_secret(cell.everything)


# -- the registry ---------------------------------------------------------------------------------


async def test_models_and_versions_are_dataframes(groups, seeded, jp_fetch, jp_serverapp):
    kernel = await start_kernel(jp_fetch)
    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group models name LIKE 'model-000%'")
    assert cell.ok and cell.stderr == ""
    (table,) = cell.results
    assert "<table" in table["text/html"] and "model-0009" in table["text/html"]
    for column in ("name", "latest_version", "aliases", "last_modified", "description"):
        assert column in table["text/plain"]
    assert "model-0000" in table["text/plain"] and "challenger=2, champion=3" in table["text/plain"]

    frames = await printed(
        jp_serverapp,
        kernel,
        "import json\n"
        "df = %mlflow_group models\n"
        "fraud = %mlflow_group models \"name LIKE '%fraud%'\"\n"
        "versions = %mlflow_group versions model-0000\n"
        "spaced = %mlflow_group versions fraud detector é\n"
        "quoted = %mlflow_group versions it's a model\n"
        "print(json.dumps({\n"
        "    'models': len(df), 'sorted': df.name.tolist() == sorted(df.name),\n"
        "    'when': str(df.last_modified.dtype), 'fraud': fraud.name.tolist(),\n"
        "    'versions': versions.version.tolist(), 'aliases': versions.aliases.tolist(),\n"
        "    'columns': versions.columns.tolist(), 'spaced': spaced.version.tolist(),\n"
        "    'quoted': quoted.version.tolist(), 'run': versions.run_id.iloc[0],\n"
        "}))",
    )
    assert frames["models"] == len(seeded.model_names) and frames["sorted"]
    assert frames["when"].startswith("datetime64[") and frames["when"].endswith(", UTC]")
    assert frames["fraud"] == ["fraud detector é"]
    assert frames["versions"] == [3, 2, 1]
    assert frames["aliases"] == ["champion", "challenger", ""]
    assert frames["columns"] == [
        "version",
        "status",
        "aliases",
        "deployed_by",
        "registered_at",
        "last_modified",
        "run_id",
        "description",
    ]
    assert frames["spaced"] == [1] and frames["quoted"] == [1]
    assert frames["run"] == seeded.runs["model-0000"]

    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group models name = 'nothing-like-this'")
    assert cell.stdout == "No model of group 'reg' matches name = 'nothing-like-this'.\n"
    assert "Empty DataFrame" in cell.results[0]["text/plain"]
    for line, message in (
        ("models name LIKE", "MLflow refused the request: Invalid clause(s) in filter string"),
        ("versions no-such-model", "No model 'no-such-model' in group 'reg'."),
    ):
        cell = await run_cell(jp_serverapp, kernel, f"%mlflow_group {line}")
        assert cell.ok and cell.results == [] and message in cell.stderr, cell.stderr
        assert "What to do:" in cell.stderr and "Traceback" not in cell.everything
    assert cell.stderr.splitlines()[-1].startswith(  # which model, and how to list them
        "What to do: Check the name (it is case-sensitive). List the group's models with "
        "%mlflow_group models"
    )


def widget_text_code(model_id: str) -> str:
    """Kernel code that prints a displayed widget's text as a person reads it."""
    return (
        f"{IMPORT_IN_KERNEL}"
        "from ipywidgets.widgets.widget import _instances\n"
        f"print(visible_text(_instances[{model_id!r}]))"
    )


async def test_show_and_browse_display_the_panels(groups, seeded, jp_fetch, jp_serverapp):
    kernel = await start_kernel(jp_fetch)
    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group show model-0000 @champion")
    assert cell.ok and cell.stderr == ""
    (display,) = cell.results
    shown = await run_cell(jp_serverapp, kernel, widget_text_code(display[WIDGET_VIEW]["model_id"]))
    assert "model-0000 · version 3" in shown.stdout and "champion" in shown.stdout
    assert 'mlflow.pyfunc.load_model("models:/model-0000/3")' in shown.stdout

    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group show fraud detector é 1")
    shown = await run_cell(
        jp_serverapp, kernel, widget_text_code(cell.results[0][WIDGET_VIEW]["model_id"])
    )
    assert "fraud detector é · version 1" in shown.stdout

    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group browse")
    assert cell.ok and cell.stderr == ""
    shown = await run_cell(
        jp_serverapp, kernel, widget_text_code(cell.results[0][WIDGET_VIEW]["model_id"])
    )
    assert "MLflow models · group reg" in shown.stdout and "model-0000" in shown.stdout


async def test_commands_other_than_use_change_nothing_in_the_kernel(
    groups, seeded, jp_fetch, jp_serverapp
):
    kernel = await start_kernel(jp_fetch)
    await run_cell(jp_serverapp, kernel, "import mlflow")
    before = await printed(jp_serverapp, kernel, STATE)
    assert before["tracking_uri"] == groups["reg"]
    for line in (
        "",
        "list",
        "status",
        "status down",
        "env",
        "models",
        "versions model-0000",
        "show model-0000 1",
        "browse",
        "--help",
        "lst",
    ):
        await run_cell(jp_serverapp, kernel, f"%mlflow_group {line}")
    assert await printed(jp_serverapp, kernel, STATE) == before
    assert (await fetch_json(jp_fetch, "mlflow-groups", "api", "groups"))[1]["active"] == "reg"


# -- usage ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "usage", "error"),
    [
        ("lst", "usage: %mlflow_group [COMMAND]", "unknown command 'lst' (did you mean 'list'?)"),
        ("use", "usage: %mlflow_group use [-h] NAME", "the following arguments are required: NAME"),
        ("list extra", "usage: %mlflow_group list [-h]", "unrecognized arguments: extra"),
        (
            "show model-0000",
            "usage: %mlflow_group show [-h] NAME [NAME ...] VERSION",
            "the following arguments are required: VERSION",
        ),
        ("--verbose", "usage: %mlflow_group [COMMAND]", "unknown command '--verbose'"),
        ("help me", "usage: %mlflow_group [COMMAND]", "unexpected: me"),
        (
            "compare model-0000 3",
            "usage: %mlflow_group compare [-h] [--diff] [--metric METRIC]",
            "name a model, then at least two versions (numbers or @aliases)",
        ),
    ],
)
async def test_bad_arguments_print_usage_and_a_one_line_error(
    groups, jp_fetch, jp_serverapp, line, usage, error
):
    kernel = await start_kernel(jp_fetch)
    cell = await run_cell(jp_serverapp, kernel, f"%mlflow_group {line}\nprint('not reached')")
    assert cell.stdout == ""
    assert cell.stderr.startswith(usage)
    assert cell.stderr.splitlines()[-1] == f"UsageError: {error}"
    assert (cell.reply["status"], cell.reply["ename"], cell.reply["traceback"]) == (
        "error",
        "UsageError",
        [],
    )
    assert "Traceback" not in cell.everything


async def test_compare_gives_a_table_of_versions_with_the_best_named(
    bindings, compared, deploy_server, jp_fetch, jp_serverapp
):
    bindings.write({"groups": {"reg": {"tracking_uri": deploy_server.url}}})
    kernel = await start_kernel(jp_fetch)
    code = (
        f"df = %mlflow_group compare {compared} 1 @champion @challenger --diff\n"
        "print(df.reset_index().to_json(orient='records'))"
    )
    cell = await run_cell(jp_serverapp, kernel, code)
    assert cell.ok, cell.reply
    said, table = cell.stdout.splitlines()
    assert said == (
        f"{compared} (reg): v1 vs v2 (@champion) vs v3 (@challenger). "
        "Their signatures are the same."
    )
    rows = {(row["section"], row["key"]): row for row in json.loads(table)}
    assert list(rows) == [
        ("metric", "accuracy"),
        ("metric", "f1"),
        ("metric", "train/loss"),
        ("metric", "val_loss"),
        ("param", "alpha"),
        ("param", "class_weight"),
        ("tag", "reviewed"),
        ("run tag", "data"),
        ("model", "bytes"),
    ]  # fmt: skip  (--diff: depth, and the model's file count, the same in all three, are left out)
    accuracy = rows[("metric", "accuracy")]
    assert (accuracy["v1"], accuracy["v2 (@champion)"], accuracy["v3 (@challenger)"]) == (
        0.8, 0.9, 0.85,
    )  # fmt: skip
    assert accuracy["best"] == "v2 (@champion)" and rows[("metric", "f1")]["best"] == ""
    assert rows[("param", "class_weight")]["v3 (@challenger)"] == "balanced"
    model_bytes = rows[("model", "bytes")]
    assert [model_bytes[column] for column in ("v1", "v2 (@champion)", "v3 (@challenger)")] == [
        sum(map(len, compared_model_files(index).values())) for index in range(3)
    ]

    cell = await run_cell(jp_serverapp, kernel, f"%mlflow_group compare {compared} 1 7")
    assert cell.ok and f"Model '{compared}' of group 'reg' has no version 7." in cell.stderr

    code = (
        f"df = %mlflow_group compare {compared} --metric val_loss\n"
        "print(df.reset_index().to_json(orient='records'))"
    )
    cell = await run_cell(jp_serverapp, kernel, code)  # one metric across every version
    assert cell.ok, cell.reply
    said, table = cell.stdout.splitlines()
    assert said == f"val_loss in {compared} (reg): best (lower): v2."
    assert json.loads(table) == [
        {"version": "1", "val_loss": 0.5, "aliases": "", "best": ""},
        {"version": "2", "val_loss": 0.3, "aliases": "@champion", "best": "★"},
        {"version": "3", "val_loss": 0.4, "aliases": "@challenger", "best": ""},
    ]


async def test_help_and_the_question_mark_give_usage(groups, jp_fetch, jp_serverapp):
    kernel = await start_kernel(jp_fetch)
    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group --help")
    assert cell.ok and cell.stdout.startswith("%mlflow_group [COMMAND]: this kernel's MLflow")
    assert "  %mlflow_group use NAME           switch the active group" in cell.stdout
    assert "  df = %mlflow_group models name LIKE '%fraud%'" in cell.stdout

    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group?")
    (page,) = cell.reply["payload"]  # the pager, as notebooks show it
    assert "%mlflow_group show NAME VERSION" in page["data"]["text/plain"]

    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group use --help")
    assert cell.ok and cell.stdout.startswith("usage: %mlflow_group use [-h] NAME")


# -- outside Jupyter ------------------------------------------------------------------------------

PLAIN_IPYTHON = """
import sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "jupyter_mlflow_groups")
for line in sys.argv[1:]:
    print(f"--- {line}", flush=True)
    shell.run_cell(f"%mlflow_group {line}")
print("--- imported", [m for m in ("mlflow", "requests", "pandas") if m in sys.modules])
"""


def plain_ipython(*lines: str, **extra_env: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "JUPYTER_", "AWS_"))}
    env |= {
        "MLFLOW_TRACKING_URI": f"http://svc:{URI_PASSWORD}@mlflow.example.org",
        "MLFLOW_TRACKING_USERNAME": "svc",
        "MLFLOW_TRACKING_PASSWORD": PASSWORD,
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        **extra_env,
    }
    done = subprocess.run(
        [sys.executable, "-c", PLAIN_IPYTHON, *lines],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_plain_ipython_says_no_server_and_shows_the_environment():
    text = plain_ipython("", "env", "list", "models")
    assert "No Jupyter server with jupyter-mlflow-groups is reachable. This kernel was not " in text
    assert "MLflow environment of this kernel (no group):" in text
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert "MLFLOW_TRACKING_URI http://svc:***@mlflow.example.org" in lines
    assert "MLFLOW_TRACKING_USERNAME svc" in lines
    assert "MLFLOW_TRACKING_PASSWORD *** (set, not shown)" in lines
    assert "AWS_SECRET_ACCESS_KEY *** (set, not shown)" in lines
    assert text.count("No Jupyter server with jupyter-mlflow-groups is reachable") == 4
    assert "Traceback" not in text
    assert "--- imported []" in text  # neither MLflow nor requests nor pandas
    assert_no_secret(text)


def test_a_server_that_went_away_is_said_so(closed_url):
    text = plain_ipython(
        "status",
        JUPYTER_MLFLOW_GROUPS_URL=closed_url,
        JUPYTER_MLFLOW_GROUPS_TOKEN="token-of-a-gone-server",
        JUPYTER_MLFLOW_GROUP="team-a",
    )
    assert f"The Jupyter server at {closed_url}/ is not reachable: ConnectionError" in text
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert "JUPYTER_MLFLOW_GROUP team-a" in lines
    assert "JUPYTER_MLFLOW_GROUPS_TOKEN *** (set, not shown)" in lines
    assert "token-of-a-gone-server" not in text and "Traceback" not in text


async def test_deploy_and_deployments(
    deploy_server, sklearn_model, bindings, jp_fetch, jp_serverapp, jp_client
):
    from support.deploying import predictions, register_version

    model_dir, rows, expected = sklearn_model
    version, _ = register_version(deploy_server, "magic-iris", model_dir)
    bindings.write({"groups": {"dep": {"tracking_uri": deploy_server.url}}})
    kernel = await start_kernel(jp_fetch)

    cell = await run_cell(jp_serverapp, kernel, f"%mlflow_group deploy magic-iris {version}")
    assert cell.ok and cell.stderr == ""
    shown = await run_cell(
        jp_serverapp, kernel, widget_text_code(cell.results[0][WIDGET_VIEW]["model_id"])
    )
    assert f"Deploy magic-iris v{version}" in shown.stdout
    assert "Deploy to + new deployment" in shown.stdout  # without --to: the person chooses
    assert "Name magic-iris" in shown.stdout  # a name to start from

    cell = await run_cell(
        jp_serverapp, kernel, f"%mlflow_group deploy magic-iris {version} --to magic-prod"
    )
    assert cell.ok and cell.stderr == ""
    model_id = cell.results[0][WIDGET_VIEW]["model_id"]
    wait = (
        "from ipywidgets.widgets.widget import _instances\n"
        f"assert _instances[{model_id!r}].finished.wait(300)"
    )
    assert (await run_cell(jp_serverapp, kernel, wait, timeout=320)).ok
    shown = await run_cell(jp_serverapp, kernel, widget_text_code(model_id))
    assert f"Deployed magic-iris v{version} → magic-prod: " in shown.stdout

    listing = "df = %mlflow_group deployments\nprint(df.to_json(orient='records'))"
    (row,) = await printed(jp_serverapp, kernel, listing)
    assert (row["name"], row["model"], row["version"], row["status"]) == (
        "magic-prod",
        "magic-iris",
        version,
        "serving",
    )
    invocations = row["invocations_url"]  # what answers, as a full URL: not the bare endpoint
    assert invocations.startswith("http://") and invocations.endswith(
        "/mlflow-groups/groups/dep/deployments/magic-prod/invocations"
    )
    endpoint = invocations.removesuffix("invocations")
    assert await predictions(jp_client, endpoint, rows) == expected

    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group stop magic-prod")
    assert cell.ok and cell.stderr == ""
    assert cell.stdout.startswith("Stopped the deployment 'magic-prod' of group 'dep'")
    assert (await printed(jp_serverapp, kernel, listing))[0]["status"] == "stopped"
    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group start magic-prod", timeout=320)
    assert cell.ok and cell.stderr == "", cell.stderr
    assert f"'magic-prod' serves magic-iris v{version} again." in cell.stdout
    assert f"Invocations URL (POST JSON, with your Jupyter token): {invocations}" in cell.stdout
    assert 'client.predict("magic-prod", pd.DataFrame(' in cell.stdout
    assert await predictions(jp_client, endpoint, rows) == expected
    cell = await run_cell(jp_serverapp, kernel, "%mlflow_group remove magic-prod")
    assert cell.ok and cell.stdout.startswith("Removed the deployment 'magic-prod' of group 'dep'")
    for command in ("stop", "start", "remove"):
        cell = await run_cell(jp_serverapp, kernel, f"%mlflow_group {command} magic-prod")
        assert cell.ok and cell.stdout == "" and "Traceback" not in cell.everything
        assert cell.stderr.splitlines() == [
            "Group 'dep' has no deployment named 'magic-prod'.",
            "What to do: Check the name: the group's deployments are listed by "
            "%mlflow_group deployments, DeploymentsPanel() and the sidebar.",
        ]

    bad = await run_cell(jp_serverapp, kernel, "%mlflow_group deploy magic-iris")
    assert not bad.ok and "usage: %mlflow_group deploy" in bad.stderr
    assert "Traceback" not in bad.everything
