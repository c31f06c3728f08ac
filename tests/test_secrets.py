"""Secrets reach kernels' environments and nothing else: no REST body, no log line."""

from __future__ import annotations

import logging

from conftest import fetch_json
from kernels import kernel_env, restart_kernel, start_kernel, start_session
from servers import ADMIN_PASSWORD, ADMIN_USER

API = ("mlflow-groups", "api")
WRONG_PASSWORD = "wrong-pw-secret-e19b"
TOKEN = "token-secret-2f7a"
AWS_KEY_ID = "AKID-secret-0c55"
AWS_SECRET = "aws-secret-9d1b=="
FILE_SECRET = "file-secret-4b8e"


async def test_no_secret_in_any_response_or_log_line(
    mlflow_servers, bindings, jp_fetch, jp_serverapp, caplog, monkeypatch, tmp_path
):
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
    secrets = [ADMIN_PASSWORD, WRONG_PASSWORD, TOKEN, AWS_KEY_ID, AWS_SECRET, FILE_SECRET]
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
    for secret in [*secrets, env["JUPYTER_MLFLOW_GROUPS_TOKEN"]]:
        assert secret not in log_text, secret
        for body in bodies:
            assert secret not in body, (secret, body[:200])
