"""Secrets reach kernels' environments and nothing else: no REST body, log line, kernel
output, widget state or file the server writes.

The copy workers and model servers of a group also run with its environment: they act for
the group (download its artifacts, serve its models). What they print and write is checked too."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from support.deploying import deploy, follow, register_version
from support.extension import service_of
from support.kernels import kernel_env, restart_kernel, run_in_kernel, start_kernel, start_session
from support.rest import fetch_json
from support.servers import ADMIN_PASSWORD, ADMIN_USER

API = ("mlflow-groups", "api")
WRONG_PASSWORD = "wrong-pw-secret-e19b"
TOKEN = "token-secret-2f7a"
AWS_KEY_ID = "AKID-secret-0c55"
AWS_SECRET = "aws-secret-9d1b=="
FILE_SECRET = "file-secret-4b8e"
SECRETS = [ADMIN_PASSWORD, WRONG_PASSWORD, TOKEN, AWS_KEY_ID, AWS_SECRET, FILE_SECRET]
MODEL = "secrets-model"
#: Every magic, on the good group then on the wrong one (refusals and failures included).
MAGIC_LINES = [
    "", "list", "status", "env", "models", f"versions {MODEL}", f"show {MODEL} 1", "browse",
    "deployments", "use wrong", "", "status", "env", "models", f"versions {MODEL}",
    f"deploy {MODEL} 1 --to from-wrong", "use broken", "status", "use good",
]  # fmt: skip
RUN_MAGICS = f"""
from IPython import get_ipython
for line in {MAGIC_LINES!r}:
    try:
        print(repr(get_ipython().run_line_magic("mlflow_group", line)))
    except Exception as error:  # a refusal is shown to the user too
        print(repr(error))
