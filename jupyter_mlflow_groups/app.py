"""The server extension: configuration as traitlets, one service, thin handlers."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import KernelProvisionerFactory
from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import IOLoop
from traitlets import Bool, Dict, Enum, Float, Integer, Unicode, default, validate

from .binding_store import FILE_ENVIRONMENT_VARIABLE, BindingStore, default_bindings_file
from .contract import EXTENSION_NAME
from .groups import ActiveGroupFile, ConfigMemberships, GroupResolver, MembershipSource
from .handler_base import AUTH_RESOURCE
from .handlers import routes, webhook_routes
from .hub import API_TOKEN_VARIABLE, API_URL_VARIABLE, HubMemberships, hub_available
from .kernel_tokens import (
    KERNEL_AUTHORIZER_KEY,
    KERNEL_IDENTITY_KEY,
    KernelTokenAuthorizer,
    KernelTokenIdentity,
)
from .links import Links
from .provisioner import PROVISIONER_NAME
from .proxy import proxy_routes
from .service import MlflowGroupsService
from .settings import Settings


class MlflowGroupsApp(ExtensionApp):
    """Binds groups to MLflow instances and injects the active one into every kernel."""

    name = EXTENSION_NAME
    description = __doc__

    groups = Dict(
        help="""Group bindings, by group name: the same mapping as the bindings file's `groups`
        (mode, tracking_uri, ui_url, registry_uri, workspace, tracking_env, artifact_env,
        members, admins, root, deploy). Groups of the bindings file win on a name clash.""",
    ).tag(config=True)

    default_group = Unicode(
        None,
        allow_none=True,
        help="The group a user starts in when they have not chosen one (if they are a member).",
    ).tag(config=True)

    bindings_file = Unicode(
        help=f"""A YAML or JSON file of group bindings ({{default_group, groups}}), re-read when
        it changes. Defaults to the environment variable {FILE_ENVIRONMENT_VARIABLE}.""",
    ).tag(config=True)

    user = Unicode(
        help="""The user whose groups apply to this server's kernels: its owner. Defaults to
        JUPYTERHUB_USER, else the account running the server.""",
    ).tag(config=True)

    memberships = Enum(
        ["auto", "jupyterhub", "config"],
        "auto",
        help="""Where group memberships come from. `jupyterhub`: the groups JupyterHub puts the
        server's owner in (asked with the server's Hub token, cached for hub_cache_ttl; every
        kernel start asks again); bindings' `members` and `admins` are then not used for
        membership. `config`: the bindings' `members` lists. `auto`: `jupyterhub` when the
        server runs under JupyterHub (JUPYTERHUB_API_URL and JUPYTERHUB_API_TOKEN set).""",
    ).tag(config=True)

    hub_cache_ttl = Float(
        30.0,
        help="Seconds JupyterHub's answer about the owner's groups is reused by the REST API "
        "(kernel starts always ask the Hub again).",
    ).tag(config=True)

    state_dir = Unicode(
        help="Where the active group of each user is remembered (default: in Jupyter's data dir).",
    ).tag(config=True)

    status_timeout = Float(
        5.0, help="Seconds a status check waits for a group's MLflow server."
    ).tag(config=True)

    request_timeout = Float(
        30.0, help="Seconds a registry read waits for a group's MLflow server."
    ).tag(config=True)

    cache_ttl = Float(
        10.0,
        help="Seconds registry reads are reused before MLflow is asked again (0: no cache). "
        "Every read endpoint takes ?refresh=1 to bypass it.",
    ).tag(config=True)

    preview_max_bytes = Integer(
        2 * 1024 * 1024,
        help="Bytes an artifact may have to be previewed in a version's details (a larger one "
        "is refused with its size, and read no further than this).",
    ).tag(config=True)

    groups_root = Unicode(
        help="""Where each group's files live unless its binding sets `root`: deployments (and
        managed MLflow servers) under <groups_root>/<group>. Default: <state_dir>/groups.""",
    ).tag(config=True)

    copy_threads = Integer(16, help="Files a deployment job copies at once.").tag(config=True)

    max_copies = Integer(
        4,
        help="Deployment jobs that copy at once; more wait, queued (each copy is a process "
        "with up to copy_threads threads).",
    ).tag(config=True)

    proxy_timeout = Float(
        3600.0,
        help="Seconds one request through the proxy to a group's MLflow or deployment may take "
        "in all (an artifact of several GB streams for minutes).",
    ).tag(config=True)

    proxy_max_body_size = Integer(
        2**40,
        help="Bytes a request body through the proxy may have (an artifact a kernel logs "
        "streams through it, never held in memory).",
    ).tag(config=True)

    serve_timeout = Float(
        180.0, help="Seconds a deployment's model server may take to answer /ping."
    ).tag(config=True)

    follow_interval = Float(
        30.0,
        help="""Seconds between checks of the aliases that deployments follow (one MLflow call
        per followed model and alias); 0 stops following.""",
    ).tag(config=True)

    poll_interval = Float(
        30.0,
        help="""Seconds between looks for changes others made, for live updates: pending
        promotion requests of the groups the user is an admin of, and the most recently
        changed models of groups whose MLflow has no webhook to this server (one or two MLflow
        calls per group); 0 stops looking.""",
    ).tag(config=True)

    registry_webhooks = Bool(
        True,
        help="""Ask the groups' MLflow servers to call this server back on registry changes
        (webhooks), where they can reach it (see webhook_base_url). False: only polling
        (follow_interval, poll_interval).""",
    ).tag(config=True)

    webhook_base_url = Unicode(
        None,
        allow_none=True,
        help="""The URL of this Jupyter server as the groups' MLflow servers reach it (e.g.
        https://hub.example.org/user/ada/), for registry webhooks: a group's MLflow then tells
        this server at once when a version appears or an alias moves. Unset: only groups whose
        MLflow runs on this machine (managed ones, loopback tracking URIs) call back, at the
        server's loopback URL; the others are polled (follow_interval).""",
    ).tag(config=True)

    @default("groups_root")
    def _default_groups_root(self) -> str:
        return str(Path(self.state_dir) / "groups")

    @default("bindings_file")
    def _default_bindings_file(self) -> str:
        return default_bindings_file()

    @default("user")
    def _default_user(self) -> str:
        return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()

    @default("state_dir")
    def _default_state_dir(self) -> str:
        return str(Path(jupyter_data_dir()) / "jupyter_mlflow_groups")

    @validate("max_copies", "copy_threads", "proxy_max_body_size", "preview_max_bytes")
    def _positive_count(self, proposal: dict[str, Any]) -> int:
        if proposal["value"] < 1:
            raise ValueError(f"{proposal['trait'].name} must be at least 1")
        return proposal["value"]

    @validate("status_timeout", "request_timeout", "proxy_timeout")
    def _positive_timeout(self, proposal: dict[str, Any]) -> float:
        if proposal["value"] <= 0:
            raise ValueError(f"{proposal['trait'].name} must be a positive number of seconds")
        return proposal["value"]

    @validate("cache_ttl", "hub_cache_ttl")
    def _non_negative_ttl(self, proposal: dict[str, Any]) -> float:
        if proposal["value"] < 0:
            raise ValueError(
                f"{proposal['trait'].name} must be zero or a positive number of seconds"
            )
        return proposal["value"]

    def _link_jupyter_server_extension(self, serverapp: Any) -> None:
        """Make our provisioner the default unless the admin chose another one.

        Jupyter Server reads `jupyter_server_config.d/` only to enable extensions, so a shipped
        file cannot set this; linking happens before the kernel manager is configured.
        """
        super()._link_jupyter_server_extension(serverapp)
        factory = serverapp.config.KernelProvisionerFactory
        if "default_provisioner_name" not in factory:
            factory.default_provisioner_name = PROVISIONER_NAME

    def initialize_settings(self) -> None:
        store = BindingStore(self.groups, self.default_group, self.bindings_file or None, self.log)
        active = ActiveGroupFile(Path(self.state_dir) / "active_groups.json", self.log)
        resolver = GroupResolver(store, self._membership_source(), active)
        self.service = MlflowGroupsService(store, resolver, self._service_settings(), self.log)
        self.service.changes.events.attach(self.serverapp.event_logger)
        self.settings[KERNEL_IDENTITY_KEY] = KernelTokenIdentity(self.service.tokens, log=self.log)
        self.settings[KERNEL_AUTHORIZER_KEY] = KernelTokenAuthorizer(AUTH_RESOURCE, log=self.log)
        store.current()  # load and report the bindings now, not at the first request
        self._warn_when_kernels_miss_bindings()
        # once the event loop runs: start managed MLflow servers, clean up after dead jobs,
        # serve again what was serving (Jupyter's own start-up waits for none of it); kept,
        # so that a server stopping at once cancels it and waits for it
        loop = IOLoop.current().asyncio_loop  # type: ignore[attr-defined]
        self._startup: asyncio.Task[None] = loop.create_task(self.service.startup())

    def _service_settings(self) -> Settings:
        serverapp = self.serverapp
        return Settings(
            user=self.user,
            groups_root=Path(self.groups_root).expanduser(),
            status_timeout=self.status_timeout,
            request_timeout=self.request_timeout,
            cache_ttl=self.cache_ttl,
            preview_max_bytes=self.preview_max_bytes,
            copy_threads=self.copy_threads,
            max_copies=self.max_copies,
            serve_timeout=self.serve_timeout,
            follow_interval=self.follow_interval,
            poll_interval=self.poll_interval,
            webhook_base_url=self.webhook_base_url or None,
            registry_webhooks=self.registry_webhooks,
            links=Links(serverapp.base_url),
            server_url=kernel_api_url(serverapp),
            server_tokens=lambda: [serverapp.identity_provider.token],
        )

    def _membership_source(self) -> MembershipSource:
        under_hub = hub_available(os.environ)
        if self.memberships == "config" or (self.memberships == "auto" and not under_hub):
            return ConfigMemberships()
        if not under_hub:
            raise ValueError(
                f"MlflowGroupsApp.memberships is 'jupyterhub' but {API_URL_VARIABLE} and "
                f"{API_TOKEN_VARIABLE} are not set: this server was not started by JupyterHub"
            )
        self.log.info("MLflow groups: group memberships of %s come from JupyterHub", self.user)
        return HubMemberships.from_env(
            os.environ,
            self.user,
            ttl=self.hub_cache_ttl,
            timeout=self.status_timeout,
            log=self.log,
        )

    def initialize_handlers(self) -> None:
        self.handlers.extend([*routes(), *proxy_routes(), *webhook_routes()])

    async def stop_extension(self) -> None:
        """Cancel the start-up work if it still runs and wait for it, then stop everything the
        service started; nothing starts after this."""
        self._startup.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._startup
        await self.service.close()

    def _warn_when_kernels_miss_bindings(self) -> None:
        assert self.serverapp is not None
        if (
            getattr(self.serverapp, "gateway_config", None)
            and self.serverapp.gateway_config.gateway_enabled
        ):
            self.log.warning(
                "MLflow groups: kernels run on a gateway, where this extension's provisioner does "
                "not run: remote kernels will not get their group's MLflow binding"
            )
        factory = KernelProvisionerFactory.instance(parent=self.serverapp.kernel_manager)
        if factory.default_provisioner_name != PROVISIONER_NAME:
            self.log.warning(
                "MLflow groups: the default kernel provisioner is '%s', not '%s': kernels will "
                "not get their group's MLflow binding (set "
                "c.KernelProvisionerFactory.default_provisioner_name)",
                factory.default_provisioner_name,
                PROVISIONER_NAME,
            )


def kernel_api_url(serverapp: Any) -> Callable[[], str | None]:
    """How kernels on this machine reach the server: loopback when it listens everywhere.

    A callable, read at each kernel start: the port is only final once the server is bound.
    """

    def url() -> str | None:
        if serverapp.sock:
            return None  # a unix socket: kernels' HTTP clients cannot follow
        ip = serverapp.ip
        if ip in ("", "localhost", "0.0.0.0", "::"):
            host = "127.0.0.1"
        else:
            host = f"[{ip}]" if ":" in ip else ip
        scheme = "https" if serverapp.certfile else "http"
        return f"{scheme}://{host}:{serverapp.port}{serverapp.base_url}"

    return url
