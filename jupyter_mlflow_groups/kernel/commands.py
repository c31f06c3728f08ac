"""The `%mlflow_group` sub-commands: parsing a line, and doing what it asks.

Imported by the magic on its first use, not when a kernel loads the extension
(`magics.py`), so that loading costs a kernel next to nothing. The REST client (requests),
pandas and the widgets are imported when a sub-command needs them, and MLflow never is.
"""

from __future__ import annotations

import argparse
import functools
import os
import shlex
import sys
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, NoReturn

from IPython.core.error import UsageError

if TYPE_CHECKING:
    from .client import ServerClient

#: Variables whose values `env` and the overview may show (through mask_uri), besides
#: contract.PUBLIC_VARIABLES. Every other value is a possible secret: shown as set, never read.
SHOWN_VARIABLES = frozenset(
    {"MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_WORKSPACE", "JUPYTER_MLFLOW_GROUP"}
)
#: Prefixes of the variables `env` lists, besides the names the group's binding sets.
LISTED_PREFIXES = ("MLFLOW_", "AWS_", "JUPYTER_MLFLOW_")
HIDDEN = "*** (set, not shown)"
NO_SERVER = "No Jupyter server with jupyter-mlflow-groups is reachable."
START_WAIT_SECONDS = 300  # `start` follows a model server coming up that long
MAX_ROWS = 10_000  # `models` stops paging there: a table, not a registry dump
PAGE = 1000  # the most MLflow returns per page
#: The group each MLflow run was started in, noted when a switch finds the run active, so
#: switching back to finish it does not warn again.
_RUN_HOMES: dict[str, str | None] = {}

#: Each command, its arguments and what it does (the help of `COMMAND --help`).
COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "list": ((), "your groups, the active one marked"),
    "use": (("NAME",), "switch the active group, and this kernel, to NAME"),
    "status": (("[NAME]",), "is the group's (or NAME's) MLflow usable? if not, what to do"),
    "env": ((), "this kernel's MLflow variables, secrets masked"),
    "models": (("[FILTER]",), "the group's registered models (FILTER: MLflow filter syntax)"),
    "versions": (("NAME...",), "a model's versions"),
    "show": (("NAME...", "VERSION"), "a version's details (VERSION: a number or @alias)"),
    "compare": (
        ("NAME...", "VERSION", "VERSION..."),
        "versions side by side: metrics (the best marked), params, tags (VERSION: a number or "
        "@alias)",
    ),
    "promote": (
        ("NAME...", "VERSION", "@ALIAS"),
        "point an alias at a version; a protected alias becomes a request the group's admins "
        "approve",
    ),
    "unalias": (("NAME...", "@ALIAS"), "remove an alias (a protected one: ask the admins to)"),
    "requests": ((), "the group's pending alias requests (--all: every recorded change)"),
    "approve": (("REQUEST",), "approve a request: the change is made (the group's admins)"),
    "reject": (("REQUEST",), "reject a request (the group's admins)"),
    "browse": ((), "the model browser"),
    "deploy": (("NAME...", "VERSION"), "deploy a version (VERSION: a number or @alias)"),
    "deployments": ((), "the group's deployments"),
    "stop": (("DEPLOYMENT",), "stop serving a deployment (it stays stopped until started)"),
    "start": (("DEPLOYMENT",), "serve a stopped deployment again, and say how to call it"),
    "remove": (("DEPLOYMENT",), "stop a deployment and delete it (the model stays registered)"),
}
TOP_USAGE = (
    "usage: %mlflow_group [COMMAND]    (details: %mlflow_group --help)\n  COMMAND: "
    + " | ".join(
        " ".join([name, *(word.rstrip(".") for word in words)])
        for name, (words, _) in COMMANDS.items()
    )
    + "\n"
)


class _Done(Exception):
    """argparse printed the help and wants to exit: a magic must not end the kernel."""


class _BadUsage(Exception):
    def __init__(self, usage: str, message: str) -> None:
        super().__init__(message)
        self.usage, self.message = usage, message


class _Parser(argparse.ArgumentParser):
    """argparse that reports to the magic instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise _BadUsage(self.format_usage(), message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise _Done()


@functools.cache
def _parser(command: str) -> _Parser:
    """One command's parser, built when first used (not at kernel start)."""
    names, description = COMMANDS[command]
    parser = _Parser(prog=f"%mlflow_group {command}", description=description)
    for name in names:
        metavar = name.strip("[].")
        nargs = "?" if name.startswith("[") else "+" if name.endswith("...") else None
        parser.add_argument(metavar.lstrip("@").lower(), metavar=metavar, nargs=nargs)
    if command == "compare":
        parser.add_argument("--diff", action="store_true", help="only what differs")
    if command in ("promote", "unalias"):
        parser.add_argument("--reason", default="", help="why: the record and reviewers see it")
    if command in ("approve", "reject"):
        parser.add_argument("--comment", default="", help="a word for the requester")
    if command == "requests":
        parser.add_argument("--all", action="store_true", help="decided requests and changes too")
    if command == "deploy":
        parser.add_argument(
            "--to", metavar="DEPLOYMENT", help="deploy at once to this deployment (new or existing)"
        )
        parser.add_argument(
            "--follow", action="store_true", help="(an @alias) redeploy whenever the alias moves"
        )
    return parser


