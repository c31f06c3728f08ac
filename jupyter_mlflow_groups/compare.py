"""Versions of one model side by side: what differs between them, and which is best by each
metric. Pure shaping of the version details the registry read (one read per version, made
concurrently by `RegistryService.compare`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import ApiError

MAX_VERSIONS = 10
#: Words in a metric's name that say a lower value is better (the rest: higher is better).
LOWER_IS_BETTER = frozenset(
    {
        "loss", "error", "err", "mse", "mae", "rmse", "mape", "smape", "msle", "rmsle",
        "logloss", "perplexity", "latency", "time", "duration", "seconds", "wer", "cer",
        "fpr", "fnr", "brier", "deviance", "hamming",
    }
)  # fmt: skip
DIRECTIONS = ("max", "min")
_VERSION = re.compile(r"^(\d+|@[\w.-]+)$")


def parse_versions(text: str) -> list[str]:
    """`3,@challenger`: version numbers or @aliases, at least two, at most MAX_VERSIONS."""
    versions = [part.strip() for part in text.split(",") if part.strip()]
    bad = [version for version in versions if not _VERSION.match(version)]
    if bad:
        raise ApiError(
            400,
            "bad_request",
            f"{bad[0]!r} is neither a version number nor an @alias.",
            "Name the versions to compare like versions=3,@champion.",
        )
    if not 2 <= len(versions) <= MAX_VERSIONS:
        raise ApiError(
            400,
            "bad_request",
            f"Compare from 2 to {MAX_VERSIONS} versions; {len(versions)} given.",
            "Name the versions to compare like versions=3,@champion.",
        )
    return versions


def parse_directions(values: Sequence[str]) -> dict[str, str]:
    """`rmse:max`: a metric whose better value is not what its name suggests."""
    directions: dict[str, str] = {}
    for value in values:
        key, _, direction = value.rpartition(":")
        if not key or direction not in DIRECTIONS:
            raise ApiError(
                400,
                "bad_request",
                f"direction {value!r} is not METRIC:max or METRIC:min.",
                "Say which way a metric is better like direction=rmse:min.",
            )
        directions[key] = direction
    return directions


def direction_of(key: str) -> str:
    """`min` when a word of the metric's name is in LOWER_IS_BETTER (val_loss, train/rmse,
    latency_ms), `max` otherwise (accuracy, f1, auc, r2)."""
    words = set(re.split(r"[^a-z0-9]+", key.lower()))
    return "min" if words & LOWER_IS_BETTER else "max"


def comparison(
    group: str,
    name: str,
    requested: Sequence[str],
    details: Sequence[Mapping[str, Any]],
    directions: Mapping[str, str],
) -> dict[str, Any]:
    """The versions (in the order asked, one column per version however many names it was
    asked by), each table `{key: {version: value}}` (None where a version lacks the key), which
    keys differ, and each metric's best version(s)."""
    columns: dict[str, dict[str, Any]] = {}
    for asked, detail in zip(requested, details, strict=True):
        number = str(detail["version"])
        if number in columns:
            columns[number]["requested"].append(asked)
        else:
            columns[number] = {"requested": [asked], "detail": detail}
    runs = {number: column["detail"].get("run") or {} for number, column in columns.items()}
    params = _table({n: run.get("params") or {} for n, run in runs.items()})
    metrics = _table(
        {
            n: {key: point.get("value") for key, point in (run.get("metrics") or {}).items()}
            for n, run in runs.items()
        }
    )
    tags = _table({n: column["detail"].get("tags") or {} for n, column in columns.items()})
    run_tags = _table({n: run.get("tags") or {} for n, run in runs.items()})
    signatures = {n: column["detail"].get("signature") for n, column in columns.items()}
    chosen = {key: directions.get(key) or direction_of(key) for key in metrics}
    return {
        "group": group,
        "name": name,
        "versions": [_version(number, column) for number, column in columns.items()],
        "params": params,
        "metrics": metrics,
        "directions": chosen,
        "best": {key: _best(values, chosen[key]) for key, values in metrics.items()},
        "tags": tags,
        "run_tags": run_tags,
        "signatures": signatures,
        "differences": {
            "params": _differing(params),
            "metrics": _differing(metrics),
            "tags": _differing(tags),
            "run_tags": _differing(run_tags),
            "signature": len({repr(signature) for signature in signatures.values()}) > 1,
        },
    }


def across_versions(
    group: str,
    name: str,
    key: str,
    versions: Sequence[Mapping[str, Any]],
    runs: Mapping[str, Mapping[str, Any] | None],
    direction: str | None,
) -> dict[str, Any]:
    """`key`'s latest value in each version (oldest first; None where its run lacks it or is
    gone), from MLflow's model versions and their runs (`run_id`: the run's detail), with the
    best version(s)."""
    points = []
    for raw in sorted(versions, key=lambda raw: int(raw["version"])):
        run = runs.get(raw.get("run_id") or "") or {}
        point = (run.get("metrics") or {}).get(key) or {}
        points.append(
            {
                "version": str(raw["version"]),
                "value": point.get("value"),
                "step": point.get("step"),
                "run_id": raw.get("run_id") or None,
                "aliases": sorted(raw.get("aliases") or []),
            }
        )
    chosen = direction or direction_of(key)
    values = {point["version"]: point["value"] for point in points}
    return {
        "group": group,
        "name": name,
        "key": key,
        "direction": chosen,
        "versions": points,
        "best": _best(values, chosen),
    }


def _version(number: str, column: Mapping[str, Any]) -> dict[str, Any]:
    detail = column["detail"]
    run = detail.get("run") or None
    return {
        "version": number,
        "requested": column["requested"],
        **{
            key: detail.get(key)
            for key in (
                "aliases", "status", "registered_at", "last_modified", "description",
                "deployed_by", "source", "model_uri", "ui_url",
            )
        },
        "run": None
        if run is None
        else {
            key: run.get(key)
            for key in (
                "run_id", "run_name", "status", "start_time", "end_time", "ui_url", "missing",
            )
        },
    }  # fmt: skip


def _table(by_version: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    keys = sorted({key for values in by_version.values() for key in values})
    return {key: {number: values.get(key) for number, values in by_version.items()} for key in keys}


def _differing(table: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return [key for key, values in table.items() if len({repr(v) for v in values.values()}) > 1]


def _best(values: Mapping[str, Any], direction: str) -> list[str]:
    """The version(s) with the best value, when at least two versions have one to compare."""
    numbers = {
        version: float(value)
        for version, value in values.items()
        if isinstance(value, (int, float)) and math.isfinite(value)
    }
    if len(numbers) < 2:
        return []
    best = max(numbers.values()) if direction == "max" else min(numbers.values())
    return [version for version, value in numbers.items() if value == best]
