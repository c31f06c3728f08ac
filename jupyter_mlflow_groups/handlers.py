"""Thin REST handlers over the service: parse the request, call one method, write JSON.

Every handler is authenticated and authorized by Jupyter Server (or by a kernel's token, which
grants this API only; see kernel_tokens.py). Every error, including Jupyter's own 403s and
unexpected failures, is written as `{"error": {"code", "message", "hint"}}`, never with a
traceback. Inputs are strict (unknown body fields, bad page sizes: 400). openapi.yaml describes
every route here; tests/test_openapi.py keeps the two in step.
"""

from __future__ import annotations

import asyncio
import functools
import json
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
from .errors import HTTP_STATUS, ApiError, MlflowError
from .events import MAX_WAIT
from .kernel_tokens import KernelTokenAuth
from .registry import MAX_PAGE
from .service import MlflowGroupsService
from .webhooks import HOOKS_PATH

AUTH_RESOURCE = "mlflow_groups"
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

XSRF_HINT = (
    "A browser session must send its _xsrf cookie's value in the X-XSRFToken header; "
    "a script can authenticate with a token instead (Authorization: token ...)."
)
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
}


class JsonErrors:
    """Every failure written as `{"error": {"code", "message", "hint"}}` (a mixin of request
    handlers)."""

    def write_error(self: Any, status_code: int, **kwargs: Any) -> None:
        status, error = error_body(self, status_code, kwargs.get("exc_info"))
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": error}))

    def _authenticated(self) -> bool:
        return False


class GroupsHandlerBase(KernelTokenAuth, ExtensionHandlerMixin, JsonErrors):
    """What every handler of ours shares (the API's and the proxy's): the service, kernel-token
    auth, memberships brought up to date, and the error shape."""

    auth_resource = AUTH_RESOURCE

    @property
    def service(self) -> MlflowGroupsService:
        return self.extensionapp.service  # type: ignore[attr-defined,no-any-return]

    async def bring_up_to_date(self) -> None:
        """Bindings and memberships as they are now (never asked for anonymous callers, who
        are refused before)."""
        if self._authenticated():
            await self.service.bring_up_to_date()

    def _authenticated(self) -> bool:
        try:
            return bool(self.current_user)
        except Exception:  # an error before authentication ran
            return False

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, (ApiError, MlflowError)):  # expected, explained to the client
            self.log.info("MLflow groups: %s %s: %s", self.request.method, self.request.path, value)
        else:
            super().log_exception(typ, value, tb)  # type: ignore[misc]


def error_body(handler: Any, status_code: int, exc_info: Any) -> tuple[int, dict[str, str]]:
    """The status and `{"code", "message", "hint"}` of any failure, Jupyter's own 403s and
    unexpected errors included (never a traceback)."""
    error = (exc_info or (None, None, None))[1]
    hint = ""
    if isinstance(error, ApiError):
        status_code, code, message, hint = error.status, error.code, error.message, error.hint
    elif isinstance(error, MlflowError):
        status_code, code, message = HTTP_STATUS.get(error.code, 502), error.code, error.message
        hint = error.hint
    elif isinstance(error, web.HTTPError):
        code = _STATUS_CODES.get(status_code, "error")
        message = error.log_message or handler._reason or "Request refused"
        if error.log_message and error.args:
            message = error.log_message % error.args
        if status_code == 403 and not handler._authenticated():
            code = "unauthenticated"
        elif status_code == 403 and "xsrf" in message.lower():
            code, hint = "xsrf", XSRF_HINT
            message = f"Refused: no valid XSRF token ({message})."
    else:
        status_code, code, message = 500, "internal_error", "Internal error: see the server log"
    return status_code, {"code": code, "message": message, "hint": hint}