def _split(text: str) -> list[str]:
    """Shell-like words; an unmatched quote (as in: it's a model) is taken literally."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def parse(line: str) -> tuple[str, argparse.Namespace] | None:
    """The command and its arguments; None when a command's help was asked for (and
    printed)."""
    command, rest = [*line.split(None, 1), "", ""][:2]
    rest = rest.strip()
    if command in ("-h", "--help", "help"):  # alone, the magic itself prints its USAGE
        raise _BadUsage(TOP_USAGE, f"unexpected: {rest}")
    if not command:
        return "", argparse.Namespace()
    if command not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(command, list(COMMANDS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise _BadUsage(TOP_USAGE, f"unknown command '{command}'{hint}")
    if command == "models" and rest and rest not in ("-h", "--help"):
        # A filter is the rest of the line as typed (its quotes are MLflow's syntax),
        # unless the whole of it is one quoted string.
        words = _split(rest)
        quoted = len(words) == 1 and rest[0] in "'\"" and rest[-1] == rest[0]
        return command, argparse.Namespace(filter=words[0] if quoted else rest)
    if command == "compare" and rest not in ("-h", "--help"):
        return command, _compare_arguments(_split(rest))
    try:
        return command, _parser(command).parse_args(_split(rest))
    except _Done:
        return None


def _compare_arguments(words: list[str]) -> argparse.Namespace:
    """The model's name (any words) and the versions after it: every trailing number or
    @alias (argparse cannot tell where a name of several words ends)."""
    differences = "--diff" in words
    words = [word for word in words if word != "--diff"]
    versions: list[str] = []
    while words and (words[-1].isdigit() or (words[-1].startswith("@") and len(words[-1]) > 1)):
        versions.insert(0, words.pop())
    if not words or len(versions) < 2:
        raise _BadUsage(
            _parser("compare").format_usage(),
            "name a model, then at least two versions (numbers or @aliases)",
        )
    return argparse.Namespace(name=words, versions=versions, diff=differences)


def run(line: str) -> Any:
    """What `%mlflow_group LINE` does: a usage error for IPython to show, or the command's
    result (a DataFrame, for the tables); the server's answers printed as what to do."""
    try:
        parsed = parse(line)
    except _BadUsage as bad:
        print(bad.usage, end="", file=sys.stderr)
        raise UsageError(bad.message) from None
    if parsed is None:
        return None
    command, args = parsed
    from .client import ApiFailure, NotConnected

    try:
        return SUBCOMMANDS[command or "overview"](args)
    except NotConnected as error:
        print(f"{NO_SERVER} {error}")
        _print_environment("This kernel's MLflow environment:")
    except ApiFailure as error:
        _say(error.message, error.hint)
    return None


# -- the group ----------------------------------------------------------------------------


def _overview(args: argparse.Namespace) -> None:
    from .client import kernel_group

    client = _client()
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
        _show_link(binding["ui_url"], f"Open the MLflow UI of '{name}'")
    report = client.status(name)
    state = "OK" if report.get("ok") else report.get("code", "error")
    print(f"Status: {state}: {report.get('message', '')}")
    if report.get("hint"):
        print(f"  What to do: {report['hint']}")


def _list(args: argparse.Namespace) -> None:
    from .client import kernel_group

    groups = _client().groups()
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
    from .client import kernel_group

    client = _client()
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
        + (f": MLflow at {_mask(uri)}." if uri else ".")
    )
    print(f"  set: {', '.join(sorted(environment['set']))}")
    if removed:
        print(f"  removed: {', '.join(removed)}")
    print(
        f"New kernels use the group '{args.name}'. Other running kernels keep their group "
        "until they are restarted."
    )
    if not uri:
        _say(
            f"Warning: group '{args.name}' has no usable MLflow binding, so MLflow is not "
            "configured in this kernel.",
            "See %mlflow_group status.",
        )
    home = _RUN_HOMES.setdefault(run, previous) if run else None
    if run and home != args.name:
        where = f"the MLflow of group '{home}'" if home else "the previous MLflow"
        back = f"%mlflow_group use {home}" if home else "switch back"
        _say(
            f"Warning: MLflow run {run} is still active, on {where}: logging to it now "
            "fails, and so does starting a new run.",
            f"To finish it: {back}, mlflow.end_run(), then %mlflow_group use {args.name}.",
        )


