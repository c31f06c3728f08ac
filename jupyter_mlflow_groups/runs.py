"""Reads of a group's runs, shaped for people: a run as it is now, a metric's history, the
run's artifacts one level at a time and previews of its files (through the registry's calls
and cache)."""

from __future__ import annotations

from typing import Any

from .artifacts import Preview, RunArtifacts, run_artifacts
from .errors import SHAPE_ERRORS, MlflowError
from .registry import API, GroupConnection, RegistryService, run_detail, wrong_shape

_HISTORY_PAGE = 25000


class RunReads:
    """A group's runs, read with the registry's connection, calls and cache."""

    def __init__(self, registry: RegistryService) -> None:
        self.registry = registry

    async def run(
        self, connection: GroupConnection, run_id: str, refresh: bool = False
    ) -> dict[str, Any]:
        """A run as it is now: its status, times, params and latest metrics (what a chart that
        follows a run while it trains asks, each few seconds, with `refresh`)."""

        async def fetch() -> dict[str, Any]:
            body = await self._raw_run(connection, run_id)
            return {
                "group": connection.group,
                **run_detail(body.get("run", {}), connection.ui_url),
            }

        cache_key = ("run", *connection.cache_key, run_id)
        return await self.registry.cached(connection, cache_key, f"run '{run_id}'", fetch, refresh)

    async def artifacts(
        self, connection: GroupConnection, run_id: str, path: str, refresh: bool = False
    ) -> dict[str, Any]:
        """One directory level of a run's artifacts (`path` checked: artifacts.artifact_path),
        with the run's page in the MLflow UI."""
        reader = RunArtifacts(self.registry.http_for(connection), API, self.registry.timeout)

        async def fetch() -> dict[str, Any]:
            try:
                return await run_artifacts(
                    reader,
                    self.registry.get(connection, "/runs/get", {"run_id": run_id}),
                    connection.group,
                    run_id,
                    path,
                    connection.ui_url,
                )
            except MlflowError as error:
                if error.code not in ("not_found", "bad_request"):
                    raise
                raise unknown_run(connection.group, run_id) from None

        key = ("artifacts", *connection.cache_key, run_id, path)
        what = f"the artifacts of run '{run_id}'"
        return await self.registry.cached(connection, key, what, fetch, refresh)

    async def artifact(
        self, connection: GroupConnection, run_id: str, path: str, limit: int
    ) -> Preview:
        """A previewable file of a run, at most `limit` bytes (read each time: not cached)."""
        reader = RunArtifacts(self.registry.http_for(connection), API, self.registry.timeout)
        try:
            return await reader.read(connection.group, run_id, path, limit)
        except MlflowError as error:
            if error.code not in ("not_found", "bad_request"):
                raise
            raise unknown_run(connection.group, run_id) from None
        except SHAPE_ERRORS as error:
            raise wrong_shape(connection, f"the artifact '{path}'", error) from None

    async def metric_history(
        self, connection: GroupConnection, run_id: str, key: str, refresh: bool = False
    ) -> dict[str, Any]:
        """Every step of a run's metric, in step order."""

        async def fetch() -> dict[str, Any]:
            points: list[dict[str, Any]] = []
            token: str | None = None
            while True:
                params = {"run_id": run_id, "metric_key": key, "max_results": _HISTORY_PAGE}
                if token:
                    params["page_token"] = token
                try:
                    body = await self.registry.get(connection, "/metrics/get-history", params)
                except MlflowError as error:
                    if error.code != "not_found":
                        raise
                    raise unknown_run(connection.group, run_id) from None
                points += [
                    {
                        "step": int(m.get("step", 0)),
                        "value": m.get("value"),
                        "timestamp": m.get("timestamp"),
                    }
                    for m in body.get("metrics", [])
                ]
                token = body.get("next_page_token")
                if not token:
                    break
            if not points:  # MLflow answers an unknown run or key with no steps: say which
                await self._check_metric(connection, run_id, key)
            points.sort(key=lambda point: (point["step"], point["timestamp"] or 0))
            return {"group": connection.group, "run_id": run_id, "key": key, "history": points}

        cache_key = ("history", *connection.cache_key, run_id, key)
        what = f"the history of '{key}'"
        return await self.registry.cached(connection, cache_key, what, fetch, refresh)

    async def _raw_run(self, connection: GroupConnection, run_id: str) -> dict[str, Any]:
        """MLflow's answer for the run; an unknown run is a 404 that names it."""
        try:
            return await self.registry.get(connection, "/runs/get", {"run_id": run_id})
        except MlflowError as error:
            if error.code not in ("not_found", "bad_request"):
                raise
            raise unknown_run(connection.group, run_id) from None

    async def _check_metric(self, connection: GroupConnection, run_id: str, key: str) -> None:
        """A 404 naming the run, or its metric, when either is unknown (MLflow's history of
        them is just empty)."""
        body = await self._raw_run(connection, run_id)
        metrics = (body.get("run", {}).get("data", {}) or {}).get("metrics", [])
        if key not in {metric.get("key") for metric in metrics}:
            raise MlflowError(
                "not_found",
                f"Run '{run_id}' of group '{connection.group}' has no metric '{key}'.",
                404,
                hint="The version's details list the metrics its source run logged.",
            )


def unknown_run(group: str, run_id: str) -> MlflowError:
    return MlflowError(
        "not_found",
        f"No run '{run_id}' in group '{group}': it may have been deleted.",
        404,
        hint="A version's details name its source run; open it in the MLflow UI to check.",
    )
