"""The one object the REST handlers and the kernel provisioner work through.

It acts for the server's owner (the JupyterHub user, or the account running a single-user
server): kernels belong to the server, not to a browser session, so the owner's active group
is the one every kernel gets.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from tornado.httpclient import AsyncHTTPClient

from .binding_store import BindingStore
from .bindings import (
    BASE_MANAGED_VARIABLES,
    GROUP_VARIABLE,
    GroupBinding,
    UnusableBinding,
    env_for,
    summarize,
)
from .groups import GroupResolver
from .mlflow_http import make_client
from .status import check_status

RESTART_NOTE = (
    "New kernels use the group '{group}'. Running kernels keep their group until they are "
    "restarted."
)


class MlflowGroupsService:
    def __init__(
        self,
        store: BindingStore,
        resolver: GroupResolver,
        user: str,
        status_timeout: float,
        log: logging.Logger,
    ) -> None:
        self.store = store
        self.resolver = resolver
        self.user = user
        self.status_timeout = status_timeout
        self.log = log
        self._http: AsyncHTTPClient | None = None

    @property
    def http(self) -> AsyncHTTPClient:
        if self._http is None:  # created lazily, on the running event loop
            self._http = make_client()
        return self._http

    def groups(self) -> dict[str, Any]:
        """The user's groups with masked bindings, and which one is active."""
        bindings = self.store.current()
        mine = self.resolver.groups_of(self.user, bindings)
        active = self.resolver.active_group(self.user, bindings)
        return {
            "user": self.user,
            "active": active,
            "default": bindings.default_group if bindings.default_group in mine else None,
            "groups": [self._describe(bindings.groups[name], active) for name in mine],
            "errors": list(bindings.errors),
        }

    def set_active(self, group: str) -> dict[str, Any]:
        binding = self.resolver.set_active(self.user, group)
        self.log.info("MLflow groups: %s switched the active group to '%s'", self.user, group)
        return {
            "active": group,
            "group": self._describe(binding, group),
            "message": RESTART_NOTE.format(group=group),
        }

    async def status(self, group: str) -> dict[str, Any]:
        binding = self.resolver.binding(self.user, group)
        return await check_status(binding, self.http, self.status_timeout)

    def apply_to_kernel_env(self, env: MutableMapping[str, str]) -> str | None:
        """Strip every managed variable from a kernel's env, then set the active binding's.

        Returns the group applied (None when the user has no group).
        """
        bindings = self.store.current()
        for name in BASE_MANAGED_VARIABLES | bindings.managed_variables():
            env.pop(name, None)
        group = self.resolver.active_group(self.user, bindings)
        if group is None:
            self.log.warning(
                "MLflow groups: %s is in no group; kernel gets no MLflow binding", self.user
            )
            return None
        env[GROUP_VARIABLE] = group
        try:
            resolved = env_for(bindings.groups[group])
        except UnusableBinding as error:
            self.log.warning("MLflow groups: kernel gets no MLflow settings: %s", error)
            return group
        env.update(resolved)
        self.log.info(
            "MLflow groups: kernel gets group '%s' (%s)", group, ", ".join(sorted(resolved))
        )
        return group

    def _describe(self, binding: GroupBinding, active: str | None) -> dict[str, Any]:
        return {
            **summarize(binding),
            "active": binding.name == active,
            "admin": self.user in binding.admins,
        }

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