def _status(args: argparse.Namespace) -> None:
    client = _client()
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
    from .formatting import format_time

    print(f"  {' · '.join(facts)} · checked at {format_time(report.get('checked_at'))}")


def _env(args: argparse.Namespace) -> None:
    from .client import NotConnected, kernel_group

    extra: set[str] = set()
    try:
        binding = _binding(_client().groups(), kernel_group())
    except NotConnected as error:
        print(f"{NO_SERVER} {error}")
        binding = None
    if binding is not None:
        extra = {*binding.get("tracking_env", {}), *binding.get("artifact_env", {})}
    group = f"group {kernel_group()}" if kernel_group() else "no group"
    _print_environment(f"MLflow environment of this kernel ({group}):", extra)


# -- the registry -------------------------------------------------------------------------


def _models(args: argparse.Namespace) -> Any:
    client = _client()
    group = client.default_group()
    models, more = _all_pages(
        lambda token: client.models(group, args.filter, max_results=PAGE, page_token=token),
        "models",
        MAX_ROWS,
    )
    import pandas as pd  # only now: it takes a second to import

    if more:
        print(f"The first {len(models)} models of group '{group}' (narrow with a FILTER).")
    elif not models:
        matching = f" matches {args.filter}" if args.filter else " has a registered model"
        print(f"No model of group '{group}'{matching}.")
    frame = pd.DataFrame(
        [
            {
                "name": model["name"],
                "latest_version": model.get("latest_version"),
                "aliases": _aliases(model.get("aliases", {})),
                "last_modified": model.get("last_modified"),
                "description": model.get("description", ""),
            }
            for model in models
        ],
        columns=["name", "latest_version", "aliases", "last_modified", "description"],
    )
    frame["latest_version"] = frame["latest_version"].astype("Int64")  # None: no version
    frame["last_modified"] = pd.to_datetime(frame["last_modified"], utc=True)
    return frame