class MlflowGroupsHandler(GroupsHandlerBase, APIHandler):
    """The REST API's handlers: strict inputs, JSON out."""

    async def prepare(self) -> None:
        """Authenticate (Jupyter's or a kernel's token), then bring memberships up to date."""
        await super().prepare()
        await self.bring_up_to_date()

    def json_body(self, fields: tuple[str, ...]) -> dict[str, Any]:
        """The request body as a JSON object of known `fields`; 400 with the reason otherwise.
        Unknown fields are refused, so nobody can slip in a tracking URI or a path."""
        try:
            body = json.loads(self.request.body or b"")
        except (ValueError, UnicodeDecodeError) as error:
            raise ApiError(
                400, "bad_request", f"The request body is not valid JSON: {error}"
            ) from None
        except RecursionError:  # no request of this API nests: refuse, do not crash
            raise ApiError(400, "bad_request", "The request body nests too deeply.") from None
        if not isinstance(body, dict):
            raise ApiError(400, "bad_request", "The request body must be a JSON object.")
        unknown = sorted(set(body) - set(fields))
        if unknown:
            takes = f"only {', '.join(map(repr, fields))}" if fields else "no fields"
            raise ApiError(
                400,
                "bad_request",
                f"Unknown field(s) {', '.join(map(repr, unknown))}: this request takes {takes}.",
            )
        return body

    def page_size(self, default: int = 25) -> int:
        """`max_results`: from 1 to MAX_PAGE."""
        size = self.whole_number("max_results", 1, MAX_PAGE)
        return default if size is None else size

    def whole_number(self, name: str, low: int, high: int) -> int | None:
        """A query argument of ASCII digits from `low` to `high`; None when absent."""
        value = self.get_query_argument(name, None)
        if value is None:
            return None
        if not (value.isascii() and value.isdigit()):
            raise ApiError(400, "bad_request", f"'{name}' must be a whole number")
        # (the length first: int() of thousands of digits raises, and costs time)
        if len(value) > len(str(high)) or not low <= int(value) <= high:
            raise ApiError(400, "bad_request", f"{name} must be between {low} and {high}")
        return int(value)

    def no_body(self) -> None:
        """An action that takes no body: an empty one, or an empty JSON object (400 else)."""
        if (self.request.body or b"").strip():
            self.json_body(())

    def exact_query_argument(self, name: str) -> str | None:
        """A query argument exactly as sent (tornado's own turns control characters, NUL
        included, into spaces: a path must be refused for them, not changed)."""
        values = self.request.query_arguments.get(name)
        if not values:
            return None
        try:
            return values[-1].decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, "bad_request", f"'{name}' is not valid UTF-8.") from None

    def refresh_requested(self) -> bool:
        return self.get_query_argument("refresh", "").lower() in ("1", "true", "yes")

    def members_only(self, group: str) -> None:
        """Refuse a stranger to the group (403/404) before reading what they sent: they learn
        nothing, not even what their request lacks."""
        self.service.binding(group)

    async def decide(self, group: str, request_id: str, approve: bool) -> None:
        """An admin's decision on a request, with an optional `comment`."""
        self.members_only(group)
        body = self.json_body(("comment",)) if (self.request.body or b"").strip() else {}
        comment = self.text(body, "comment")
        self.write_json(await self.service.promotions.decide(group, request_id, approve, comment))

    def text(self, body: dict[str, Any], field: str) -> str:
        """An optional text field of a body: a string, or absent."""
        value = body.get(field, "")
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ApiError(400, "bad_request", f"'{field}' must be a string.")
        return value.strip()

    def edits(self) -> tuple[str | None, dict[str, str | None]]:
        """A PATCH body: `description` (a string) and `tags` ({key: value, or null to remove})."""
        body = self.json_body(("description", "tags"))
        description, tags = body.get("description"), body.get("tags") or {}
        if description is not None and not isinstance(description, str):
            raise ApiError(400, "bad_request", "'description' must be a string.")
        if not isinstance(tags, dict) or not all(
            isinstance(value, str) or value is None for value in tags.values()
        ):
            raise ApiError(
                400,
                "bad_request",
                "'tags' must map each key to a string, or to null to remove it.",
            )
        if description is None and not tags:
            raise ApiError(400, "bad_request", "Nothing to change: send description or tags.")
        return description, tags

    def write_json(self, payload: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload))


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
