"""Registry webhooks: a group's MLflow (3.3 and later, on a SQL backend) tells this server at
once when a version is registered or an alias is set or removed, so that a deployment following
the alias moves within seconds and the frontends update. Groups whose MLflow cannot (a file
store, an older MLflow, no permission to create webhooks, no way back to this server) are
polled instead; so is every group now and then, should a delivery be lost.

Each Jupyter server registers one webhook per group, with its own URL and a random secret it
keeps in memory only, and deletes it when it stops (one of an earlier run at the same URL is
replaced). A delivery counts only with MLflow's HMAC-SHA256 signature over its id, timestamp
and body, made with that secret, at most MAX_AGE old. Even then it is a hint to look again:
what changed is read from MLflow, never taken from the delivery.

MLflow reaches this server at `webhook_base_url` when the admin sets one (the address the
groups' MLflow servers see); otherwise at the server's own loopback URL, for the groups whose
MLflow runs on this machine (managed groups, and tracking URIs on a loopback host).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, MlflowError
from .registry import GroupConnection, RegistryService

HOOKS_PATH = "mlflow-groups/hooks"
#: What the webhook subscribes to: what the sidebar shows and following acts on.
EVENTS = (
    ("REGISTERED_MODEL", "CREATED"),
    ("MODEL_VERSION", "CREATED"),
    ("MODEL_VERSION_TAG", "SET"),
    ("MODEL_VERSION_TAG", "DELETED"),
    ("MODEL_VERSION_ALIAS", "CREATED"),
    ("MODEL_VERSION_ALIAS", "DELETED"),
)
MAX_AGE = 300.0  # seconds: an older delivery is refused (a replay)
RETRY_EVERY = 2.0  # seconds between tries while the group's MLflow is not up yet
RETRY_FOR = 300.0  # seconds of tries before giving up (polling goes on)
#: Failures that may pass: the group's MLflow starting, or briefly away.
PASSING = ("not_configured", "unreachable", "timeout")
SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_HEADER = "X-MLflow-Delivery-Id"


def signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """MLflow's signature of a delivery: `v1,` and base64 of HMAC-SHA256 over
    `{delivery_id}.{timestamp}.{body}`."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_name(user: str) -> str:
    """A name MLflow accepts (letters, digits, `.`, `_`, `-`; at most 62; a letter or digit
    at both ends) that says whose server it calls."""
    name = f"jupyter-mlflow-groups.{re.sub(r'[^A-Za-z0-9._-]', '-', user)}"
    return name[:62].rstrip("._-")


@dataclass
class _Hook:
    url: str
    secret: str
    webhook_id: str | None = None  # once MLflow has it
    connection: GroupConnection | None = None


class RegistryWebhooks:
    def __init__(self, registry: RegistryService, user: str, log: logging.Logger) -> None:
        self.registry = registry
        self.user = user
        self.log = log
        self._hooks: dict[str, _Hook] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def active(self, group: str) -> bool:
        """Whether the group's MLflow delivers to this server (its webhook is registered)."""
        hook = self._hooks.get(group)
        return hook is not None and hook.webhook_id is not None

    def ensure(
        self, group: str, url: str, writer: Callable[[], GroupConnection], *, patient: bool
    ) -> None:
        """Register the group's webhook to `url` in the background, unless it is registered
        or being registered there already; `patient`: retrying while its MLflow starts (a
        managed one), else once."""
        hook = self._hooks.get(group)
        if hook is not None and hook.url == url:
            return
        self._hooks[group] = _Hook(url, secrets.token_urlsafe(32))
        previous = self._tasks.pop(group, None)
        if previous is not None:
            previous.cancel()
        task = asyncio.get_running_loop().create_task(self._register(group, writer, patient))
        self._tasks[group] = task
        task.add_done_callback(lambda done: self._tasks.pop(group, None) if done is task else None)

    def verify(self, group: str, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """The delivery's JSON if MLflow signed it with the group's secret, recently; a 401
        otherwise (the same answer whatever is wrong, for a group with no webhook too)."""
        hook = self._hooks.get(group)
        given = headers.get(SIGNATURE_HEADER, "")
        timestamp = headers.get(TIMESTAMP_HEADER, "")
        delivery = headers.get(DELIVERY_HEADER, "")
        valid = hook is not None and hmac.compare_digest(
            given.encode(), signature(hook.secret, delivery, timestamp, body).encode()
        )
        try:
            fresh = abs(time.time() - float(timestamp)) <= MAX_AGE
        except ValueError:
            fresh = False
        if not (valid and fresh):
            raise ApiError(
                401,
                "unauthenticated",
                "This is not a current delivery of the group's MLflow webhook.",
                "Only the group's MLflow, with the secret this server gave it, may call here.",
            )
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise ApiError(400, "bad_request", "A webhook delivery is a JSON object.")
        return payload

    async def _register(
        self, group: str, writer: Callable[[], GroupConnection], patient: bool
    ) -> None:
        hook = self._hooks[group]
        deadline = time.monotonic() + (RETRY_FOR if patient else 0.0)
        while True:
            try:
                connection = writer()
                body = {
                    "name": webhook_name(self.user),
                    "description": f"Live updates for the Jupyter server of {self.user}",
                    "url": hook.url,
                    "events": [{"entity": e, "action": a} for e, a in EVENTS],
                    "secret": hook.secret,
                }
                answer = await self.registry.call(connection, "POST", "/webhooks", body)
                hook.webhook_id = str(answer["webhook"]["webhook_id"])
                hook.connection = connection
                break
            except (ApiError, MlflowError, KeyError, TypeError) as error:
                code = getattr(error, "code", "mlflow_error")
                if code in PASSING and time.monotonic() < deadline:
                    await asyncio.sleep(RETRY_EVERY)
                    continue
                self.log.info(
                    "MLflow groups: %s's MLflow cannot call back (%s): its aliases are polled",
                    group, getattr(error, "message", error),
                )  # fmt: skip
                return
        self.log.info("MLflow groups: %s's MLflow calls back on registry changes", group)
        try:
            await self._replace_earlier(connection, hook)
        except (ApiError, MlflowError) as error:
            self.log.warning(
                "MLflow groups: could not remove %s's webhooks of an earlier run: %s",
                group, error.message,
            )  # fmt: skip

    async def _replace_earlier(self, connection: GroupConnection, hook: _Hook) -> None:
        """Delete the webhooks to this one's URL that an earlier run of this server left (it
        crashed); after creating this one, so that an MLflow that refuses is asked once."""
        page_token = None
        while True:
            query = {"max_results": 100, **({"page_token": page_token} if page_token else {})}
            answer = await self.registry.call(connection, "GET", "/webhooks", query)
            for webhook in answer.get("webhooks", []):
                if webhook.get("url") == hook.url and webhook["webhook_id"] != hook.webhook_id:
                    await self._delete(connection, str(webhook["webhook_id"]))
            page_token = answer.get("next_page_token")
            if not page_token:
                return

    async def _delete(self, connection: GroupConnection, webhook_id: str) -> None:
        await self.registry.call(connection, "DELETE", f"/webhooks/{webhook_id}", {})

    async def close(self, timeout: float = 5.0) -> None:
        """Stop registering, and delete what was registered (best effort: an MLflow that does
        not answer in time keeps a webhook the next run at the same URL replaces)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        registered = [hook for hook in self._hooks.values() if hook.webhook_id and hook.connection]
        self._hooks.clear()
        if registered:
            deletions = [self._delete(h.connection, h.webhook_id) for h in registered]  # type: ignore[arg-type]
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.gather(*deletions, return_exceptions=True), timeout)