"""
WIDGET_STATE = """
import json
from ipywidgets.widgets.widget import _instances
print(json.dumps([w.get_state() for w in list(_instances.values())], default=str))
"""


@pytest.fixture
def secret_bindings(mlflow_servers, bindings, monkeypatch, tmp_path):
    """Groups whose secrets are distinctive values, literal and by reference: `good` (right
    credentials), `wrong` (a wrong password) and `broken` (invalid)."""
    secret_file = tmp_path / "aws-secret"
    secret_file.write_text(FILE_SECRET + "\n")
    monkeypatch.setenv("TEST_AWS_SECRET", AWS_SECRET)
    bindings.write(
        {
            "groups": {
                "good": {
                    "tracking_uri": mlflow_servers.auth.url,
                    "tracking_env": {
                        "MLFLOW_TRACKING_USERNAME": ADMIN_USER,
                        "MLFLOW_TRACKING_PASSWORD": ADMIN_PASSWORD,
                        "MLFLOW_TRACKING_TOKEN": TOKEN,
                    },
                    "artifact_env": {
                        "AWS_ACCESS_KEY_ID": AWS_KEY_ID,
                        "AWS_SECRET_ACCESS_KEY": "${env:TEST_AWS_SECRET}",
                        "AWS_SESSION_TOKEN": f"${{file:{secret_file}}}",
                    },
                },
                "wrong": {
                    "tracking_uri": mlflow_servers.auth.url,
                    "tracking_env": {
                        "MLFLOW_TRACKING_USERNAME": ADMIN_USER,
                        "MLFLOW_TRACKING_PASSWORD": WRONG_PASSWORD,
                    },
                },
                "broken": {
                    "tracking_uri": f"http://{ADMIN_USER}:{WRONG_PASSWORD}@host.invalid",
                    "tracking_env": {"MLFLOW_TRACKING_PASSWORD": TOKEN},  # no username: invalid
                },
            }
        }
    )
    return bindings


async def test_no_secret_in_any_response_or_log_line(
    secret_bindings, jp_fetch, jp_serverapp, caplog
):
    bodies = []
    with caplog.at_level(logging.DEBUG):
        for method, parts, body in [
            ("GET", ("groups",), None),
            ("GET", ("groups", "good", "status"), None),
            ("GET", ("groups", "wrong", "status"), None),
            ("GET", ("groups", "broken", "status"), None),
            ("PUT", ("active",), {"group": "wrong"}),
            ("PUT", ("active",), {"group": "broken"}),
            ("PUT", ("active",), {"group": "good"}),
            ("PUT", ("active",), {"group": "ghost"}),
            ("PUT", ("active",), "{bad json"),
        ]:
            _, response = await fetch_json(jp_fetch, *API, *parts, method=method, body=body)
            bodies.append(str(response))
        kernel = await start_kernel(jp_fetch)
        env = await kernel_env(jp_serverapp, kernel)
        await restart_kernel(jp_fetch, kernel)
        await start_session(jp_fetch)
        for parts in (("api", "kernelspecs"), ("api", "kernels"), ("api", "sessions")):
            bodies.append((await jp_fetch(*parts)).body.decode())

    # The kernel did get every secret ...
    assert env["MLFLOW_TRACKING_PASSWORD"] == ADMIN_PASSWORD
    assert env["MLFLOW_TRACKING_TOKEN"] == TOKEN
    assert env["AWS_SECRET_ACCESS_KEY"] == AWS_SECRET
    assert env["AWS_SESSION_TOKEN"] == FILE_SECRET
    # ... and nothing else did.
    log_text = caplog.text
    assert "gets group 'good'" in log_text  # the log was captured
    assert env["JUPYTER_MLFLOW_GROUPS_TOKEN"]  # the kernel's own token is a secret too
    for secret in [*SECRETS, env["JUPYTER_MLFLOW_GROUPS_TOKEN"]]:
        assert secret not in log_text, secret
        for body in bodies:
            assert secret not in body, (secret, body[:200])


def written_text(root: Path, *, besides: set[Path]) -> dict[str, str]:
    """{path: text} of every file under root (what the server, its workers and model servers
    wrote), but for the files the test wrote its secrets into."""
    return {
        str(path): path.read_text(errors="replace")
        for path in root.rglob("*")
        if path.is_file() and path not in besides
    }


async def test_no_secret_in_browse_deploy_magics_widgets_or_files(
    secret_bindings, mlflow_servers, sklearn_model, jp_fetch, jp_serverapp, caplog, tmp_path
):
    auth = mlflow_servers.auth
    version, _ = register_version(auth, MODEL, sklearn_model[0])
    query = f"/api/2.0/mlflow/model-versions/get?name={MODEL}&version={version}"
    run_id = auth.request("GET", query)["model_version"]["run_id"]
    auth.request(
        "POST",
        "/api/2.0/mlflow/runs/log-metric",
        {"run_id": run_id, "key": "loss", "value": 0.5, "timestamp": 1, "step": 0},
    )
    bodies: list[str] = []
    messages: list[dict] = []
    with caplog.at_level(logging.DEBUG):
        for group in ("good", "wrong", "broken"):
            for parts in [
                ("models",),
                ("models", MODEL),
                ("models", MODEL, "versions", version),
                ("runs", run_id, "metrics", "loss"),
                ("deployments",),
            ]:
                _, response = await fetch_json(jp_fetch, *API, "groups", group, *parts)
                bodies.append(json.dumps(response))
            status, started = await deploy(jp_fetch, group, f"from-{group}", MODEL, version)
            bodies.append(json.dumps(started))
            if status == 202:
                bodies.append(json.dumps(await follow(jp_fetch, started["job"]["id"])))
        _, deployed = await fetch_json(jp_fetch, *API, "groups", "good", "deployments", "from-good")
        bodies.append(json.dumps(deployed))

        kernel = await start_kernel(jp_fetch)
        env = await kernel_env(jp_serverapp, kernel)
        printed = await run_in_kernel(jp_serverapp, kernel, RUN_MAGICS, 120, messages)
        jobs = service_of(jp_serverapp).deployments.jobs
        (job_id,) = [i for i, job in jobs.items() if job.deployment == "from-wrong"][1:]
        from_wrong = await follow(jp_fetch, job_id)  # the magic's job (the first was REST's)
        bodies.append(json.dumps(from_wrong))
        printed += await run_in_kernel(jp_serverapp, kernel, WIDGET_STATE, 60, messages)
        for parts in (("api", "kernelspecs"), ("api", "kernels"), ("api", "sessions")):
            bodies.append((await jp_fetch(*parts)).body.decode())

    # Every flow really ran: a deployment served, the magics answered, the wrong group failed.
    assert deployed["status"] == "serving", deployed
    assert "from-good" in printed  # "Deployed By" in the versions table
    assert "Status: unauthorized" in printed, printed[-2000:]
    assert from_wrong[-1]["state"] == "failed", from_wrong[-1]
    assert any(m["msg_type"] == "comm_open" for m in messages)  # widget state was published
    kernel_output = json.dumps([m["content"] for m in messages], default=str)
    files = written_text(tmp_path, besides={secret_bindings.path, tmp_path / "aws-secret"})
    assert any(name.endswith("jobs.log") for name in files), sorted(files)
    # The kernel got the secrets; nothing else kept or showed any.
    assert env["MLFLOW_TRACKING_PASSWORD"] == ADMIN_PASSWORD
    for secret in [*SECRETS, env["JUPYTER_MLFLOW_GROUPS_TOKEN"]]:
        assert secret not in caplog.text, secret
        assert secret not in kernel_output, secret
        for body in bodies:
            assert secret not in body, (secret, body[:300])
        for name, text in files.items():
            assert secret not in text, (secret, name)


async def test_a_secret_resolved_into_a_tracking_uri_is_never_shown(
    bindings, jp_fetch, caplog, monkeypatch, closed_url
):
    """An admin put a token in the tracking URI's path through a reference: status, browse and a
    failed deploy name the URI as written, never what the reference resolved to."""
    url_secret = "url-secret-7c3e"
    monkeypatch.setenv("TEAM_URL_TOKEN", url_secret)
    bindings.write(
        {"groups": {"g": {"tracking_uri": f"{closed_url}/token-${{env:TEAM_URL_TOKEN}}"}}}
    )
    bodies = []
    with caplog.at_level(logging.DEBUG):
        _, groups = await fetch_json(jp_fetch, *API, "groups")
        _, status = await fetch_json(jp_fetch, *API, "groups", "g", "status")
        _, models = await fetch_json(jp_fetch, *API, "groups", "g", "models")
        _, started = await deploy(jp_fetch, "g", "from-url", MODEL, "1")
        job = (await follow(jp_fetch, started["job"]["id"]))[-1]
        bodies += [json.dumps(body) for body in (groups, status, models, job)]
    assert groups["groups"][0]["ui"] == "proxy"  # its URL may hold a secret: never linked
    assert status["code"] == "unreachable" and "${env:TEAM_URL_TOKEN}" in status["message"]
    assert models["error"]["code"] == "unreachable"
    assert job["state"] == "failed" and job["error"]["code"] == "unreachable"
    for text in [*bodies, caplog.text]:
        assert url_secret not in text
