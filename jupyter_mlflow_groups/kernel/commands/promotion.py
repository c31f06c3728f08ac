"""The promotion sub-commands: promote and unalias (by the group's policy), requests, approve
and reject."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .common import server_client


def _promote(args: argparse.Namespace) -> None:
    client = server_client()
    group, name, alias = client.default_group(), " ".join(args.name), args.alias.lstrip("@")
    _say_change(client.set_alias(group, name, alias, args.version, args.reason))


def _unalias(args: argparse.Namespace) -> None:
    client = server_client()
    group, name, alias = client.default_group(), " ".join(args.name), args.alias.lstrip("@")
    _say_change(client.remove_alias(group, name, alias, args.reason))


def _say_change(answer: dict[str, Any]) -> None:
    if answer["applied"]:
        print(f"{_change_text(answer['record'])}: done.")
        return
    request = answer["request"]
    print(
        f"{_change_text(request)}: @{request['alias']} is protected, so this is a request "
        f"({request['id']}) that the group's admins approve or reject "
        "(%mlflow_group requests lists it)."
    )


def _change_text(record: dict[str, Any]) -> str:
    alias, model = f"@{record['alias']}", f"'{record['model']}'"
    before = f" (was v{record['previous']})" if record.get("previous") else ""
    if record["action"] == "remove":
        return f"Remove {alias} of {model}{before}"
    return f"Point {alias} of {model} at v{record['version']}{before}"


def _requests(args: argparse.Namespace) -> Any:
    client = server_client()
    group = client.default_group()
    requests = client.requests(group, everything=args.all)["requests"]
    import pandas as pd

    if not requests:
        what = "recorded alias changes" if args.all else "pending requests"
        print(f"Group '{group}' has no {what}.")
    columns = ["id", "model", "alias", "action", "version", "previous", "status"]
    columns += ["requested_by", "requested_at", "reason", "decided_by", "decided_at", "comment"]
    frame = pd.DataFrame([{c: r.get(c) for c in columns} for r in requests], columns=columns)
    for column in ("requested_at", "decided_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _approve(args: argparse.Namespace) -> None:
    _decide(args, approve=True)


def _reject(args: argparse.Namespace) -> None:
    _decide(args, approve=False)


def _decide(args: argparse.Namespace, approve: bool) -> None:
    client = server_client()
    request = client.decide(client.default_group(), args.request, approve, args.comment)
    verdict = "Approved" if approve else "Rejected"
    print(
        f"{verdict} request {request['id']} of {request['requested_by']}: {_change_text(request)}."
    )


#: The sub-commands of this module, by name.
SUBCOMMANDS: dict[str, Callable[[argparse.Namespace], Any]] = {
    "promote": _promote,
    "unalias": _unalias,
    "requests": _requests,
    "approve": _approve,
    "reject": _reject,
}
