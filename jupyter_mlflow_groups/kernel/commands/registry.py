"""The registry sub-commands: models, versions, show, compare, browse."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .common import server_client

MAX_ROWS = 10_000  # `models` stops paging there: a table, not a registry dump
PAGE = 1000  # the most MLflow returns per page


def _models(args: argparse.Namespace) -> Any:
    client = server_client()
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
    client = server_client()
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

    from ..widgets import VersionDetail

    display(VersionDetail(" ".join(args.name), args.version, client=server_client()))


def _browse(args: argparse.Namespace) -> None:
    from IPython.display import display

    from ..widgets import ModelBrowser

    display(ModelBrowser(client=server_client()))


def _compare(args: argparse.Namespace) -> Any:
    client = server_client()
    group, name = client.default_group(), " ".join(args.name)
    if args.metric is not None:
        return _across(client.metric_across_versions(group, name, args.metric))
    comparison = client.compare(group, name, args.versions)
    import pandas as pd

    from ..formatting import column_label

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
    for key in ("bytes", "files"):  # each version's model files
        sizes = {columns[n]: (size or {}).get(key) for n, size in comparison["sizes"].items()}
        if not args.diff or len(set(sizes.values())) > 1:
            rows.append({"section": "model", "key": key, **sizes, "best": ""})
    shown = " vs ".join(columns.values())
    signature = "differ" if differing["signature"] else "are the same"
    print(f"{name} ({group}): {shown}. Their signatures {signature}.")
    if args.diff and not rows:
        print("Nothing else differs between them.")
    frame = pd.DataFrame(rows, columns=["section", "key", *columns.values(), "best"])
    return frame.set_index(["section", "key"])


def _across(across: dict[str, Any]) -> Any:
    """One metric by version: a row per version, the best marked."""
    import pandas as pd

    better = "lower" if across["direction"] == "min" else "higher"
    best = ", ".join(f"v{version}" for version in across["best"]) or "none"
    print(f"{across['key']} in {across['name']} ({across['group']}): best ({better}): {best}.")
    rows = [
        {
            "version": point["version"],
            across["key"]: point["value"],
            "aliases": ", ".join(f"@{alias}" for alias in point["aliases"]),
            "best": "★" if point["version"] in across["best"] else "",
        }
        for point in across["versions"]
    ]
    frame = pd.DataFrame(rows, columns=["version", across["key"], "aliases", "best"])
    return frame.set_index("version")


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


def _aliases(aliases: dict[str, str]) -> str:
    return ", ".join(f"{alias}={version}" for alias, version in sorted(aliases.items()))


#: The sub-commands of this module, by name.
SUBCOMMANDS: dict[str, Callable[[argparse.Namespace], Any]] = {
    "models": _models,
    "versions": _versions,
    "show": _show,
    "compare": _compare,
    "browse": _browse,
}
