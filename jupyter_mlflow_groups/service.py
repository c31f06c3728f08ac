"""The one object the REST handlers and the kernel provisioner work through.

It acts for the server's owner (the JupyterHub user, or the account running a single-user
server): kernels belong to the server, not to a browser session, so the owner's active group
is the one every kernel gets.

Lookups start nothing. A managed group's MLflow server is started (supervised) when the
groups that apply to the user change (at the extension's start, and when the bindings file or
the user's memberships change: `bring_up_to_date`), at a kernel's start, and by an explicit
action: switching to the group, moving a kernel into it, deploying from it. After `close`,
nothing starts.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .artifacts import Preview
from .binding_store import BindingSet, BindingStore
from .bindings import (
    BASE_MANAGED_VARIABLES,
    SUPPRESS_URLS_VARIABLE,
    GroupBinding,
    RegistryPolicy,
    UnusableBinding,
    env_for,
    group_root,
    summarize,
    writer_env,
)
from .cache import TtlCache
from .changes import GroupChanges
from .contract import GROUP_VARIABLE, TOKEN_VARIABLE, URL_VARIABLE, mask_uri
from .deploy.manager import DeploymentManager
from .environments import NETWORK_VARIABLES, child_environment, without_server_secrets
from .errors import ApiError, MlflowError
from .events import Topic
from .groups import GroupResolver
from .kernel_tokens import KernelTokens
from .managed import ManagedServers
from .promotion import Actor, Promotions
from .registry import GroupConnection, RegistryService
from .runs import RunReads
from .secrets import has_references, resolve
from .settings import Settings
from .side_by_side import SideBySide
from .status import check_status
from .upstream import HttpClients, ProxySessions, Upstream

RESTART_NOTE = (
    "New kernels use the group '{group}'. Running kernels keep their group until they are "
    "restarted."
)


class MlflowGroupsService:
    def __init__(
        self,
        store: BindingStore,
        resolver: GroupResolver,
        settings: Settings,
        log: logging.Logger,
    ) -> None:
        self.store = store
        self.resolver = resolver
        self.settings = settings
        self.user = settings.user
        self.links = settings.links
        self.log = log
        self.tokens = KernelTokens()
        self.cache = TtlCache(settings.cache_ttl)
        self.clients = HttpClients()  # the server's own reads (registry, status)
        self.sessions = ProxySessions()  # what members' requests stream through
        self.registry = RegistryService(self.clients, settings.request_timeout, self.cache)
        self.runs = RunReads(self.registry)
        self.side_by_side = SideBySide(self.registry, self.runs)
        self.promotions = Promotions(self, self.registry)
        self.managed = ManagedServers(log)
        self.deployments = DeploymentManager(
            self, log, settings, on_change=lambda group: self.changed(group, "deployments")
        )
        self.registry.deployed_by = self.deployments.deployed_by
        self.changes = GroupChanges(self, log)
        self._followed: tuple[BindingSet, frozenset[str]] | None = None
        self._closed = False

    def changed(self, group: str, topic: Topic) -> None:
        """This server changed something of `group` (see changes.py)."""
        self.changes.changed(group, topic)

    # -- groups -------------------------------------------------------------------------------

    def start_managed(self, binding: GroupBinding) -> None:
        """Supervise a managed group's server from now on (it answers a few seconds later;
        meanwhile requests for it wait or are told it is starting). Nothing for other modes."""
        if binding.mode == "managed" and binding.valid:
            self.managed.ensure(binding.name, self.group_root(binding))

    async def bring_up_to_date(self, *, ask_hub: bool = False) -> None:
        """Bindings as the file says now (read off the event loop) and memberships as their
        source knows them (the Hub's are cached briefly, unless `ask_hub`); when that changes
        the user's groups, their managed servers start, as at the extension's start."""
        bindings = await self.store.refresh()
        await self.resolver.memberships.refresh(force=ask_hub)
        mine = frozenset(self.resolver.groups_of(self.user, bindings))
        if self._closed or (
            self._followed and self._followed[0] is bindings and self._followed[1] == mine
        ):
            return
        self._followed = (bindings, mine)
        for name in mine:
            self.start_managed(bindings.groups[name])
            self.changes.call_back(bindings.groups[name])

    def groups(self) -> dict[str, Any]:
        """The user's groups with masked bindings, and which one is active."""
        bindings = self.store.latest()
        mine = self.resolver.groups_of(self.user, bindings)
        active = self.resolver.active_group(self.user, bindings)
        return {
            "user": self.user,
            "active": active,
            "default": bindings.default_group if bindings.default_group in mine else None,
            "groups": [self._describe(bindings.groups[name], active) for name in mine],
            "errors": [*bindings.errors, *filter(None, [self.resolver.memberships.problem])],
        }

    def set_active(self, group: str) -> dict[str, Any]:
        self.start_managed(self.binding(group))  # refused after a stop, before anything changes
        binding = self.resolver.set_active(self.user, group)
        self.log.info("MLflow groups: %s switched the active group to '%s'", self.user, group)
        return {
            "active": group,
            "group": self._describe(binding, group),
            "message": RESTART_NOTE.format(group=group),
        }

    async def status(self, group: str) -> dict[str, Any]:
        binding = self.binding(group)
        try:
            upstream = self.upstream_of(binding)
        except UnusableBinding:
            upstream = None  # check_status says why
        described = self._describe(binding, None)
        report = await check_status(
            binding, described, upstream, self.clients, self.settings.status_timeout
        )
        if binding.mode != "managed" or not binding.valid:
            return report
        state = self.managed.state(group)
        if state is None:
            report["code"] = "stopped"
            report["message"] = (
                f"The MLflow server of '{group}' (run by this extension) is not running."
            )
            report["hint"] = "Switch to the group, or start a kernel in it: that starts it."
        else:
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

    # -- where the server reaches a group's MLflow, and where people's browsers do -------------

    def upstream_of(self, binding: GroupBinding) -> Upstream | None:
        """How the Jupyter server reaches the group's tracking server: a managed group's unix
        socket, an external http(s) server with the binding's credentials; None for other
        stores (kernels use those directly). UnusableBinding when a reference fails."""
        if binding.mode == "managed":
            upstream = self.managed.upstream(binding.name)
            return replace(upstream, label="the group's managed server") if upstream else None
        env = env_for(binding)
        uri = env.get("MLFLOW_TRACKING_URI", "")
        if not uri.startswith(("http://", "https://")):
            return None
        # named as written: what a reference in it resolves to may be a secret
        written = binding.tracking_uri or ""
        label = summarize(binding)["tracking_uri"] if has_references(written) else None
        return replace(Upstream.from_env(env), label=label)

    def ui_url(self, binding: GroupBinding) -> str | None:
        """Where a member's browser opens the group's MLflow UI: through Jupyter (`proxy`),
        or the UI's own URL (`direct`)."""
        if binding.ui_mode == "proxy":
            return self.links.mlflow(binding.name)
        direct = binding.direct_ui_url
        return mask_uri(resolve(direct)) if direct else None

    def proxy_upstream(self, group: str) -> Upstream:
        """The group's MLflow, for the proxy: a member's request, a group shown through Jupyter."""
        binding = self.binding(group)
        if binding.ui_mode != "proxy":
            raise ApiError(
                404,
                "not_found",
                f"Group '{group}' shows its MLflow at its own address, not through Jupyter: "
                "open the link the group's status gives.",
            )
        return self._reachable(binding)

    # -- the registry -------------------------------------------------------------------------

    def connection(self, group: str) -> GroupConnection:
        """The group's MLflow, if the user is in the group and its binding is usable."""
        binding = self.binding(group)
        return GroupConnection(group, self._reachable(binding), self.ui_url(binding))

    def writer(self, group: str) -> tuple[GroupConnection, RegistryPolicy, Actor]:
        """The group's MLflow as the server writes to it (with `registry.write_env`, when the
        binding has it), the group's policy, and who asks."""
        binding = self.binding(group)
        upstream = self._reachable(binding)
        if binding.registry.write_env and binding.mode != "managed":
            try:
                env = writer_env(binding)
            except UnusableBinding as error:
                raise MlflowError(
                    "not_configured", f"MLflow is not configured for group '{group}': {error}"
                ) from None
            upstream = replace(Upstream.from_env(env), label=upstream.shown)
        actor = Actor(self.user, self.user in binding.admins)
        return GroupConnection(group, upstream, self.ui_url(binding)), binding.registry, actor

    def _reachable(self, binding: GroupBinding) -> Upstream:
        """upstream_of(binding), or the `not_configured` error that says why there is none."""
        group = binding.name
        try:
            upstream = self.upstream_of(binding)
        except UnusableBinding as error:
            raise MlflowError(
                "not_configured", f"MLflow is not configured for group '{group}': {error}"
            ) from None
        if upstream is not None:
            return upstream
        if binding.mode == "managed":
            raise MlflowError(
                "not_configured", f"Group '{group}' has no MLflow server running for it yet"
            )
        tracking = summarize(binding)["tracking_uri"]
        raise MlflowError(
            "not_configured",
            f"Group '{group}' has no MLflow tracking server to browse: its tracking URI is "
            f"{tracking or 'not set'} (kernels use such stores directly; browsing needs an "
            "http(s) server)",
        )

    async def models(self, group: str, **query: Any) -> dict[str, Any]:
        return await self.registry.models(self.connection(group), **query)

    async def model(self, group: str, name: str, **query: Any) -> dict[str, Any]:
        return await self.registry.model(self.connection(group), name, **query)

    async def version(self, group: str, name: str, version: str, refresh: bool) -> dict[str, Any]:
        return await self.registry.version(self.connection(group), name, version, refresh)

    async def compare(
        self,
        group: str,
        name: str,
        versions: Sequence[str],
        directions: Mapping[str, str],
        refresh: bool,
    ) -> dict[str, Any]:
        return await self.side_by_side.compare(
            self.connection(group), name, versions, directions, refresh
        )

    async def metric_across_versions(
        self, group: str, name: str, key: str, direction: str | None, refresh: bool
    ) -> dict[str, Any]:
        return await self.side_by_side.metric_across_versions(
            self.connection(group), name, key, direction, refresh
        )

    async def run(self, group: str, run_id: str, refresh: bool) -> dict[str, Any]:
        return await self.runs.run(self.connection(group), run_id, refresh)

    async def metric_history(
        self, group: str, run_id: str, key: str, refresh: bool
    ) -> dict[str, Any]:
        return await self.runs.metric_history(self.connection(group), run_id, key, refresh)

    async def artifacts(self, group: str, run_id: str, path: str, refresh: bool) -> dict[str, Any]:
        return await self.runs.artifacts(self.connection(group), run_id, path, refresh)

    async def artifact(self, group: str, run_id: str, path: str) -> Preview:
        limit = self.settings.preview_max_bytes
        return await self.runs.artifact(self.connection(group), run_id, path, limit)

    # -- deployments (the GroupAccess the DeploymentManager works through) ----------------------

    def binding(self, group: str) -> GroupBinding:
        """The binding of a group the user is in (403/404 otherwise)."""
        return self.resolver.binding(self.user, group)

    async def alias_version(self, group: str, model: str, alias: str) -> str | None:
        return await self.registry.alias_version(self.connection(group), model, alias)

    def bindings_for_startup(self) -> list[GroupBinding]:
        bindings = self.store.latest()
        mine = (bindings.groups[name] for name in self.resolver.groups_of(self.user, bindings))
        return [binding for binding in mine if binding.valid]

    def group_root(self, binding: GroupBinding) -> Path:
        return group_root(binding, self.settings.groups_root)

    def deploy_root(self, binding: GroupBinding) -> Path:
        if binding.deploy.root:
            return Path(binding.deploy.root).expanduser()
        return self.group_root(binding) / "deployments"

    def local_artifacts(self, binding: GroupBinding) -> Path | None:
        """The tracking server's artifact directory, when this server can read it directly:
        a managed group's (copies then skip HTTP). Its real path: the copy follows no link,
        and the admin's own path to the groups may hold one (a linked /home)."""
        if binding.mode != "managed":
            return None
        return (self.group_root(binding) / "artifacts").resolve()

    def tracking_socket(self, binding: GroupBinding) -> str | None:
        """The unix socket of a managed group's tracking server (copies ask it over that)."""
        upstream = self.managed.upstream(binding.name) if binding.mode == "managed" else None
        return upstream.socket if upstream else None

    def worker_environment(self, binding: GroupBinding) -> dict[str, str]:
        """What a copy worker or a publishing process runs with: what any program needs, the
        host's proxies, and the group's own variables (a managed group's server needs no
        credentials: the worker reaches it over its socket)."""
        base = child_environment(os.environ, NETWORK_VARIABLES)
        if binding.mode == "managed":
            return {**base, GROUP_VARIABLE: binding.name}
        return {**base, **env_for(binding)}

    def serving_environment(self, binding: GroupBinding) -> dict[str, str]:
        """What a local model server runs with: it serves a verified local copy, so no
        tracking or artifact-store credentials at all."""
        return {**child_environment(os.environ), GROUP_VARIABLE: binding.name}

    # -- kernels ------------------------------------------------------------------------------

    def apply_to_kernel_env(self, env: MutableMapping[str, str], kernel_id: str) -> str | None:
        """Strip the server's secrets and every managed variable from a kernel's env, then set
        the active binding's and the kernel's way back to this API. Returns the group applied
        (None: no group)."""
        bindings = self.store.latest()
        group = self.resolver.active_group(self.user, bindings)
        if group is not None and not self._closed:
            self.start_managed(bindings.groups[group])  # the kernel's first MLflow call waits
        server_url = self.settings.server_url()
        token = self.tokens.issue(kernel_id, self.user) if server_url else None
        kept = without_server_secrets(
            env, referenced_variables(bindings), self.settings.server_tokens()
        )
        unset, values = self._group_environment(group, token)
        env.clear()
        env.update({name: value for name, value in kept.items() if name not in unset})
        env.update(values)
        if server_url and token:
            env[URL_VARIABLE] = server_url
            env[TOKEN_VARIABLE] = token
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

    def kernel_environment(self, group: str, token: str) -> dict[str, Any]:
        """What a running kernel must drop and set to move to `group` (`%mlflow_group use`).
        Holds secrets: only ever sent to a kernel, authenticated by its own `token`."""
        self.start_managed(self.resolver.binding(self.user, group))  # the user must be in it
        unset, values = self._group_environment(group, token)
        kept = {URL_VARIABLE, TOKEN_VARIABLE}  # the kernel keeps its way back to this API
        return {"group": group, "unset": sorted(unset - kept), "set": values}

    def _group_environment(
        self, group: str | None, token: str | None
    ) -> tuple[set[str], dict[str, str]]:
        """Every variable this extension manages, and a group's own values for a kernel whose
        token is `token` (only its name when its binding is unusable, which is logged)."""
        bindings = self.store.latest()
        unset = set(BASE_MANAGED_VARIABLES | bindings.managed_variables())
        if group is None:
            return unset, {}
        binding = bindings.groups[group]
        try:
            values = env_for(binding)
        except UnusableBinding as error:
            self.log.warning("MLflow groups: no MLflow settings for a kernel: %s", error)
            return unset, {GROUP_VARIABLE: group}
        if binding.mode == "managed":
            server_url = self.settings.server_url()
            if not server_url or not token:
                self.log.warning(
                    "MLflow groups: kernels cannot reach this server over HTTP (it listens on a "
                    "unix socket): no tracking URI for the managed group '%s'",
                    group,
                )
                return unset, values
            values["MLFLOW_TRACKING_URI"] = self.links.kernel_mlflow(server_url, group)
            values["MLFLOW_TRACKING_TOKEN"] = token  # the proxy takes the kernel's own token
        if binding.ui_mode == "proxy":
            values[SUPPRESS_URLS_VARIABLE] = "true"
        return unset, values

    def forget_kernel(self, kernel_id: str) -> None:
        """The kernel shut down: its token stops working."""
        self.tokens.revoke(kernel_id)

    # -- helpers ------------------------------------------------------------------------------

    def _describe(self, binding: GroupBinding, active: str | None) -> dict[str, Any]:
        described = {
            **summarize(binding),
            "ui_url": self.ui_url(binding),
            "active": binding.name == active,
            "admin": self.user in binding.admins,
        }
        if binding.mode == "managed":  # reachable with a Jupyter token, from anywhere
            described["tracking_uri"] = self.links.mlflow(binding.name).rstrip("/")
        return described

    async def startup(self) -> None:
        """Once the event loop runs: learn memberships (from the Hub, that takes a request),
        start the managed servers of the user's groups, resume their deployments."""
        try:
            await self.bring_up_to_date()
        except Exception:  # deployments still come back; the next request tries again
            self.log.exception("MLflow groups: could not read bindings and memberships at start")
        await self.deployments.startup()
        if not self._closed:
            self.changes.start()

    async def close(self) -> None:
        self._closed = True
        await self.deployments.shutdown()
        await self.changes.close()  # while the managed servers still answer
        await self.managed.stop_all()
        self.clients.close()
        await self.sessions.close()


def referenced_variables(bindings: BindingSet) -> set[str]:
    """Every server variable any binding refers to: no kernel inherits one of them."""
    return {name for binding in bindings.groups.values() for name in binding.referenced_variables()}
