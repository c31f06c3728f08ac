"""Thin REST handlers over the service: parse the request, call one method, write JSON.

What they share (auth, strict inputs, the error shape) is in handler_base.py. openapi.yaml
describes every route here; tests/test_openapi.py keeps the two in step.
"""

from __future__ import annotations

import asyncio
import functools
from importlib import resources
from typing import Any

import yaml
from jupyter_server.auth.decorator import allow_unauthenticated, authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from .artifacts import artifact_path, quoted_filename
from .compare import parse_directions, parse_versions
from .contract import API_PATH, TOKEN_HEADER
from .errors import ApiError
from .events import MAX_WAIT
from .handler_base import JsonErrors, MlflowGroupsHandler
from .service import MlflowGroupsService
from .webhooks import HOOKS_PATH

API = f"/{API_PATH}"
_SEGMENT = "[^/]+"
MAX_SEQ = 2**53  # change numbers, as JavaScript counts exactly

DEPLOY_FIELDS = ("name", "model", "version")
#: What each field of a deploy request is, for the message when it is missing.
DEPLOY_MISSING = {
    "name": "Give the new deployment a name",
    "model": "Name the registered model to deploy",
    "version": "Say which version to deploy",
}

#: A preview is never a page: no script, no plugin, no fetch, no form, even opened on its own.
PREVIEW_CSP = "sandbox; default-src 'none'"


class GroupsHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json(self.service.groups())


class ActiveGroupHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def put(self) -> None:
        group = self.json_body(("group",)).get("group")
        if not isinstance(group, str) or not group:
            raise ApiError(
                400,
                "bad_request",
                "Name the group to switch to.",
                "Your groups are listed by %mlflow_group list and in the sidebar.",
            )
        self.write_json(self.service.set_active(group))


class GroupStatusHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def get(self, group: str) -> None:
        self.write_json(await self.service.status(group))


class KernelEnvironmentHandler(MlflowGroupsHandler):
    """A group's environment, secrets included: for a kernel switching group, nobody else."""

    @web.authenticated
    @authorized
    async def get(self, group: str) -> None:
        token = self.request.headers.get(TOKEN_HEADER)
        if not token:
            raise ApiError(
                403,
                "forbidden",
                "Only a kernel, with its own token, may read a group's environment: it holds "
                "the group's secrets.",
            )
        self.write_json(self.service.kernel_environment(group, token))


class ModelsHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def get(self, group: str) -> None:
        self.write_json(
            await self.service.models(
                group,
                filter_string=self.get_query_argument("filter", ""),
                order_by=self.get_query_arguments("order_by"),
                max_results=self.page_size(),
                page_token=self.get_query_argument("page_token", None) or None,
                refresh=self.refresh_requested(),
            )
        )


class ModelHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def patch(self, group: str, name: str) -> None:
        self.members_only(group)
        await self.service.promotions.edit(group, name, None, *self.edits())
        self.write_json(await self.service.model(group, name, refresh=True))

    @web.authenticated
    @authorized
    async def get(self, group: str, name: str) -> None:
        self.write_json(
            await self.service.model(
                group,
                name,
                max_results=self.page_size(),
                page_token=self.get_query_argument("page_token", None) or None,
                refresh=self.refresh_requested(),
            )
        )


class VersionHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def get(self, group: str, name: str, version: str) -> None:
        self.write_json(await self.service.version(group, name, version, self.refresh_requested()))

    @web.authenticated
    @authorized
    async def patch(self, group: str, name: str, version: str) -> None:
        self.members_only(group)
        if not version.isdigit():
            raise ApiError(400, "bad_request", "Edit a version by its number, not an alias.")
        await self.service.promotions.edit(group, name, version, *self.edits())
        self.write_json(await self.service.version(group, name, version, refresh=True))


class AliasHandler(MlflowGroupsHandler):
    """Set or move (PUT) and remove (DELETE) an alias: 200 when done, 202 with a request when
    the alias is protected and an admin must approve."""

    @web.authenticated
    @authorized
    async def put(self, group: str, name: str, alias: str) -> None:
        self.members_only(group)
        body = self.json_body(("version", "reason"))
        version = body.get("version")
        if isinstance(version, int) and not isinstance(version, bool):
            version = str(version)
        if not isinstance(version, str) or not version:
            raise ApiError(400, "bad_request", "Say which version the alias points at.",
                           'Send {"version": "4", "reason": "why"}.')  # fmt: skip
        status, answer = await self.service.promotions.set_alias(
            group, name, alias, version, self.text(body, "reason")
        )
        self.write_json(answer, status=status)

    @web.authenticated
    @authorized
    async def delete(self, group: str, name: str, alias: str) -> None:
        self.members_only(group)
        body = self.json_body(("reason",)) if (self.request.body or b"").strip() else {}
        status, answer = await self.service.promotions.remove_alias(
            group, name, alias, self.text(body, "reason")
        )
        self.write_json(answer, status=status)


class RequestsHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def get(self, group: str) -> None:
        everything = self.get_query_argument("all", "").lower() in ("1", "true", "yes")
        self.write_json(await self.service.promotions.requests(group, everything))


class RequestApproveHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def post(self, group: str, request_id: str) -> None:
        await self.decide(group, request_id, approve=True)


class RequestRejectHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def post(self, group: str, request_id: str) -> None:
        await self.decide(group, request_id, approve=False)


class CompareHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def get(self, group: str, name: str) -> None:
        self.members_only(group)
        versions = parse_versions(self.get_query_argument("versions", ""))
        directions = parse_directions(self.get_query_arguments("direction"))
        self.write_json(
            await self.service.compare(group, name, versions, directions, self.refresh_requested())
        )


class ChangesHandler(MlflowGroupsHandler):
    """What changed in a group after change `after`, waiting up to `wait` seconds for one: how
    a kernel's widgets follow (browsers have Jupyter's event stream)."""

    @web.authenticated
    @authorized
    async def get(self, group: str) -> None:
        self.members_only(group)
        after = self.whole_number("after", 0, MAX_SEQ)
        wait = self.whole_number("wait", 0, int(MAX_WAIT)) or 0
        self.write_json(await self.service.changes.events.after(group, after, wait))


class RunHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def get(self, group: str, run_id: str) -> None:
        self.write_json(await self.service.run(group, run_id, self.refresh_requested()))


class MetricAcrossVersionsHandler(MlflowGroupsHandler):
    """One metric in each of a model's latest versions (x = version); `direction=max|min`
    overrides which way is better."""

    @web.authenticated
    @authorized
    async def get(self, group: str, name: str, key: str) -> None:
        self.members_only(group)
        direction = self.get_query_argument("direction", None)
        if direction not in (None, "max", "min"):
            raise ApiError(400, "bad_request", "direction is max or min.")
        self.write_json(
            await self.service.metric_across_versions(
                group, name, key, direction, self.refresh_requested()
            )
        )


class MetricHistoryHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def get(self, group: str, run_id: str, key: str) -> None:
        self.write_json(
            await self.service.metric_history(group, run_id, key, self.refresh_requested())
        )


class ArtifactsHandler(MlflowGroupsHandler):
    """One directory level of a run's artifacts (`?path=`, the root when absent)."""

    @web.authenticated
    @authorized
    async def get(self, group: str, run_id: str) -> None:
        self.members_only(group)
        path = artifact_path(self.exact_query_argument("path"), file=False)
        self.write_json(await self.service.artifacts(group, run_id, path, self.refresh_requested()))


class ArtifactHandler(MlflowGroupsHandler):
    """A previewable file of a run: served as the type its extension says (never the store's),
    inline, not to be sniffed, sandboxed."""

    @web.authenticated
    @authorized
    async def get(self, group: str, run_id: str) -> None:
        self.members_only(group)
        path = artifact_path(self.exact_query_argument("path"), file=True)
        preview = await self.service.artifact(group, run_id, path)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", PREVIEW_CSP)
        self.set_header("Content-Disposition", quoted_filename(preview.filename))
        self.set_header("Cache-Control", "private, no-store")
        self.set_header("X-Artifact-Preview", preview.kind)
        self.finish(preview.body, set_content_type=preview.content_type)


class DeploymentsHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def get(self, group: str) -> None:
        self.write_json(await self.service.deployments.list(group))

    @web.authenticated
    @authorized
    async def post(self, group: str) -> None:
        body = self.json_body((*DEPLOY_FIELDS, "follow"))
        fields = {key: body.get(key) for key in DEPLOY_FIELDS}
        follow = body.get("follow", False)
        if not isinstance(follow, bool):
            raise ApiError(400, "bad_request", "'follow' must be true or false.")
        for key, value in fields.items():
            if not (isinstance(value, str) and value.strip()):
                raise ApiError(
                    400,
                    "bad_request",
                    f"{DEPLOY_MISSING[key]}.",
                    "A deployment is a name (like fraud-prod), a registered model and one of "
                    "its versions: a number (like 3) or an alias (like @champion).",
                )
        job = await self.service.deployments.deploy(group, **fields, follow=follow)
        self.write_json({"job": job.to_json()}, status=202)


class DeploymentHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def get(self, group: str, name: str) -> None:
        self.write_json(await self.service.deployments.get(group, name))

    @web.authenticated
    @authorized
    async def delete(self, group: str, name: str) -> None:
        self.write_json(await self.service.deployments.delete(group, name))


class DeploymentStopHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def post(self, group: str, name: str) -> None:
        self.members_only(group)
        self.no_body()
        self.write_json(await self.service.deployments.stop(group, name))


class DeploymentStartHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def post(self, group: str, name: str) -> None:
        self.members_only(group)
        self.no_body()
        self.write_json(await self.service.deployments.start(group, name))


class JobHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        self.write_json(self.service.deployments.job(job_id).to_json())

    @web.authenticated
    @authorized
    async def delete(self, job_id: str) -> None:
        self.write_json((await self.service.deployments.cancel(job_id)).to_json())


@functools.cache
def openapi_description() -> dict[str, Any]:
    """The API's OpenAPI description, shipped next to this module."""
    text = resources.files(__package__).joinpath("openapi.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


class OpenApiHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json(await asyncio.to_thread(openapi_description))  # read once, off the loop


class WebhookHandler(ExtensionHandlerMixin, JsonErrors, APIHandler):
    """Deliveries of a group's MLflow registry webhook (webhooks.py). MLflow cannot hold a
    Jupyter token: MLflow's HMAC signature, made with a secret only this server and the group's
    MLflow know, authenticates a delivery instead, and a delivery only makes the server read
    again what changed (nothing in it is believed)."""

    def check_xsrf_cookie(self) -> None:
        """Signed by MLflow, not sent by a browser: there is no cookie to check."""

    @allow_unauthenticated
    async def post(self, group: str) -> None:
        service: MlflowGroupsService = self.extensionapp.service  # type: ignore[attr-defined]
        service.changes.delivered(group, self.request.headers, self.request.body)
        self.set_status(204)
        await self.finish()


class NotFoundHandler(MlflowGroupsHandler):
    """Anything else under the API: a JSON 404 rather than Jupyter's HTML page."""

    def missing(self, path: str) -> None:
        raise ApiError(404, "not_found", f"There is no MLflow groups API resource '{path}'.")

    # One method each: jupyter_server's @authorized remembers the action of its first call.
    @web.authenticated
    @authorized
    async def get(self, path: str) -> None:
        self.missing(path)

    @web.authenticated
    @authorized
    async def post(self, path: str) -> None:
        self.missing(path)

    @web.authenticated
    @authorized
    async def put(self, path: str) -> None:
        self.missing(path)

    @web.authenticated
    @authorized
    async def delete(self, path: str) -> None:
        self.missing(path)


def webhook_routes() -> list[tuple[str, type[WebhookHandler]]]:
    """Where the groups' MLflow servers deliver registry webhooks (not part of the API)."""
    return [(f"/{HOOKS_PATH}/(?P<group>{_SEGMENT})", WebhookHandler)]


def routes() -> list[tuple[str, type[MlflowGroupsHandler]]]:
    group = f"{API}/groups/(?P<group>{_SEGMENT})"
    model = f"{group}/models/(?P<name>{_SEGMENT})"
    deployment = f"{group}/deployments/(?P<name>{_SEGMENT})"
    return [
        (f"{API}/groups", GroupsHandler),
        (f"{API}/active", ActiveGroupHandler),
        (f"{group}/status", GroupStatusHandler),
        (f"{group}/kernel-env", KernelEnvironmentHandler),
        (f"{group}/models", ModelsHandler),
        (model, ModelHandler),
        (f"{model}/versions/(?P<version>{_SEGMENT})", VersionHandler),
        (f"{model}/compare", CompareHandler),
        # metric keys may hold slashes ("train/loss"): the rest of the path is the key
        (f"{model}/metrics/(?P<key>.+)", MetricAcrossVersionsHandler),
        (f"{model}/aliases/(?P<alias>{_SEGMENT})", AliasHandler),
        (f"{group}/requests", RequestsHandler),
        (f"{group}/changes", ChangesHandler),
        (f"{group}/requests/(?P<request_id>{_SEGMENT})/approve", RequestApproveHandler),
        (f"{group}/requests/(?P<request_id>{_SEGMENT})/reject", RequestRejectHandler),
        # metric keys may hold slashes ("train/loss"): the rest of the path is the key
        (f"{group}/runs/(?P<run_id>{_SEGMENT})", RunHandler),
        (f"{group}/runs/(?P<run_id>{_SEGMENT})/metrics/(?P<key>.+)", MetricHistoryHandler),
        (f"{group}/runs/(?P<run_id>{_SEGMENT})/artifacts", ArtifactsHandler),
        (f"{group}/runs/(?P<run_id>{_SEGMENT})/artifact", ArtifactHandler),
        (f"{group}/deployments", DeploymentsHandler),
        (deployment, DeploymentHandler),
        (f"{deployment}/stop", DeploymentStopHandler),
        (f"{deployment}/start", DeploymentStartHandler),
        (f"{API}/jobs/(?P<job_id>{_SEGMENT})", JobHandler),
        (f"{API}/openapi.json", OpenApiHandler),
        (f"{API}/(?P<path>.*)", NotFoundHandler),
    ]
