"""Group memberships from JupyterHub, for a server running as a Hub single-user server.

The Hub gives its single-user server a token (`JUPYTERHUB_API_TOKEN`) that may always ask
`GET /hub/api/user` who its owner is: the answer holds the owner's groups (JupyterHub's
"identify" scopes include them), so no extra Hub role or scope is needed. Answers are kept for
a short while; a kernel start asks again, so a membership changed in the Hub takes effect at the
next kernel start. When the Hub cannot be asked, the last answer stays in force and the reason
is reported (`problem`); before any answer, the owner is in no group.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from .binding_store import BindingSet

API_URL_VARIABLE = "JUPYTERHUB_API_URL"
API_TOKEN_VARIABLE = "JUPYTERHUB_API_TOKEN"


class HubAnswerError(Exception):
    """The Hub's answer about the owner could not be used; the message says why."""


def hub_available(env: Mapping[str, str]) -> bool:
    """Whether this server was started by a JupyterHub (which sets its API URL and token)."""
    return bool(env.get(API_URL_VARIABLE) and env.get(API_TOKEN_VARIABLE))


class HubMemberships:
    """The server owner's groups, as the Hub knows them (a MembershipSource)."""

    def __init__(
        self,
        api_url: str,
        token: str,
        owner: str,
        *,
        ttl: float,
        timeout: float,
        log: logging.Logger,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._token = token
        self.owner = owner
        self.ttl = ttl
        self.timeout = timeout
        self.log = log
        self.problem: str | None = None
        self._groups: frozenset[str] = frozenset()
        self._answered = False
        self._asked_at = float("-inf")  # monotonic time of the last question to the Hub
        self._lock = asyncio.Lock()

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], owner: str, *, ttl: float, timeout: float, log: logging.Logger
    ) -> HubMemberships:
        return cls(
            env[API_URL_VARIABLE], env[API_TOKEN_VARIABLE], owner, ttl=ttl, timeout=timeout, log=log
        )

    def groups_of(self, user: str, bindings: BindingSet) -> list[str]:
        """The configured groups the Hub puts `user` in, in the bindings' order. Only the
        server's owner is known to this server's Hub token."""
        if user != self.owner:
            return []
        return [name for name in bindings.groups if name in self._groups]

    async def refresh(self, *, force: bool = False) -> None:
        """Ask the Hub again if it was last asked more than `ttl` ago (with `force`: unless
        it was asked since this call began, by a concurrent caller). Never raises: a failure
        is logged and kept in `problem`, and the last answer stays in force."""
        called_at = time.monotonic()
        async with self._lock:
            if self._asked_at > (called_at if force else time.monotonic() - self.ttl):
                return
            self._asked_at = time.monotonic()
            try:
                groups = await self._ask_hub()
            except HubAnswerError as error:
                self._fail(str(error))
                return
            if self._answered and groups != self._groups:
                self.log.info(
                    "MLflow groups: JupyterHub now puts %s in: %s",
                    self.owner,
                    ", ".join(sorted(groups)) or "no group",
                )
            self._groups, self._answered, self.problem = groups, True, None

    async def _ask_hub(self) -> frozenset[str]:
        request = HTTPRequest(
            f"{self.api_url}/user",
            headers={"Authorization": f"token {self._token}", "Accept": "application/json"},
            connect_timeout=self.timeout,
            request_timeout=self.timeout,
        )
        try:
            response = await AsyncHTTPClient().fetch(request)
        except HTTPClientError as error:
            if error.code in (401, 403):
                raise HubAnswerError(
                    f"JupyterHub refused this server's token (HTTP {error.code}): restart the "
                    "server from the Hub to get a new one"
                ) from None
            if error.response is None:  # no HTTP answer at all: a timeout, a closed connection
                raise HubAnswerError(f"JupyterHub did not answer: {error}") from None
            raise HubAnswerError(f"JupyterHub answered HTTP {error.code}") from None
        except (OSError, asyncio.TimeoutError, ValueError) as error:  # ValueError: a bad URL
            raise HubAnswerError(f"JupyterHub did not answer: {error}") from None
        try:
            user = json.loads(response.body)
        except ValueError:
            raise HubAnswerError("JupyterHub's answer is not JSON") from None
        if not isinstance(user, dict) or user.get("name") != self.owner:
            raise HubAnswerError(
                f"JupyterHub's token does not belong to {self.owner} (it identifies "
                f"{user.get('name') if isinstance(user, dict) else 'nobody'!r})"
            )
        groups = user.get("groups")
        if not isinstance(groups, list) or not all(isinstance(name, str) for name in groups):
            raise HubAnswerError("JupyterHub's answer has no list of groups")
        return frozenset(groups)

    def _fail(self, reason: str) -> None:
        kept = "keeping its last answer" if self._answered else "no group until it answers"
        self.problem = f"Group memberships from JupyterHub unavailable ({kept}): {reason}"
        self.log.warning("MLflow groups: %s", self.problem)
