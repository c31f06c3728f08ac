"""The one object the REST handlers and the kernel provisioner work through.

It acts for the server's owner (the JupyterHub user, or the account running a single-user
server): kernels belong to the server, not to a browser session, so the owner's active group
is the one every kernel gets.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, MutableMapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from .binding_store import BindingStore
from .bindings import (
    BASE_MANAGED_VARIABLES,
    GROUP_VARIABLE,
    TOKEN_VARIABLE,
    URL_VARIABLE,
    GroupBinding,
    UnusableBinding,
    env_for,
    group_root,
    summarize,
)
from .cache import TtlCache
from .deploy.manager import DeploymentManager
from .errors import MlflowError
from .groups import GroupResolver
from .kernel_tokens import KernelTokens
from .managed import ManagedServers
from .mlflow_http import make_client
from .registry import GroupConnection, RegistryService
from .secrets import mask_uri, resolve
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
        request_timeout: float,
        cache_ttl: float,
        log: logging.Logger,
        groups_root: Path,
        copy_threads: int = 16,
        serve_timeout: float = 180.0,
    ) -> None:
        self.store = store
        self.resolver = resolver
        self.user = user
        self.status_timeout = status_timeout
        self.log = log
        self.tokens = KernelTokens()
        self.server_url: Callable[[], str | None] = lambda: None  # set by the server app
        self.request_timeout = request_timeout
        self.cache = TtlCache(cache_ttl)
        self.groups_root = groups_root
        self._registry: RegistryService | None = None
        self.managed = ManagedServers(log)
        self.deployments = DeploymentManager(
            self,
            log,
            copy_threads=copy_threads,
            copy_timeout=request_timeout,
            serve_timeout=serve_timeout,
            on_change=lambda group: self.registry.invalidate(group),
        )

    @property
    def registry(self) -> RegistryService:
        """Created at first use, on the running event loop its HTTP client belongs to."""
        if self._registry is None:
            self._registry = RegistryService(
                make_client(), self.request_timeout, self.cache, self.deployments.deployed_by
            )
        return self._registry

    # -- groups -------------------------------------------------------------------------------

    def in_effect(self, binding: GroupBinding) -> GroupBinding:
        """The binding as kernels get it: a managed group's tracking URI is its server's, whose
        supervision starts at the first need (it answers a few seconds later)."""
        if binding.mode != "managed" or not binding.valid:
            return binding
        self.managed.ensure(binding.name, self.group_root(binding))
        return replace(binding, tracking_uri=self.managed.url(binding.name))

    async def refresh_memberships(self, *, force: bool = False) -> None:
        """Memberships as their source knows them now (the Hub's are cached briefly)."""
        await self.resolver.memberships.refresh(force=force)

    def groups(self) -> dict[str, Any]:
        """The user's groups with masked bindings, and which one is active."""
        bindings = self.store.current()
        mine = self.resolver.groups_of(self.user, bindings)
        active = self.resolver.active_group(self.user, bindings)
        return {
            "user": self.user,
            "active": active,
            "default": bindings.default_group if bindings.default_group in mine else None,
            "groups": [
                self._describe(self.in_effect(bindings.groups[name]), active) for name in mine
            ],
            "errors": [*bindings.errors, *filter(None, [self.resolver.memberships.problem])],
        }

    def set_active(self, group: str) -> dict[str, Any]:
        binding = self.in_effect(self.resolver.set_active(self.user, group))
        self.log.info("MLflow groups: %s switched the active group to '%s'", self.user, group)
        return {
            "active": group,
            "group": self._describe(binding, group),
            "message": RESTART_NOTE.format(group=group),
        }

    async def status(self, group: str) -> dict[str, Any]:
        binding = self.binding(group)
        report = await check_status(binding, self.registry.client, self.status_timeout)
        state = self.managed.state(group) if binding.mode == "managed" else None
        if state is not None:
            report["managed"] = state.to_json()
            if state.state in ("starting", "restarting") and not report["ok"]:
                report["code"] = "starting" if state.state == "starting" else "unreachable"
                report["message"] = (
                    f"The group's MLflow server (run by this extension) is {state.state}"
                    + (f": {state.last_error}" if state.last_error else "")
                    + (f" ({state.restarts} restarts so far)" if state.restarts else "")
                )
                report["hint"] = (
                    "It answers within seconds; its log is server.log in the group's root."
                )
        return report

    # -- the registry -------------------------------------------------------------------------

    def connection(self, group: str) -> GroupConnection:
        """The group's MLflow, if the user is in the group and its binding is usable."""
        binding = self.binding(group)
        try:
            env = env_for(binding)
        except UnusableBinding as error:
            raise MlflowError(
                "not_configured", f"MLflow is not configured for group '{group}': {error}"
            ) from None
        uri = env.get("MLFLOW_TRACKING_URI", "")
        if not uri.startswith(("http://", "https://")):
            raise MlflowError(
                "not_configured",
                f"Group '{group}' has no MLflow tracking server to browse: its tracking URI is "
                f"{summarize(binding)['tracking_uri'] or 'not set'} (kernels use such stores "
                "directly; browsing needs an http(s) server)",
            )
        ui_url = binding.effective_ui_url
        return GroupConnection(group, env, mask_uri(resolve(ui_url)) if ui_url else None)

    async def models(self, group: str, **query: Any) -> dict[str, Any]:
        return await self.registry.models(self.connection(group), **query)

    async def model(self, group: str, name: str, **query: Any) -> dict[str, Any]:
        return await self.registry.model(self.connection(group), name, **query)

    async def version(self, group: str, name: str, version: str, refresh: bool) -> dict[str, Any]:
        return await self.registry.version(self.connection(group), name, version, refresh)

    async def metric_history(
        self, group: str, run_id: str, key: str, refresh: bool
    ) -> dict[str, Any]:
        return await self.registry.metric_history(self.connection(group), run_id, key, refresh)

    # -- deployments (the GroupAccess the DeploymentManager works through) ----------------------

    def binding(self, group: str) -> GroupBinding:
        """The binding in effect of a group the user is in (403/404 otherwise)."""
        return self.in_effect(self.resolver.binding(self.user, group))

    def bindings_for_startup(self) -> list[GroupBinding]:
        bindings = self.store.current()
        mine = (bindings.groups[name] for name in self.resolver.groups_of(self.user, bindings))
        return [self.in_effect(binding) for binding in mine if binding.valid]

    def group_root(self, binding: GroupBinding) -> Path:
        return group_root(binding, self.groups_root)

    def deploy_root(self, binding: GroupBinding) -> Path:
        if binding.deploy.root:
            return Path(binding.deploy.root).expanduser()
        return self.group_root(binding) / "deployments"

    def local_artifacts(self, binding: GroupBinding) -> Path | None:
        """The tracking server's artifact directory, when this server can read it directly:
        a managed group's (copies then skip HTTP)."""
        return self.group_root(binding) / "artifacts" if binding.mode == "managed" else None

    def worker_environment(self, binding: GroupBinding) -> dict[str, str]:
        """The server's environment with every managed variable replaced by the group's own:
        what copy workers and model servers run with."""
        unset, values = self._group_environment(binding.name)
        return {**{k: v for k, v in os.environ.items() if k not in unset}, **values}

    # -- kernels ------------------------------------------------------------------------------

    def apply_to_kernel_env(self, env: MutableMapping[str, str], kernel_id: str) -> str | None:
        """Strip every managed variable from a kernel's env, then set the active binding's and
        the kernel's way back to this API. Returns the group applied (None: no group)."""
        bindings = self.store.current()
        group = self.resolver.active_group(self.user, bindings)
        unset, values = self._group_environment(group)
        for name in unset:
            env.pop(name, None)
        env.update(values)
        server_url = self.server_url()
        if server_url:
            env[URL_VARIABLE] = server_url
            env[TOKEN_VARIABLE] = self.tokens.issue(kernel_id, self.user)
        if group is None:
            self.log.warning(
                "MLflow groups: %s is in no group; kernel gets no MLflow binding", self.user
            )
        else:
            self.log.info(
                "MLflow groups: kernel %s gets group '%s' (%s)",
                kernel_id,
                group,
                ", ".join(sorted(values)),
            )
        return group

    def kernel_environment(self, group: str) -> dict[str, Any]:
        """What a running kernel must drop and set to move to `group` (`%mlflow_group use`).
        Holds secrets: only ever sent to a kernel, authenticated by its own token."""
        self.resolver.binding(self.user, group)  # the user must be in the group
        unset, values = self._group_environment(group)
        kept = {URL_VARIABLE, TOKEN_VARIABLE}  # the kernel keeps its way back to this API
        return {"group": group, "unset": sorted(unset - kept), "set": values}

    def _group_environment(self, group: str | None) -> tuple[set[str], dict[str, str]]:
        """Every variable this extension manages, and a group's own values (only its name when
        its binding is unusable, which is logged)."""
        bindings = self.store.current()
        unset = set(BASE_MANAGED_VARIABLES | bindings.managed_variables())
        if group is None:
            return unset, {}
        try:
            return unset, env_for(self.in_effect(bindings.groups[group]))
        except UnusableBinding as error:
            self.log.warning("MLflow groups: no MLflow settings for a kernel: %s", error)
            return unset, {GROUP_VARIABLE: group}

    def forget_kernel(self, kernel_id: str) -> None:
        """The kernel shut down: its token stops working."""
        self.tokens.revoke(kernel_id)

    # -- helpers ------------------------------------------------------------------------------

    def _describe(self, binding: GroupBinding, active: str | None) -> dict[str, Any]:
        return {
            **summarize(binding),
            "active": binding.name == active,
            "admin": self.user in binding.admins,
        }

    async def startup(self) -> None:
        """Once the event loop runs: learn memberships (from the Hub, that takes a request),
        then resume the deployments of the user's groups."""
        await self.refresh_memberships()
        await self.deployments.startup()

    async def close(self) -> None:
        await self.deployments.shutdown()
        await self.managed.stop_all()
        if self._registry is not None:
            self._registry.client.close()
