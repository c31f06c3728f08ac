"""Several versions of one model read at once, in few MLflow calls whatever their number.

- **Compare** (2-10 versions, numbers or @aliases) takes two rounds: the registered model
  (whose aliases name the @alias versions) beside one search for the numbered versions, then
  each version's run and model files. The MLmodel files of numbered versions are read all
  along, from the first round. Against a read per version (the version, then its run and
  MLmodel) that is two calls fewer per version past the second.
- **One metric across versions** (the latest ACROSS_VERSIONS): the model and a search for its
  versions, then their runs, RUNS_AT_ONCE at a time (through the runs' cache).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from .compare import across_versions, comparison
from .errors import MlflowError
from .model_files import model_size
from .registry import (
    API,
    GroupConnection,
    RegistryService,
    name_filter,
    started,
    unknown_version,
    version_detail,
)
from .runs import RunReads

ACROSS_VERSIONS = 100  # the latest versions one metric is read across
RUNS_AT_ONCE = 8  # their runs read side by side
RANGE_SEARCH = 200  # the widest span of version numbers one search reads (wider: one by one)


class SideBySide:
    """Reads of several versions, over the registry's calls and caches."""

    def __init__(self, registry: RegistryService, runs: RunReads) -> None:
        self.registry = registry
        self.runs = runs

    async def compare(
        self,
        connection: GroupConnection,
        name: str,
        versions: Sequence[str],
        directions: Mapping[str, str],
        refresh: bool = False,
    ) -> dict[str, Any]:
        """Versions side by side (numbers or @aliases): `compare.comparison` of their details,
        with each model's size (`sizes`: `{version: {bytes, files}}`, None where unknown)."""

        async def fetch() -> dict[str, Any]:
            return await self._details(connection, name, versions)

        key = ("compare", *connection.cache_key, name, tuple(versions))
        what = f"versions {', '.join(versions)} of '{name}'"
        read = await self.registry.cached(connection, key, what, fetch, refresh)
        details = [read["details"][version] for version in versions]
        answer = comparison(connection.group, name, versions, details, directions)
        sizes = {
            column["version"]: read["sizes"][column["version"]] for column in answer["versions"]
        }
        return {**answer, "sizes": sizes}

    async def _details(
        self, connection: GroupConnection, name: str, versions: Sequence[str]
    ) -> dict[str, Any]:
        """`{"details": {asked: version detail}, "sizes": {number: size}}`."""
        registry = self.registry
        numbers = sorted({v for v in versions if v.isdigit()}, key=int)
        named = [v for v in dict.fromkeys(versions) if v.startswith("@")]
        signatures: dict[str, asyncio.Future[dict[str, Any] | None]] = {
            number: started(registry.signature(connection, name, number)) for number in numbers
        }
        try:
            model, found, by_alias, deployed = await asyncio.gather(
                registry.registered_model(connection, name),
                self._numbered(connection, name, numbers),
                asyncio.gather(*(registry.model_version(connection, name, v) for v in named)),
                registry.deployed_by(connection.group, name),
            )
            aliases = _aliases(model)
            resolved = {
                alias: str(raw["version"]) for alias, raw in zip(named, by_alias, strict=True)
            }
            found.update({resolved[alias]: raw for alias, raw in zip(named, by_alias, strict=True)})
            registry.source_runs.saw(connection, name, found.values())
            asked = {version: resolved.get(version, version) for version in versions}

            async def complete(number: str) -> tuple[dict[str, Any], dict[str, int] | None]:
                raw = {**found[number], "aliases": aliases.get(number, [])}
                signature = signatures.get(number) or registry.signature(connection, name, number)
                run, size, signature = await asyncio.gather(
                    registry.source_run(connection, raw.get("run_id")),
                    model_size(registry.http_for(connection), API, raw, registry.timeout),
                    signature,
                )
                return version_detail(connection, name, raw, deployed, run, signature), size

            distinct = list(dict.fromkeys(asked.values()))
            read = dict(zip(distinct, await asyncio.gather(*map(complete, distinct)), strict=True))
        finally:
            for pending in signatures.values():
                pending.cancel()  # nothing, when done; a read nobody waits for, after a failure
        return {
            "details": {version: read[number][0] for version, number in asked.items()},
            "sizes": {number: size for number, (_, size) in read.items()},
        }

    async def _numbered(
        self, connection: GroupConnection, name: str, numbers: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """MLflow's numbered versions (without their aliases) by number, in one search when
        their span is at most RANGE_SEARCH (or one read each, as for a server that cannot
        search by number); a number the model lacks is a 404 naming it."""
        if not numbers:
            return {}
        low, high = int(numbers[0]), int(numbers[-1])
        if high - low < RANGE_SEARCH:
            name_clause, exact = name_filter(name)
            query = {
                "filter": f"{name_clause} AND version_number >= {low} AND version_number <= {high}",
                "max_results": high - low + 1,
            }
            try:
                body = await self.registry.call(connection, "GET", "/model-versions/search", query)
            except MlflowError as error:
                if error.code != "bad_request":
                    raise
            else:
                raws = body.get("model_versions", []) or []
                found = {
                    str(raw["version"]): raw for raw in raws if exact or raw.get("name") == name
                }
                missing = [number for number in numbers if number not in found]
                if missing:
                    await self.registry.registered_model(connection, name)  # an unknown model
                    raise unknown_version(connection.group, name, missing[0])
                return {number: found[number] for number in numbers}
        raws = await asyncio.gather(
            *(self.registry.model_version(connection, name, number) for number in numbers)
        )
        return dict(zip(numbers, raws, strict=True))

    async def metric_across_versions(
        self,
        connection: GroupConnection,
        name: str,
        key: str,
        direction: str | None,
        refresh: bool = False,
    ) -> dict[str, Any]:
        """`key` in each of the model's latest ACROSS_VERSIONS versions (x = version)."""
        registry = self.registry
        model, page = await asyncio.gather(  # an unknown model: a 404 naming it
            registry.registered_model(connection, name),
            registry.versions_page(connection, name, ACROSS_VERSIONS, None),
        )
        aliases = _aliases(model)
        raws = [
            {**raw, "aliases": aliases.get(str(raw.get("version")), [])}
            for raw in page.get("model_versions", [])
        ]
        run_ids = sorted({raw["run_id"] for raw in raws if raw.get("run_id")})
        reading = asyncio.Semaphore(RUNS_AT_ONCE)

        async def read(run_id: str) -> dict[str, Any] | None:
            async with reading:
                try:
                    return await self.runs.run(connection, run_id, refresh)
                except MlflowError as error:  # a deleted run: its versions have no value
                    if error.code != "not_found":
                        raise
                    return None

        runs = dict(zip(run_ids, await asyncio.gather(*map(read, run_ids)), strict=True))
        answer = across_versions(connection.group, name, key, raws, runs, direction)
        return {**answer, "more": bool(page.get("next_page_token"))}


def _aliases(model: Mapping[str, Any]) -> dict[str, list[str]]:
    """`{version: [aliases]}` from MLflow's registered model."""
    aliases: dict[str, list[str]] = {}
    for entry in model.get("registered_model", {}).get("aliases") or []:
        aliases.setdefault(str(entry.get("version")), []).append(entry.get("alias"))
    return aliases
