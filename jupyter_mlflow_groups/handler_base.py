"""What every handler of the extension shares: authentication by Jupyter Server (or by a
kernel's token, which grants this API only; see kernel_tokens.py), memberships brought up to
date, strict inputs (unknown body fields, bad numbers: 400), and one error shape,
`{"error": {"code", "message", "hint"}}`, for every failure, Jupyter's own 403s and
unexpected ones included, never with a traceback.
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from .errors import HTTP_STATUS, ApiError, MlflowError
from .kernel_tokens import KernelTokenAuth
from .registry import MAX_PAGE
from .service import MlflowGroupsService

AUTH_RESOURCE = "mlflow_groups"
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
