"""Reading a `%mlflow_group` line: which command, with which arguments, or a usage error."""

from __future__ import annotations

import argparse
import functools
import shlex
from typing import NoReturn

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
        "@alias); with --metric KEY instead of versions, that metric in every version",
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


class BadUsage(Exception):
    def __init__(self, usage: str, message: str) -> None:
        super().__init__(message)
        self.usage, self.message = usage, message


class _Parser(argparse.ArgumentParser):
    """argparse that reports to the magic instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise BadUsage(self.format_usage(), message)

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
        parser.add_argument("--metric", help="one metric in each of the latest 100 versions")
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
        raise BadUsage(TOP_USAGE, f"unexpected: {rest}")
    if not command:
        return "", argparse.Namespace()
    if command not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(command, list(COMMANDS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise BadUsage(TOP_USAGE, f"unknown command '{command}'{hint}")
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
    metric = None
    if "--metric" in words:
        at = words.index("--metric")
        if at + 1 >= len(words):
            raise BadUsage(_parser("compare").format_usage(), "--metric needs a metric's key")
        metric = words[at + 1]
        del words[at : at + 2]
    versions: list[str] = []
    while words and (words[-1].isdigit() or (words[-1].startswith("@") and len(words[-1]) > 1)):
        versions.insert(0, words.pop())
    if metric is not None and (versions or not words):
        raise BadUsage(
            _parser("compare").format_usage(),
            "name a model and a metric: --metric compares it across every version",
        )
    if metric is None and (not words or len(versions) < 2):
        raise BadUsage(
            _parser("compare").format_usage(),
            "name a model, then at least two versions (numbers or @aliases)",
        )
    return argparse.Namespace(name=words, versions=versions, diff=differences, metric=metric)
