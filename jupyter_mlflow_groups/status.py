"""Is a group's MLflow usable? Configured, reachable, authenticated, which version, how fast.

The check is bounded by a timeout and runs on the event loop without blocking it (async HTTP;
the rare filesystem check runs in an executor).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from .bindings import GroupBinding, UnusableBinding, env_for
from .errors import MlflowError, not_mlflow_api
from .mlflow_http import MlflowHttp
from .upstream import HttpClients, Upstream

_REGISTRY_PROBE = "/api/2.0/mlflow/registered-models/search"
_VERSION = re.compile(r"^\d+\.\d+[\w.+-]*$")


async def check_status(
    binding: GroupBinding,
    described: Mapping[str, Any],
    upstream: Upstream | None,
    clients: HttpClients,
    timeout: float,
) -> dict[str, Any]:
    """The status report of one group: `described` is the group as the API shows it, and
    `upstream` where the server reaches its MLflow (None: not an HTTP server, or a managed
    one not started yet)."""
    report: dict[str, Any] = {
        "group": binding.name,
        "mode": binding.mode,
        "tracking_uri": described["tracking_uri"],
        "ui_url": described["ui_url"],
        "configured": False,
        "reachable": None,
        "checked": False,
        "ok": False,
        "server_version": None,
        "auth": binding.auth_scheme,
        "auth_ok": None,
        "latency_ms": None,
        "checked_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    try:
        env = env_for(binding)
    except UnusableBinding as error:
        message = f"MLflow is not configured for group '{binding.name}': {error}"
        return _fail(report, MlflowError("not_configured", message))
    uri = env.get("MLFLOW_TRACKING_URI")
    if upstream is None and not uri:
        message = f"Group '{binding.name}' has no MLflow server running for it yet"
        return _fail(report, MlflowError("not_configured", message))
    report["configured"] = True
    if upstream is not None:
        http = MlflowHttp(upstream, clients.for_upstream(upstream))
        return await _check_http(report, http, env.get("MLFLOW_WORKSPACE"), timeout)
    assert uri is not None
    scheme = urlsplit(uri).scheme.split("+", 1)[0].lower()
    if scheme in ("file", "sqlite"):
        return await _check_local(report, uri)
    report.update(
        ok=True,
        code="ok",
        hint="",
        message=f"{described['tracking_uri']} is not an HTTP server: kernels use it "
        "directly and the server does not check it",
    )
    return report


async def _check_http(
    report: dict[str, Any], http: MlflowHttp, workspace: str | None, timeout: float
) -> dict[str, Any]:
    # In order of diagnosis, most specific first: the first failure is the one reported (a bad
    # workspace also fails the other calls, with a vaguer message).
    checks = [_check_workspace(http, workspace, timeout)] if workspace else []
    checks.append(http.get("/version", timeout=timeout))
    checks.append(http.get_json(_REGISTRY_PROBE, {"max_results": 1}, timeout=timeout))
    outcomes = await asyncio.gather(*checks, return_exceptions=True)
    report["checked"] = True
    for outcome in outcomes:
        if isinstance(outcome, MlflowError):
            reached = outcome.status is not None
            report.update(
                reachable=reached,
                auth_ok=(outcome.code != "unauthorized") if reached else None,
            )
            return _fail(report, outcome)
        if isinstance(outcome, BaseException):
            raise outcome
    response, elapsed = outcomes[-2]
    server_version = response.body.decode("utf-8", "replace").strip()
    report.update(reachable=True, auth_ok=True)
    if not _VERSION.match(server_version):
        return _fail(
            report,
            MlflowError(
                "mlflow_error",
                not_mlflow_api(http.shown_url, "/version", "something that is not a version"),
                response.code,
            ),
        )
    report.update(
        ok=True,
        code="ok",
        server_version=server_version,
        latency_ms=round(elapsed * 1000, 1),
        message=f"MLflow {server_version} at {http.shown_url} answered in {elapsed * 1000:.0f} ms",
        hint="",
    )
    return report


async def _check_workspace(http: MlflowHttp, workspace: str, timeout: float) -> None:
    """The bound workspace exists, the credentials may use it, and the server has workspaces."""
    try:
        await http.get(
            f"/api/3.0/mlflow/workspaces/{quote(workspace)}", timeout=timeout, in_workspace=False
        )
    except MlflowError as error:
        if error.code == "forbidden":
            message = f"The group's credentials have no access to the workspace '{workspace}'"
        elif error.code == "not_found":
            message = f"MLflow at {http.shown_url} has no workspace '{workspace}'"
        elif error.status == 503:
            message = (
                f"MLflow at {http.shown_url} runs without workspaces, but the group is bound to "
                f"the workspace '{workspace}': remove it or run MLflow with --enable-workspaces"
            )
        else:
            raise
        raise MlflowError(error.code, message, error.status) from None


async def _check_local(report: dict[str, Any], uri: str) -> dict[str, Any]:
    parts = urlsplit(uri)
    if parts.scheme == "file":
        directory = Path(unquote(parts.path))
    else:  # sqlite:///relative.db or sqlite:////absolute.db
        directory = Path(unquote(parts.path[1:])).parent
    exists = await asyncio.get_running_loop().run_in_executor(None, directory.is_dir)
    report["checked"] = True
    if not exists:
        report["reachable"] = False
        return _fail(
            report,
            MlflowError("unreachable", f"directory {directory} does not exist on the server"),
        )
    report.update(
        reachable=True,
        ok=True,
        code="ok",
        hint="",
        message=f"local store under {directory} (no server to ask for a version)",
    )
    return report


def _fail(report: dict[str, Any], error: MlflowError) -> dict[str, Any]:
    report.update(ok=False, code=error.code, message=error.message, hint=error.hint)
    return report
