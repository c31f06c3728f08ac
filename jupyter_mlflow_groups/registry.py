"""Reads of a group's model registry, shaped for people: models and versions (a run's own
reads are in runs.py; several versions at once, in side_by_side.py).

All MLflow calls are async HTTP with the binding's auth and a timeout; the calls one screen
needs are made concurrently, and results are cached briefly (an explicit refresh bypasses the
cache). Nothing here blocks the server's event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from .cache import TtlCache
from .errors import CONNECTION_FAILURES, SHAPE_ERRORS, MlflowError, not_mlflow_api
from .links import ui_page
from .mlflow_http import MlflowHttp
from .upstream import HttpClients, Upstream

API = "/api/2.0/mlflow"
MAX_PAGE = 1000
_MAX_TOKEN = 4096
_MAX_FILTER = 4096
_MAX_MLMODEL = 1024 * 1024
_NAMED_IN_HINTS = 200  # a longer name is said once, in the message, not again in the hint

#: `(group, model name) -> {version: [deployment names]}`: which deployments serve a version.
DeployedBy = Callable[[str, str], Awaitable[Mapping[str, list[str]]]]


async def no_deployments(group: str, model: str) -> Mapping[str, list[str]]:
    """The deployments index before any deployment service is wired in: nothing is deployed."""
    return {}


@dataclass(frozen=True)
class GroupConnection:
    """A group's MLflow as the server reaches it (with secrets: never shown, never logged),
    and the base of the links people follow to its UI."""

    group: str
    upstream: Upstream = field(repr=False)
    ui_url: str | None = None

    @property
    def cache_key(self) -> tuple[str, ...]:
        """Changes whenever the binding does, so a re-bound group never sees stale data."""
        return (self.group, *self.upstream.identity)


class SourceRuns:
    """The source run each version was last seen with, by group binding, model and number: a
    version's run never changes, so its screen can ask for the run beside the version itself
    (checked against the version's answer, asked again when it differs)."""

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._runs: OrderedDict[tuple[Any, ...], str] = OrderedDict()

    def saw(
        self, connection: GroupConnection, name: str, raws: Iterable[Mapping[str, Any]]
    ) -> None:
        """Remember the runs of model versions as MLflow answered them."""
        for raw in raws:
            if raw.get("run_id") and raw.get("version") is not None:
                key = (*connection.cache_key, name, str(raw["version"]))
                self._runs[key] = str(raw["run_id"])
                self._runs.move_to_end(key)
        while len(self._runs) > self.limit:
            self._runs.popitem(last=False)

    def of(self, connection: GroupConnection, name: str, number: str) -> str | None:
        return self._runs.get((*connection.cache_key, name, number))


class RegistryService:
    def __init__(
        self,
        clients: HttpClients,
        timeout: float,
        cache: TtlCache,
        deployed_by: DeployedBy = no_deployments,
    ) -> None:
        self.clients = clients
        self.timeout = timeout
        self.cache = cache
        self.deployed_by = deployed_by
        self.source_runs = SourceRuns()

    async def models(
        self,
        connection: GroupConnection,
        filter_string: str = "",
        order_by: Iterable[str] = (),
        max_results: int = 25,
        page_token: str | None = None,
        refresh: bool = False,
    ) -> dict[str, Any]:
        """One page of registered models, in MLflow's filter syntax and order."""
        order = tuple(order_by)
        _check_page(max_results, page_token)
        if len(filter_string) > _MAX_FILTER:
            raise MlflowError("bad_request", f"The filter is longer than {_MAX_FILTER} characters")
        params: dict[str, Any] = {"max_results": max_results}
        if filter_string:
            params["filter"] = filter_string
        if order:
            params["order_by"] = list(order)
        if page_token:
            params["page_token"] = page_token

        async def fetch() -> dict[str, Any]:
            body = await self.get(connection, "/registered-models/search", params)
            return {
                "group": connection.group,
                "ui_url": connection.ui_url,
                "models": [
                    _model_summary(raw, connection.ui_url)
                    for raw in body.get("registered_models", [])
                ],
                "next_page_token": body.get("next_page_token") or None,
            }

        key = ("models", *connection.cache_key, filter_string, order, max_results, page_token)
        return await self.cached(connection, key, "a search of models", fetch, refresh)

    async def model(
        self,
        connection: GroupConnection,
        name: str,
        max_results: int = 25,
        page_token: str | None = None,
        refresh: bool = False,
    ) -> dict[str, Any]:
        """A model with its aliases and one page of its versions, newest first."""
        _check_page(max_results, page_token)

        async def fetch() -> dict[str, Any]:
            model_body, versions_body, deployed = await asyncio.gather(
                self.registered_model(connection, name),
                self.versions_page(connection, name, max_results, page_token),
                self.deployed_by(connection.group, name),
            )
            self.source_runs.saw(connection, name, versions_body.get("model_versions", []))
            model = model_body.get("registered_model", {})
            summary = _model_summary(model, connection.ui_url)
            by_version: dict[str, list[str]] = {}
            for alias, version in summary["aliases"].items():
                by_version.setdefault(version, []).append(alias)
            return {
                "group": connection.group,
                **summary,
                "versions": [
                    _version_row(raw, by_version.get(str(raw["version"]), []), deployed)
                    for raw in versions_body.get("model_versions", [])
                ],
                "next_page_token": versions_body.get("next_page_token") or None,
            }

        key = ("model", *connection.cache_key, name, max_results, page_token)
        return await self.cached(connection, key, f"the model '{name}'", fetch, refresh)

    async def version(
        self, connection: GroupConnection, name: str, version: str, refresh: bool = False
    ) -> dict[str, Any]:
        """Everything about a version (`version` may be `@alias`): run, params, metrics, tags,
        signature, links. A numbered version's MLmodel, and its run when it was seen before
        (SourceRuns), are asked for beside the version itself: one round trip, not two."""

        async def fetch() -> dict[str, Any]:
            number = version if version.isdigit() else None
            guessed = number and self.source_runs.of(connection, name, number)
            early_run = started(self.source_run(connection, guessed)) if guessed else None
            early_signature = started(self.signature(connection, name, number)) if number else None
            try:
                raw, deployed = await asyncio.gather(
                    self.model_version(connection, name, version),
                    self.deployed_by(connection.group, name),
                )
                self.source_runs.saw(connection, name, [raw])
                run_id = raw.get("run_id")
                run, signature = await asyncio.gather(
                    early_run
                    if early_run and run_id == guessed
                    else self.source_run(connection, run_id),
                    early_signature or self.signature(connection, name, str(raw["version"])),
                )
            finally:
                for early in (early_run, early_signature):
                    if early is not None:
                        early.cancel()  # nothing, when done; a guess that missed, after all
            return version_detail(connection, name, raw, deployed, run, signature)

        key = ("version", *connection.cache_key, name, version)
        what = f"version {version} of '{name}'"
        return await self.cached(connection, key, what, fetch, refresh)

    async def alias_version(self, connection: GroupConnection, name: str, alias: str) -> str | None:
        """The version `alias` names now (None when it names none), asked of MLflow each time:
        one cheap call, for following."""
        try:
            body = await self.get(
                connection, "/registered-models/alias", {"name": name, "alias": alias}
            )
        except MlflowError as error:
            if error.code in ("not_found", "bad_request"):  # MLflow's answers to a missing alias
                return None
            raise
        version = (body.get("model_version") or {}).get("version")
        return str(version) if version is not None else None

    async def cached(
        self,
        connection: GroupConnection,
        key: tuple[Any, ...],
        what: str,
        fetch: Callable[[], Awaitable[dict[str, Any]]],
        refresh: bool,
    ) -> dict[str, Any]:
        """`fetch` through the cache, with an answer of the wrong shape (a field of the wrong
        type, a missing key) reported as not MLflow's API rather than as an internal error."""

        async def shaped() -> dict[str, Any]:
            try:
                return await fetch()
            except SHAPE_ERRORS as error:
                raise wrong_shape(connection, f"the request for {what}", error) from None

        return await self.cache.get(key, shaped, refresh)

    def invalidate(self, group: str) -> None:
        """Forget what was read for a group (after a deployment changed "Deployed By")."""
        self.cache.invalidate(
            lambda key: isinstance(key, tuple) and len(key) > 1 and key[1] == group
        )

    async def get(
        self, connection: GroupConnection, path: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        return await self.call(connection, "GET", path, params)

    async def call(
        self, connection: GroupConnection, method: str, path: str, payload: Mapping[str, Any]
    ) -> dict[str, Any]:
        """`method` on `path` (under MLflow's REST API): `payload` as the query of a GET, the
        JSON body otherwise; the answer, a JSON object."""
        http = self.http_for(connection)
        params, body = (payload, None) if method == "GET" else (None, payload)
        body, _ = await http.request_json(
            method, f"{API}{path}", params, body, timeout=self.timeout
        )
        if not isinstance(body, dict):
            what = f"JSON that is not an object ({type(body).__name__})"
            raise MlflowError("mlflow_error", not_mlflow_api(http.shown_url, f"{API}{path}", what))
        return body

    def http_for(self, connection: GroupConnection) -> MlflowHttp:
        return MlflowHttp(connection.upstream, self.clients.for_upstream(connection.upstream))

    async def versions_page(
        self, connection: GroupConnection, name: str, max_results: int, page_token: str | None
    ) -> dict[str, Any]:
        filter_string, exact = name_filter(name)
        params: dict[str, Any] = {
            "filter": filter_string,
            "order_by": ["version_number DESC"],
            "max_results": max_results,
        }
        if page_token:
            params["page_token"] = page_token
        body = await self.get(connection, "/model-versions/search", params)
        if not exact:  # a LIKE pattern stood in for a name MLflow's filter cannot quote
            body["model_versions"] = [
                raw for raw in body.get("model_versions", []) if raw.get("name") == name
            ]
        return body

    async def registered_model(self, connection: GroupConnection, name: str) -> dict[str, Any]:
        """A registered model; an unknown one is a 404 that names it and how to list models."""
        try:
            return await self.get(connection, "/registered-models/get", {"name": name})
        except MlflowError as error:
            if error.code != "not_found":
                raise
            raise unknown_model(connection.group, name) from None

    async def model_version(
        self, connection: GroupConnection, name: str, version: str
    ) -> dict[str, Any]:
        if version.startswith("@"):
            path, params = "/registered-models/alias", {"name": name, "alias": version[1:]}
        elif version.isdigit():
            path, params = "/model-versions/get", {"name": name, "version": version}
        else:
            raise MlflowError(
                "bad_request",
                f"'{version}' is neither a version number nor an @alias",
                hint="Give a version number (like 3) or an alias (like @champion).",
            )
        try:
            body = await self.get(connection, path, params)
        except MlflowError as error:
            # MLflow says 404 for a missing version, 400 "... alias x not found" for an alias
            alias_missing = error.code == "bad_request" and "not found" in error.message.lower()
            if error.code != "not_found" and not alias_missing:
                raise
            await self.registered_model(connection, name)  # the model itself unknown: say so
            raise unknown_version(connection.group, name, version) from None
        return body.get("model_version", {})

    async def source_run(
        self, connection: GroupConnection, run_id: str | None
    ) -> dict[str, Any] | None:
        if not run_id:
            return None
        try:
            body = await self.get(connection, "/runs/get", {"run_id": run_id})
        except MlflowError as error:
            if error.code != "not_found":
                raise
            return {"run_id": run_id, "missing": True, "message": "The source run no longer exists"}
        return run_detail(body.get("run", {}), connection.ui_url)

    async def signature(
        self, connection: GroupConnection, name: str, version: str
    ) -> dict[str, Any] | None:
        """The signature from the version's MLmodel file; None when there is none or the
        artifact store cannot be read through the server."""
        http = self.http_for(connection)
        try:
            response, _ = await http.get(
                "/model-versions/get-artifact",
                {"name": name, "version": version, "path": "MLmodel"},
                timeout=self.timeout,
            )
        except MlflowError as error:
            if error.code in CONNECTION_FAILURES:
                raise
            return None
        if len(response.body) > _MAX_MLMODEL:
            return None
        try:
            mlmodel = yaml.safe_load(response.body)
            signature = mlmodel.get("signature") if isinstance(mlmodel, dict) else None
            if not isinstance(signature, dict):
                return None
            return {
                part: json.loads(signature[part]) if isinstance(signature.get(part), str) else None
                for part in ("inputs", "outputs", "params")
            }
        except (yaml.YAMLError, ValueError):
            return None


def wrong_shape(connection: GroupConnection, what: str, error: Exception) -> MlflowError:
    """An answer of the wrong shape (a field of the wrong type, a missing key) for `what`:
    not MLflow's API, rather than an internal error."""
    shape = f"JSON of the wrong shape ({error.__class__.__name__})"
    return MlflowError("mlflow_error", not_mlflow_api(connection.upstream.shown, what, shape))


def started(read: Awaitable[Any]) -> asyncio.Future[Any]:
    """`read` under way now; its failure is not reported when nobody turns out to need it."""
    task = asyncio.ensure_future(read)
    task.add_done_callback(lambda done: done.cancelled() or done.exception())
    return task


def version_detail(
    connection: GroupConnection,
    name: str,
    raw: Mapping[str, Any],
    deployed: Mapping[str, list[str]],
    run: dict[str, Any] | None,
    signature: dict[str, Any] | None,
) -> dict[str, Any]:
    """A version's screen: MLflow's model version (`raw`, its aliases included), the
    deployments serving it, its source run's detail and its signature."""
    number = str(raw["version"])
    row = _version_row(raw, list(raw.get("aliases", [])), deployed)
    model_uri = f"models:/{name}/{number}"
    return {
        "group": connection.group,
        "name": name,
        **row,
        "status_message": raw.get("status_message") or None,
        "model_uri": model_uri,
        "load_snippet": f"mlflow.pyfunc.load_model({json.dumps(model_uri)})",
        "ui_url": ui_page(connection.ui_url, "models", name, "versions", number),
        "run": run,
        "signature": signature,
    }


def unknown_model(group: str, name: str) -> MlflowError:
    return MlflowError(
        "not_found",
        f"No model '{name}' in group '{group}'.",
        404,
        hint="Check the name (it is case-sensitive). List the group's models with "
        "%mlflow_group models, in ModelBrowser() or in the sidebar.",
    )


def unknown_version(group: str, name: str, version: str) -> MlflowError:
    what = f"no alias '{version}'" if version.startswith("@") else f"no version {version}"
    command = f"%mlflow_group versions {name if len(name) <= _NAMED_IN_HINTS else 'NAME'}"
    return MlflowError(
        "not_found",
        f"Model '{name}' of group '{group}' has {what}.",
        404,
        hint=f"List its versions and aliases with {command}, in ModelBrowser() or in the sidebar.",
    )


def _check_page(max_results: int, page_token: str | None) -> None:
    if not 1 <= max_results <= MAX_PAGE:
        raise MlflowError("bad_request", f"max_results must be between 1 and {MAX_PAGE}")
    if page_token is not None and (len(page_token) > _MAX_TOKEN or not page_token.isprintable()):
        raise MlflowError("bad_request", "The page token is not one this API gave out")


def name_filter(name: str) -> tuple[str, bool]:
    """An MLflow filter for exactly `name`, and whether it is exact. MLflow's filter strings
    cannot quote a name holding both ' and ", so those get a LIKE pattern (filtered after)."""
    if "'" not in name:
        return f"name='{name}'", True
    if '"' not in name:
        return f'name="{name}"', True
    return "name LIKE '" + name.replace("'", "_").replace('"', "_") + "'", False


def iso_moment(milliseconds: Any) -> str | None:
    """MLflow's milliseconds as `2026-12-02T08:39:00Z` (None for none)."""
    if milliseconds in (None, "", 0):
        return None
    moment = dt.datetime.fromtimestamp(int(milliseconds) / 1000, tz=dt.timezone.utc)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _tags(raw: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {tag["key"]: tag.get("value", "") for tag in raw or ()}


def _model_summary(raw: Mapping[str, Any], ui_url: str | None) -> dict[str, Any]:
    latest = [
        int(v["version"]) for v in raw.get("latest_versions", []) if str(v.get("version")).isdigit()
    ]
    return {
        "name": raw.get("name"),
        "description": raw.get("description") or "",
        "created_at": iso_moment(raw.get("creation_timestamp")),
        "last_modified": iso_moment(raw.get("last_updated_timestamp")),
        "latest_version": str(max(latest)) if latest else None,
        "aliases": {a["alias"]: str(a["version"]) for a in raw.get("aliases", [])},
        "tags": _tags(raw.get("tags")),
        "ui_url": ui_page(ui_url, "models", str(raw.get("name", ""))),
    }


def _version_row(
    raw: Mapping[str, Any], aliases: list[str], deployed: Mapping[str, list[str]]
) -> dict[str, Any]:
    number = str(raw["version"])
    return {
        "version": number,
        "status": raw.get("status"),
        "registered_at": iso_moment(raw.get("creation_timestamp")),
        "last_modified": iso_moment(raw.get("last_updated_timestamp")),
        "description": raw.get("description") or "",
        "aliases": sorted(aliases),
        "deployed_by": list(deployed.get(number, [])),
        "run_id": raw.get("run_id") or None,
        "source": raw.get("source"),
        "tags": _tags(raw.get("tags")),
    }


def run_detail(raw: Mapping[str, Any], ui_url: str | None) -> dict[str, Any]:
    info, data = raw.get("info", {}), raw.get("data", {})
    tags = _tags(data.get("tags"))
    experiment = str(info.get("experiment_id", ""))
    run_id = info.get("run_id") or info.get("run_uuid")
    return {
        "run_id": run_id,
        "run_name": info.get("run_name") or tags.get("mlflow.runName"),
        "experiment_id": experiment,
        "status": info.get("status"),
        "start_time": iso_moment(info.get("start_time")),
        "end_time": iso_moment(info.get("end_time")),
        "ui_url": ui_page(ui_url, "experiments", experiment, "runs", str(run_id)),
        "params": {p["key"]: p.get("value", "") for p in data.get("params", [])},
        "metrics": {
            m["key"]: {
                "value": m.get("value"),
                "step": int(m.get("step", 0)),
                "timestamp": m.get("timestamp"),
            }
            for m in data.get("metrics", [])
        },
        "tags": {k: v for k, v in tags.items() if not k.startswith("mlflow.")},
        "system_tags": {k: v for k, v in tags.items() if k.startswith("mlflow.")},
    }
