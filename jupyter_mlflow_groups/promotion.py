"""Registry changes on a group's behalf, by the group's policy (`registry` in its binding):
aliases set, moved and removed; tags and descriptions of models and versions edited. A
member's change of a protected alias becomes a request that one of the group's admins
approves (which makes the change) or rejects.

Requests, and every alias change made here, are recorded in the group's own MLflow as runs of
one experiment (RECORDS_EXPERIMENT): every member's Jupyter server sees the same requests, they
survive restarts, and the MLflow UI shows who moved which alias, when and why. Writes go out
with the binding's `registry.write_env` credentials when the admin gave some, so that kernels
can hold read-only ones and the policy cannot be stepped around from a notebook.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .bindings import ALIAS_NAME, RegistryPolicy
from .errors import ApiError, MlflowError
from .events import Topic
from .links import ui_page
from .registry import GroupConnection, RegistryService, iso_moment

RECORDS_EXPERIMENT = "jupyter-mlflow-groups/promotions"
TAG = "mlflow_groups."  # the prefix of a record run's tags
#: What a record holds, each in a tag of its run.
RECORD_FIELDS = (
    "action", "model", "alias", "version", "previous", "requested_by", "reason", "status",
    "decided_by", "decided_at", "comment", "message",
)  # fmt: skip
MAX_TEXT = 1000  # a reason or a comment
MAX_TAG_KEY = 250
MAX_TAG_VALUE = 5000


@dataclass(frozen=True)
class Actor:
    """Who asks: a user of the Jupyter server, and whether the group makes them an admin."""

    user: str
    admin: bool


class WriterAccess(Protocol):
    def writer(self, group: str) -> tuple[GroupConnection, RegistryPolicy, Actor]:
        """The group's MLflow as the server writes to it, its policy, and who asks."""

    def changed(self, group: str, topic: Topic) -> None:
        """What was read of the group is stale; its frontends are told."""


