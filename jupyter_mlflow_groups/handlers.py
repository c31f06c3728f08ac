"""Thin REST handlers over the service: parse the request, call one method, write JSON.

Every handler is authenticated and authorized by Jupyter Server; every error, including
Jupyter's own 403s and unexpected failures, is written as `{"error": {"code", "message"}}` and
never with a traceback.
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from .errors import ApiError
from .service import MlflowGroupsService

AUTH_RESOURCE = "mlflow_groups"
SETTINGS_KEY = "mlflow_groups_service"
API = "/mlflow-groups/api"
_GROUP = r"(?P<group>[^/]+)"

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
}


class MlflowGroupsHandler(ExtensionHandlerMixin, APIHandler):
    """Base: the service, strict JSON bodies and the error shape."""

    auth_resource = AUTH_RESOURCE

    @property
    def service(self) -> MlflowGroupsService:
        return self.settings[SETTINGS_KEY]

    def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object; 400 with the reason otherwise."""
        try:
            body = json.loads(self.request.body or b"")
        except (ValueError, UnicodeDecodeError) as error:
            raise ApiError(
                400, "bad_request", f"The request body is not valid JSON: {error}"
            ) from None
        if not isinstance(body, dict):
            raise ApiError(400, "bad_request", "The request body must be a JSON object.")
        return body

    def write_json(self, payload: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(payload))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, ApiError):
            status_code, code, message = error.status, error.code, error.message
        elif isinstance(error, web.HTTPError):
            code = _STATUS_CODES.get(status_code, "error")
            message = error.log_message or self._reason or "Request refused"
            if error.log_message and error.args:
                message = error.log_message % error.args
        else:
            status_code, code, message = 500, "internal_error", "Internal error: see the server log"
        self.set_status(status_code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": {"code": code, "message": message}}))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, ApiError):  # expected, already explained to the client
            self.log.info("MLflow groups: %s %s: %s", self.request.method, self.request.path, value)
        else:
            super().log_exception(typ, value, tb)


class GroupsHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json(self.service.groups())


class ActiveGroupHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def put(self) -> None:
        group = self.json_body().get("group")
        if not isinstance(group, str) or not group:
            raise ApiError(400, "bad_request", 'Send {"group": "<group name>"}.')
        self.write_json(self.service.set_active(group))


class GroupStatusHandler(MlflowGroupsHandler):
    @web.authenticated
    @authorized
    async def get(self, group: str) -> None:
        self.write_json(await self.service.status(group))


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


def routes() -> list[tuple[str, type[MlflowGroupsHandler]]]:
    return [
        (f"{API}/groups", GroupsHandler),
        (f"{API}/active", ActiveGroupHandler),
        (f"{API}/groups/{_GROUP}/status", GroupStatusHandler),
        (f"{API}/(?P<path>.*)", NotFoundHandler),
    ]
