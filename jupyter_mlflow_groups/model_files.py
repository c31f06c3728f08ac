"""How big a version's model is: its files listed through the group's tracking server, one
directory level at a time (a level's directories side by side).

A version's files are listed where MLflow keeps them: among its source run's artifacts (a
`runs:/<run>/<path>` source, or a source inside the run's artifact directory,
`.../<run>/artifacts/<path>`), or, for MLflow 3's logged models (`models:/m-...`), among the
logged model's own. A source anywhere else, a listing MLflow refuses, or a tree of more than
MAX_LISTINGS directories has no size: the comparison says "unknown" rather than guess.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .artifacts import listing_entry
from .errors import CONNECTION_FAILURES, SHAPE_ERRORS, MlflowError
from .mlflow_http import MlflowHttp

MAX_LISTINGS = 64
_RUNS_SOURCE = re.compile(r"^runs:/(?P<run>[^/]+)/?(?P<path>.*)$")
_LOGGED_MODEL_SOURCE = re.compile(r"^models:/(?P<model>m-[0-9a-f]+)/?$")


@dataclass(frozen=True)
class FilesPlace:
    """Where a version's files are listed: the listing route, its query, the directory."""

    route: str
    query: Mapping[str, str]
    path_field: str  # the query's name for the directory
    root: str


def files_place(api: str, version: Mapping[str, Any]) -> FilesPlace | None:
    """Where MLflow lists `version`'s files (a model version as MLflow answers it); None when
    its source is nowhere the tracking server lists."""
    source = str(version.get("source") or "")
    run_id = str(version.get("run_id") or "")
    if found := _LOGGED_MODEL_SOURCE.match(source):
        route = f"{api}/logged-models/{quote(found['model'], safe='')}/artifacts/directories"
        return FilesPlace(route, {}, "artifact_directory_path", "")
    if (found := _RUNS_SOURCE.match(source)) and found["run"] == run_id:
        return FilesPlace(f"{api}/artifacts/list", {"run_id": run_id}, "path", found["path"])
    marker = f"/{run_id}/artifacts/"
    if run_id and marker in f"{source}/":
        root = f"{source}/".split(marker, 1)[1].strip("/")
        return FilesPlace(f"{api}/artifacts/list", {"run_id": run_id}, "path", root)
    return None


async def model_size(
    http: MlflowHttp, api: str, version: Mapping[str, Any], timeout: float
) -> dict[str, int] | None:
    """`{"bytes", "files"}` of the version's model, or None where it cannot be listed. An
    unreachable or refusing MLflow still raises: the comparison fails as every read does."""
    place = files_place(api, version)
    if place is None:
        return None
    total = files = listings = 0
    pending = [place.root]
    try:
        while pending:
            listings += len(pending)
            if listings > MAX_LISTINGS:
                return None
            levels = await asyncio.gather(*(_level(http, place, path, timeout) for path in pending))
            pending = []
            for entries in levels:
                for entry in entries:
                    if entry["is_dir"]:
                        pending.append(entry["path"])
                    else:
                        total += entry["file_size"] or 0
                        files += 1
    except MlflowError as error:
        if error.code in CONNECTION_FAILURES:
            raise
        return None  # a run or logged model gone, a store the server cannot list
    except SHAPE_ERRORS:
        return None
    return {"bytes": total, "files": files} if files else None


async def _level(
    http: MlflowHttp, place: FilesPlace, path: str, timeout: float
) -> list[dict[str, Any]]:
    query = {**place.query, **({place.path_field: path} if path else {})}
    body, _ = await http.get_json(place.route, query, timeout=timeout)
    raws = body.get("files", []) or []
    entries = [listing_entry(path, raw) for raw in raws]
    return [entry for entry in entries if entry is not None]
