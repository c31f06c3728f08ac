"""The group sub-commands: the overview, list, use (switching this kernel too), status, env."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from .common import NO_SERVER, mask, print_environment, say, server_client, show_link

#: The group each MLflow run was started in, noted when a switch finds the run active, so
#: switching back to finish it does not warn again.
_RUN_HOMES: dict[str, str | None] = {}


def _overview(args: argparse.Namespace) -> None:
    from ..client import kernel_group

    client = server_client()
    groups = client.groups()
    mine, active = kernel_group(), groups.get("active")
    name = mine or active
    if name is None:
        print("You are in no MLflow group: ask an admin to add you to one.")
        return
    where = "this kernel's group" if mine else "the active group; this kernel carries none"
    if mine and active == mine:
        where += ", and the active group"
    print(f"MLflow group: {name} ({where})")
    if mine and active and active != mine:
        print(
            f"  New kernels get '{active}'; this kernel keeps '{mine}' until it restarts "
            f"or you run %mlflow_group use {active}"
        )
    binding = _binding(groups, name)
    if binding is None:
        print(f"  '{name}' is not one of your groups any more: restart the kernel.")
        return
    for label, value in _binding_lines(binding):
        print(f"  {label:<14} {value}")
    if binding.get("ui_url"):
        show_link(binding["ui_url"], f"Open the MLflow UI of '{name}'")
    report = client.status(name)
    state = "OK" if report.get("ok") else report.get("code", "error")
    print(f"Status: {state}: {report.get('message', '')}")
    if report.get("hint"):
        print(f"  What to do: {report['hint']}")


def _list(args: argparse.Namespace) -> None:
    from ..client import kernel_group

    groups = server_client().groups()
    rows = groups.get("groups", [])
    if not rows:
        print("You are in no MLflow group: ask an admin to add you to one.")
        return
    print("Your MLflow groups (* the active group, which new kernels get):")
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        marker = "*" if row.get("active") else " "
        where = row.get("tracking_uri") or "no tracking URI"
        if not row.get("valid", True):
            where = f"not configured (see %mlflow_group status {row['name']})"
        mine = "  <- this kernel" if row["name"] == kernel_group() else ""
        print(f"{marker} {row['name']:<{width}}  {where}{mine}")
    for error in groups.get("errors", []):
        print(f"Note: the bindings have a problem: {error}")


def _use(args: argparse.Namespace) -> None:
    from ..client import kernel_group

    client = server_client()
    environment = client.kernel_environment(args.name)  # refused unless you are a member
    client.set_active(args.name)
    previous, run = kernel_group(), _active_run()
    before = dict(os.environ)
    _reset_mlflow()
    for name in environment["unset"]:
        os.environ.pop(name, None)
    os.environ.update(environment["set"])
    removed = sorted(name for name in before if name not in os.environ)
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    print(
        f"This kernel now uses the MLflow group '{args.name}'"
        + (f" (was '{previous}')" if previous and previous != args.name else "")
        + (f": MLflow at {mask(uri)}." if uri else ".")
    )
    print(f"  set: {', '.join(sorted(environment['set']))}")
    if removed:
        print(f"  removed: {', '.join(removed)}")
    print(
        f"New kernels use the group '{args.name}'. Other running kernels keep their group "
        "until they are restarted."
    )
    if not uri:
        say(
            f"Warning: group '{args.name}' has no usable MLflow binding, so MLflow is not "
            "configured in this kernel.",
            "See %mlflow_group status.",
        )
    home = _RUN_HOMES.setdefault(run, previous) if run else None
    if run and home != args.name:
        where = f"the MLflow of group '{home}'" if home else "the previous MLflow"
        back = f"%mlflow_group use {home}" if home else "switch back"
        say(
            f"Warning: MLflow run {run} is still active, on {where}: logging to it now "
            "fails, and so does starting a new run.",
            f"To finish it: {back}, mlflow.end_run(), then %mlflow_group use {args.name}.",
        )


def _status(args: argparse.Namespace) -> None:
    client = server_client()
    group = args.name or client.default_group()
    report = client.status(group)
    if report.get("ok"):
        print(f"MLflow group '{group}': OK")
    else:
        print(f"MLflow group '{group}': {report.get('code', 'error').replace('_', ' ')}")
    print(f"  {report.get('message', '')}")
    if report.get("hint"):
        print(f"  What to do: {report['hint']}")
    facts = [
        f"tracking URI {report.get('tracking_uri') or '—'}",
        f"auth {report.get('auth', 'none')}",
    ]
    if report.get("server_version"):
        facts.append(f"MLflow {report['server_version']}")
    if report.get("latency_ms") is not None:
        facts.append(f"{report['latency_ms']:.0f} ms")
    from ..formatting import format_time

    print(f"  {' · '.join(facts)} · checked at {format_time(report.get('checked_at'))}")


def _env(args: argparse.Namespace) -> None:
    from ..client import NotConnected, kernel_group

    extra: set[str] = set()
    try:
        binding = _binding(server_client().groups(), kernel_group())
    except NotConnected as error:
        print(f"{NO_SERVER} {error}")
        binding = None
    if binding is not None:
        extra = {*binding.get("tracking_env", {}), *binding.get("artifact_env", {})}
    group = f"group {kernel_group()}" if kernel_group() else "no group"
    print_environment(f"MLflow environment of this kernel ({group}):", extra)


def _binding(groups: dict[str, Any], name: str | None) -> dict[str, Any] | None:
    return next((row for row in groups.get("groups", []) if row["name"] == name), None)


def _binding_lines(binding: dict[str, Any]) -> list[tuple[str, str]]:
    """A binding summary from the REST API (which masks secrets) as label/value lines."""
    lines = [
        ("mode", binding.get("mode") or "external"),
        ("tracking URI", binding.get("tracking_uri") or "—"),
        ("MLflow UI", binding.get("ui_url") or "—"),
        ("registry URI", binding.get("registry_uri") or "the tracking URI"),
        ("workspace", binding.get("workspace") or "—"),
        ("credentials", _masked_env(binding.get("tracking_env", {}), binding.get("auth"))),
        ("artifact store", _masked_env(binding.get("artifact_env", {}))),
    ]
    for problem in binding.get("problems", []):
        lines.append(("problem", f"{problem['field']}: {problem['message']}"))
    return lines


def _masked_env(env: dict[str, dict[str, Any]], scheme: str | None = None) -> str:
    shown = []
    for name, item in sorted(env.items()):
        if item.get("secret"):
            shown.append(f"{name}=***")
        elif item.get("set"):
            shown.append(f"{name}={item.get('value')}")
        else:
            shown.append(f"{name} (unresolved)")
    text = ", ".join(shown) or "—"
    return f"{scheme}: {text}" if scheme and scheme != "none" else text


def _active_run() -> str | None:
    """The id of this thread's active MLflow run, if MLflow is in use at all."""
    mlflow = sys.modules.get("mlflow")
    run = getattr(mlflow, "active_run", lambda: None)()
    return run.info.run_id if run is not None else None