class Promotions:
    """Writes to a group's registry, through its writer connection (see the module's doc)."""

    def __init__(self, access: WriterAccess, registry: RegistryService) -> None:
        self.access = access
        self.registry = registry  # its reads and 404s, with the writer's connection
        self._experiments: dict[tuple[str, ...], str] = {}

    # -- aliases ---------------------------------------------------------------------------------

    async def set_alias(
        self, group: str, model: str, alias: str, version: str, reason: str
    ) -> tuple[int, dict[str, Any]]:
        """Point `alias` at `version` (200), or ask an admin to (202, the request)."""
        writer, policy, actor = self.access.writer(group)
        _may_write(writer.group, policy, actor)
        _check_alias(alias)
        if not version.isdigit():
            raise ApiError(
                400, "bad_request", f"'{version}' is not a version number.", "Give one like 4."
            )
        _check_text(reason, "reason")
        previous = await self._alias_target(writer, model, alias)
        await self.registry.model_version(writer, model, version)
        change = {"action": "set", "model": model, "alias": alias, "version": version}
        return await self._change(writer, policy, actor, {**change, "previous": previous}, reason)

    async def remove_alias(
        self, group: str, model: str, alias: str, reason: str
    ) -> tuple[int, dict[str, Any]]:
        """Remove `alias` (200), or ask an admin to (202, the request)."""
        writer, policy, actor = self.access.writer(group)
        _may_write(writer.group, policy, actor)
        _check_alias(alias)
        _check_text(reason, "reason")
        previous = await self._alias_target(writer, model, alias)
        if previous is None:
            raise ApiError(
                404,
                "not_found",
                f"Model '{model}' of group '{writer.group}' has no alias @{alias}.",
                "Its aliases are listed with its versions.",
            )
        change = {"action": "remove", "model": model, "alias": alias, "version": None}
        return await self._change(writer, policy, actor, {**change, "previous": previous}, reason)

    async def _change(
        self,
        writer: GroupConnection,
        policy: RegistryPolicy,
        actor: Actor,
        change: dict[str, Any],
        reason: str,
    ) -> tuple[int, dict[str, Any]]:
        fields = {**change, "requested_by": actor.user, "reason": reason}
        if policy.protects(change["alias"]) and not actor.admin:
            record = await self._record(writer, {**fields, "status": "pending"})
            self.access.changed(writer.group, "requests")  # an admin's review waits
            return 202, {"applied": False, "request": record}
        await self._apply(writer, change)
        record = await self._record(
            writer,
            {**fields, "status": "applied", "decided_by": actor.user, "decided_at": _now()},
        )
        return 200, {"applied": True, "record": record}

    async def _apply(self, writer: GroupConnection, change: Mapping[str, Any]) -> None:
        path = "/registered-models/alias"
        body = {"name": change["model"], "alias": change["alias"]}
        if change["action"] == "set":
            await self._write(writer, "POST", path, {**body, "version": change["version"]})
        else:
            await self._write(writer, "DELETE", path, body)
        self.access.changed(writer.group, "aliases")

    # -- requests --------------------------------------------------------------------------------

    async def requests(self, group: str, everything: bool) -> dict[str, Any]:
        """Pending requests, newest first (every record, decided ones too, with `everything`)."""
        writer, _, _ = self.access.writer(group)
        experiment = await self._experiment(writer, create=False)
        records: list[dict[str, Any]] = []
        if experiment is not None:
            body: dict[str, Any] = {
                "experiment_ids": [experiment],
                "order_by": ["attributes.start_time DESC"],
                "max_results": 200,
            }
            if not everything:
                body["filter"] = f"tags.`{TAG}status` = 'pending'"
            answer = await self.registry.call(writer, "POST", "/runs/search", body)
            records = [self._described(writer, run) for run in answer.get("runs", [])]
        return {"group": writer.group, "requests": records}

    async def decide(
        self, group: str, request_id: str, approve: bool, comment: str
    ) -> dict[str, Any]:
        """An admin approves (the change is made) or rejects a pending request."""
        writer, _, actor = self.access.writer(group)
        if not actor.admin:
            raise ApiError(
                403,
                "forbidden",
                f"Only an admin of group '{writer.group}' may approve or reject requests.",
                "Ask one of the group's admins to review it.",
            )
        _check_text(comment, "comment")
        record = await self._request(writer, request_id)
        if record["status"] != "pending":
            raise ApiError(
                409,
                "conflict",
                f"Request {request_id} was {record['status']} by {record['decided_by']} at "
                f"{record['decided_at']}.",
                "The group's requests are listed with their state.",
            )
        decision = {"decided_by": actor.user, "decided_at": _now(), "comment": comment}
        if not approve:
            return await self._decided(writer, record, {**decision, "status": "rejected"})
        try:
            await self._apply(writer, record)
        except (ApiError, MlflowError) as error:
            await self._decided(
                writer, record, {**decision, "status": "failed", "message": error.message}
            )
            raise ApiError(
                409,
                "conflict",
                f"Approved, but the change could not be made: {error.message}",
                "The request is recorded as failed; a member may ask again.",
            ) from None
        return await self._decided(writer, record, {**decision, "status": "approved"})

    async def _request(self, writer: GroupConnection, request_id: str) -> dict[str, Any]:
        experiment = await self._experiment(writer, create=False)
        try:
            answer = await self.registry.call(writer, "GET", "/runs/get", {"run_id": request_id})
        except MlflowError as error:
            if error.code not in ("not_found", "bad_request"):
                raise
            answer = {}
        run = answer.get("run") or {}
        if experiment is None or (run.get("info") or {}).get("experiment_id") != experiment:
            raise ApiError(
                404,
                "not_found",
                f"Group '{writer.group}' has no request {request_id}.",
                "The group's requests are listed by GET .../requests and in the sidebar.",
            )
        return self._described(writer, run)

    async def _decided(
        self, writer: GroupConnection, record: Mapping[str, Any], decision: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The decision written into the request's run; the request as it now stands."""
        request_id = record["id"]
        tags = [{"key": f"{TAG}{k}", "value": str(v)} for k, v in decision.items() if v]
        await self._write(writer, "POST", "/runs/log-batch", {"run_id": request_id, "tags": tags})
        state = "FAILED" if decision["status"] == "failed" else "FINISHED"
        await self._write(
            writer,
            "POST",
            "/runs/update",
            {"run_id": request_id, "status": state, "end_time": int(time.time() * 1000)},
        )
        self.access.changed(writer.group, "requests")
        return {**record, **{k: v or None for k, v in decision.items()}}

    # -- records ---------------------------------------------------------------------------------

    async def _record(self, writer: GroupConnection, fields: Mapping[str, Any]) -> dict[str, Any]:
        experiment = await self._experiment(writer, create=True)
        version = f"v{fields['version']}" if fields.get("version") else "none"
        name = f"@{fields['alias']} of {fields['model']} → {version}"
        tags = [{"key": f"{TAG}{k}", "value": str(v)} for k, v in fields.items() if v]
        run = await self._write(
            writer,
            "POST",
            "/runs/create",
            {
                "experiment_id": experiment,
                "run_name": name[:250],
                "start_time": int(time.time() * 1000),
                "tags": tags,
            },
        )
        if fields["status"] != "pending":  # a change made at once: its record is complete
            run_id = run["run"]["info"]["run_id"]
            await self._write(
                writer,
                "POST",
                "/runs/update",
                {"run_id": run_id, "status": "FINISHED", "end_time": int(time.time() * 1000)},
            )
        return self._described(writer, run["run"])  # MLflow answers the run it created

    def _described(self, writer: GroupConnection, run: Mapping[str, Any]) -> dict[str, Any]:
        info = run.get("info") or {}
        tags = {
            tag["key"][len(TAG) :]: tag.get("value", "")
            for tag in (run.get("data") or {}).get("tags", [])
            if tag.get("key", "").startswith(TAG)
        }
        run_id = info.get("run_id") or info.get("run_uuid")
        return {
            "id": run_id,
            **{name: tags.get(name) or None for name in RECORD_FIELDS},
            "requested_at": iso_moment(info.get("start_time")),
            "ui_url": ui_page(
                writer.ui_url, "experiments", str(info.get("experiment_id", "")), "runs", run_id
            ),
        }

    async def _experiment(self, writer: GroupConnection, create: bool) -> str | None:
        """The records' experiment id, created on first use (when `create`)."""
        key = writer.cache_key
        if key in self._experiments:
            return self._experiments[key]
        params = {"experiment_name": RECORDS_EXPERIMENT}
        try:
            found = await self.registry.call(writer, "GET", "/experiments/get-by-name", params)
            experiment = found["experiment"]["experiment_id"]
        except MlflowError as error:
            if error.code != "not_found":
                raise
            if not create:
                return None
            try:
                made = await self._write(
                    writer, "POST", "/experiments/create", {"name": RECORDS_EXPERIMENT}
                )
                experiment = made["experiment_id"]
            except MlflowError as exists:  # created meanwhile by another member's server
                if exists.code != "bad_request":
                    raise
                found = await self.registry.call(writer, "GET", "/experiments/get-by-name", params)
                experiment = found["experiment"]["experiment_id"]
        self._experiments[key] = str(experiment)
        return str(experiment)

    # -- edits -----------------------------------------------------------------------------------

    async def edit(
        self,
        group: str,
        model: str,
        version: str | None,
        description: str | None,
        tags: Mapping[str, str | None],
    ) -> None:
        """A model's (or, with `version`, a version's) description and tags: a tag set to None
        is removed."""
        writer, policy, actor = self.access.writer(group)
        _may_write(writer.group, policy, actor)
        if description is not None and len(description) > MAX_TAG_VALUE:
            raise ApiError(
                400, "bad_request", f"A description is at most {MAX_TAG_VALUE} characters."
            )
        for key, value in tags.items():
            if (
                not key
                or len(key) > MAX_TAG_KEY
                or (value is not None and len(value) > MAX_TAG_VALUE)
            ):
                raise ApiError(
                    400,
                    "bad_request",
                    f"Tag {key[:80]!r}: keys are 1-{MAX_TAG_KEY} characters, values at most "
                    f"{MAX_TAG_VALUE}.",
                )
        if version is None:
            await self.registry.registered_model(writer, model)
            target, kind = {"name": model}, "registered-models"
        else:
            await self.registry.model_version(writer, model, version)
            target, kind = {"name": model, "version": version}, "model-versions"
        if description is not None:
            await self._write(
                writer, "PATCH", f"/{kind}/update", {**target, "description": description}
            )
        for key, value in tags.items():
            if value is None:
                await self._write(writer, "DELETE", f"/{kind}/delete-tag", {**target, "key": key})
            else:
                await self._write(
                    writer, "POST", f"/{kind}/set-tag", {**target, "key": key, "value": value}
                )
        self.access.changed(writer.group, "models")

    # -- MLflow ----------------------------------------------------------------------------------

    async def _alias_target(self, writer: GroupConnection, model: str, alias: str) -> str | None:
        """The version `alias` points at now (None: unset); 404 for an unknown model."""
        found = await self.registry.registered_model(writer, model)
        aliases = (found.get("registered_model") or {}).get("aliases", [])
        return next((str(a["version"]) for a in aliases if a.get("alias") == alias), None)

    async def _write(
        self, writer: GroupConnection, method: str, path: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A change; MLflow's refusal of the group's credentials is a clear 403."""
        try:
            return await self.registry.call(writer, method, path, body)
        except MlflowError as error:
            if error.code != "forbidden":
                raise
            raise ApiError(
                403,
                "forbidden",
                f"{error.message}: the credentials this Jupyter server writes to group "
                f"'{writer.group}''s MLflow with may not change it.",
                "Ask the group's admin for write credentials (registry.write_env in the "
                "binding) or for MLflow permission to edit.",
            ) from None


def _may_write(group: str, policy: RegistryPolicy, actor: Actor) -> None:
    if policy.write == "members" or (policy.write == "admins" and actor.admin):
        return
    who = "nobody" if policy.write == "nobody" else "only its admins"
    raise ApiError(
        403,
        "forbidden",
        f"Group '{group}' lets {who} change its registry through Jupyter.",
        "Ask one of the group's admins to make the change, or to change registry.write.",
    )


def _check_alias(alias: str) -> None:
    if not ALIAS_NAME.match(alias):
        raise ApiError(
            400,
            "bad_request",
            f"'{alias[:80]}' is not an alias name.",
            "Aliases are letters, digits, _ and -, like champion; not latest nor v<number>.",
        )


def _check_text(text: str, what: str) -> None:
    if len(text) > MAX_TEXT:
        raise ApiError(400, "bad_request", f"A {what} is at most {MAX_TEXT} characters.")


def _now() -> str:
    return iso_moment(time.time() * 1000) or ""
