"""The deployment sub-commands: deploy, deployments, stop, start, remove."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .common import say, server_client

if TYPE_CHECKING:
    from ..client import ServerClient

START_WAIT_SECONDS = 300  # `start` follows a model server coming up that long


def _deploy(args: argparse.Namespace) -> None:
    from IPython.display import display

    from ..widgets import DeployPanel

    name = " ".join(args.name)
    panel = DeployPanel(
        name,
        args.version,
        client=server_client(),
        deployment=args.to,
        start=bool(args.to),
        follow=args.follow,
    )
    display(panel)


def _deployments(args: argparse.Namespace) -> Any:
    client = server_client()
    group = client.default_group()
    deployments = client.deployments(group)["deployments"]
    import pandas as pd

    if not deployments:
        print(f"Group '{group}' has no deployments yet: %mlflow_group deploy NAME VERSION.")
    columns = ["name", "model", "version", "status", "invocations_url", "updated_at"]
    columns += ["updated_by", "follows"]
    rows = [
        {
            **{c: d.get(c) for c in columns},
            "invocations_url": _full_url(client, d),
            "follows": d["requested"] if d.get("follow") else None,
        }
        for d in deployments
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["updated_at"] = pd.to_datetime(frame["updated_at"], utc=True)
    return frame


def _stop(args: argparse.Namespace) -> None:
    client = server_client()
    group = client.default_group()
    client.stop_deployment(group, args.deployment)
    print(
        f"Stopped the deployment '{args.deployment}' of group '{group}': it stays stopped, "
        f"across Jupyter restarts too, until %mlflow_group start {args.deployment}."
    )


def _start(args: argparse.Namespace) -> None:
    import time

    client = server_client()
    group, name = client.default_group(), args.deployment
    deployment = client.start_deployment(group, name)
    if deployment["status"] == "starting":
        print(f"Starting the model server of '{name}'…", flush=True)
    deadline = time.monotonic() + START_WAIT_SECONDS
    while deployment["status"] == "starting" and time.monotonic() < deadline:
        time.sleep(0.25)
        deployment = client.deployment(group, name)
    if deployment["status"] == "serving":
        version = deployment.get("version")
        print(f"'{name}' serves {deployment['model']} v{version} again.")
        _show_calling(client, deployment)
    elif deployment["status"] == "starting":
        print(f"'{name}' is still starting: see %mlflow_group deployments in a moment.")
    else:
        say(
            f"'{name}' did not start: {deployment.get('message') or deployment['status']}.",
            "Deploy a version to it again, or see the Jupyter server's log.",
        )


def _remove(args: argparse.Namespace) -> None:
    client = server_client()
    group = client.default_group()
    client.delete_deployment(group, args.deployment)
    print(
        f"Removed the deployment '{args.deployment}' of group '{group}': its model server "
        "stopped and its files are deleted (the registered model is unchanged)."
    )


def _full_url(client: ServerClient, deployment: dict[str, Any]) -> str | None:
    path = deployment.get("invocations_url")
    return client.absolute(path) if path else None


def _show_calling(client: ServerClient, deployment: dict[str, Any]) -> None:
    """Where a local deployment answers, and the code that calls it from this notebook."""
    from ..client import ApiFailure, NotConnected
    from ..snippets import input_columns, predict_snippet

    url = _full_url(client, deployment)
    if not url:
        return
    try:
        detail = client.version(deployment["group"], deployment["model"], deployment["version"])
        columns = input_columns(detail.get("signature"))
    except (ApiFailure, NotConnected):  # only the example's columns: the command still works
        columns = input_columns(None)
    print(f"Invocations URL (POST JSON, with your Jupyter token): {url}")
    print("From this notebook:")
    print(predict_snippet(deployment["group"], deployment["name"], columns))


#: The sub-commands of this module, by name.
SUBCOMMANDS: dict[str, Callable[[argparse.Namespace], Any]] = {
    "deploy": _deploy,
    "deployments": _deployments,
    "stop": _stop,
    "start": _start,
    "remove": _remove,
}