def _reset_mlflow() -> None:
    """MLflow keeps what code set (tracking and registry URIs, workspace, experiment, run and
    model ids, S3 clients with their credentials) in module state that wins over the
    environment, and boto3 keeps the credentials it first read: forget them, so both follow
    the new group's variables. MLflow never imported reads the environment when it is."""
    if "boto3" in sys.modules:
        sys.modules["boto3"].DEFAULT_SESSION = None  # its session caches the old credentials
    mlflow = sys.modules.get("mlflow")
    if mlflow is None:
        return
    mlflow.set_tracking_uri(None)  # also unsets MLFLOW_TRACKING_URI and resets tracing
    mlflow.set_registry_uri(None)
    if hasattr(mlflow, "set_workspace"):
        mlflow.set_workspace(None)  # a context variable, and MLFLOW_WORKSPACE
    fluent = sys.modules.get("mlflow.tracking.fluent")
    if fluent is not None:
        fluent._active_experiment_id = None  # mlflow.set_experiment()
        for state in ("_last_active_run_id", "_last_logged_model_id"):
            if hasattr(fluent, state):
                getattr(fluent, state).set(None)
    if getattr(mlflow, "get_active_model_id", lambda: None)() is not None:
        mlflow.clear_active_model()
    s3 = sys.modules.get("mlflow.store.artifact.s3_artifact_repo")
    if s3 is not None and hasattr(s3, "_cached_get_s3_client"):
        s3._cached_get_s3_client.cache_clear()  # keyed without the env's credentials


#: The sub-commands of this module, by name.
SUBCOMMANDS: dict[str, Callable[[argparse.Namespace], Any]] = {
    "overview": _overview,
    "list": _list,
    "use": _use,
    "status": _status,
    "env": _env,
}