def _versions(args: argparse.Namespace) -> Any:
    client = _client()
    group, name = client.default_group(), " ".join(args.name)
    versions, _ = _all_pages(
        lambda token: client.model(group, name, max_results=PAGE, page_token=token),
        "versions",
    )
    import pandas as pd

    columns = ["version", "status", "aliases", "deployed_by", "registered_at"]
    columns += ["last_modified", "run_id", "description"]
    frame = pd.DataFrame(
        [
            {
                **{column: version.get(column) for column in columns},
                "version": int(version["version"]),
                "aliases": ", ".join(version.get("aliases", [])),
                "deployed_by": ", ".join(version.get("deployed_by", [])),
            }
            for version in versions
        ],
        columns=columns,
    )
    for column in ("registered_at", "last_modified"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _show(args: argparse.Namespace) -> None:
    from IPython.display import display

    from .widgets import VersionDetail

    display(VersionDetail(" ".join(args.name), args.version, client=_client()))


def _compare(args: argparse.Namespace) -> Any:
    client = _client()
    group, name = client.default_group(), " ".join(args.name)
    comparison = client.compare(group, name, args.versions)
    import pandas as pd

    from .formatting import column_label

    columns = {v["version"]: column_label(v) for v in comparison["versions"]}
    differing = comparison["differences"]
    rows: list[dict[str, Any]] = []
    for section, table in (
        ("metric", "metrics"), ("param", "params"), ("tag", "tags"), ("run tag", "run_tags"),
    ):  # fmt: skip
        for key, values in comparison[table].items():
            if args.diff and key not in differing[table]:
                continue
            row = {"section": section, "key": key}
            row.update({columns[number]: value for number, value in values.items()})
            best = comparison["best"].get(key, []) if section == "metric" else []
            row["best"] = ", ".join(columns[number] for number in best)
            rows.append(row)
    shown = " vs ".join(columns.values())
    signature = "differ" if differing["signature"] else "are the same"
    print(f"{name} ({group}): {shown}. Their signatures {signature}.")
    if args.diff and not rows:
        print("Nothing else differs between them.")
    frame = pd.DataFrame(rows, columns=["section", "key", *columns.values(), "best"])
    return frame.set_index(["section", "key"])


def _promote(args: argparse.Namespace) -> None:
    client = _client()
    group, name, alias = client.default_group(), " ".join(args.name), args.alias.lstrip("@")
    _say_change(client.set_alias(group, name, alias, args.version, args.reason))


def _unalias(args: argparse.Namespace) -> None:
    client = _client()
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
    client = _client()
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
    client = _client()
    request = client.decide(client.default_group(), args.request, approve, args.comment)
    verdict = "Approved" if approve else "Rejected"
    print(
        f"{verdict} request {request['id']} of {request['requested_by']}: {_change_text(request)}."
    )


def _browse(args: argparse.Namespace) -> None:
    from IPython.display import display

    from .widgets import ModelBrowser

    display(ModelBrowser(client=_client()))


# -- deployments --------------------------------------------------------------------------


def _deploy(args: argparse.Namespace) -> None:
    from IPython.display import display

    from .widgets import DeployPanel

    name = " ".join(args.name)
    panel = DeployPanel(
        name,
        args.version,
        client=_client(),
        deployment=args.to,
        start=bool(args.to),
        follow=args.follow,
    )
    display(panel)


def _deployments(args: argparse.Namespace) -> Any:
    client = _client()
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
    client = _client()
    group = client.default_group()
    client.stop_deployment(group, args.deployment)
    print(
        f"Stopped the deployment '{args.deployment}' of group '{group}': it stays stopped, "
        f"across Jupyter restarts too, until %mlflow_group start {args.deployment}."
    )


def _start(args: argparse.Namespace) -> None:
    import time

    client = _client()
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
        _say(
            f"'{name}' did not start: {deployment.get('message') or deployment['status']}.",
            "Deploy a version to it again, or see the Jupyter server's log.",
        )


def _remove(args: argparse.Namespace) -> None:
    client = _client()
    group = client.default_group()
    client.delete_deployment(group, args.deployment)
    print(
        f"Removed the deployment '{args.deployment}' of group '{group}': its model server "
        "stopped and its files are deleted (the registered model is unchanged)."
    )


SUBCOMMANDS: dict[str, Callable[[argparse.Namespace], Any]] = {
    "overview": _overview,
    "list": _list,
    "use": _use,
    "status": _status,
    "env": _env,
    "models": _models,
    "versions": _versions,
    "show": _show,
    "compare": _compare,
    "promote": _promote,
    "unalias": _unalias,
    "requests": _requests,
    "approve": _approve,
    "reject": _reject,
    "browse": _browse,
    "deploy": _deploy,
    "deployments": _deployments,
    "stop": _stop,
    "start": _start,
    "remove": _remove,
}


# -- helpers -----------------------------------------------------------------------------------


def _client() -> ServerClient:
    from .client import ServerClient

    return ServerClient.from_environment()


def _all_pages(
    fetch: Callable[[str | None], dict[str, Any]], key: str, limit: int | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """Every row of a paged API answer (up to `limit`), and whether more were left."""
    rows: list[dict[str, Any]] = []
    token = None
    while True:
        page = fetch(token)
        rows += page.get(key, [])
        token = page.get("next_page_token")
        if not token or (limit is not None and len(rows) >= limit):
            return rows, bool(token)


def _say(message: str, hint: str = "") -> None:
    """A problem or warning, and what to do about it (stderr: notebooks show it apart)."""
    print(message, file=sys.stderr)
    if hint:
        print(f"What to do: {hint}", file=sys.stderr)


def _mask(value: str | None) -> str:
    from ..contract import mask_uri

    return mask_uri(value) or "—"


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


def _full_url(client: ServerClient, deployment: dict[str, Any]) -> str | None:
    path = deployment.get("invocations_url")
    return client.absolute(path) if path else None


def _show_calling(client: ServerClient, deployment: dict[str, Any]) -> None:
    """Where a local deployment answers, and the code that calls it from this notebook."""
    from .client import ApiFailure, NotConnected
    from .snippets import input_columns, predict_snippet

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


def _show_link(url: str, text: str) -> None:
    """A link the notebook shows as such (the API's links are paths on this Jupyter server:
    the browser resolves them, wherever Jupyter runs)."""
    from IPython.display import display

    from .widgets.common import link

    display({"text/html": link(url, text), "text/plain": f"{text}: {url}"}, raw=True)


def _print_environment(title: str, extra: AbstractSet[str] = frozenset()) -> None:
    from ..contract import PUBLIC_VARIABLES

    names = sorted(name for name in os.environ if name.startswith(LISTED_PREFIXES) or name in extra)
    print(title)
    if not names:
        print("  (no MLflow variable is set)")
    width = max((len(name) for name in names), default=0)
    for name in names:
        public = name in PUBLIC_VARIABLES or name in SHOWN_VARIABLES
        print(f"  {name:<{width}}  {_mask(os.environ[name]) if public else HIDDEN}")


def _aliases(aliases: dict[str, str]) -> str:
    return ", ".join(f"{alias}={version}" for alias, version in sorted(aliases.items()))


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
