"""The server extension: configuration as traitlets, one service, thin handlers."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import KernelProvisionerFactory
from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from traitlets import Dict, Float, Unicode, default, validate

from .binding_store import FILE_ENVIRONMENT_VARIABLE, BindingStore, default_bindings_file
from .groups import ActiveGroupFile, ConfigMemberships, GroupResolver
from .handlers import SETTINGS_KEY, routes
from .provisioner import PROVISIONER_NAME
from .service import MlflowGroupsService


class MlflowGroupsApp(ExtensionApp):
    """Binds groups to MLflow instances and injects the active one into every kernel."""

    name = "jupyter_mlflow_groups"
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

    state_dir = Unicode(
        help="Where the active group of each user is remembered (default: in Jupyter's data dir).",
    ).tag(config=True)

    status_timeout = Float(
        5.0, help="Seconds a status check waits for a group's MLflow server."
    ).tag(config=True)

    @default("bindings_file")
    def _default_bindings_file(self) -> str:
        return default_bindings_file()

    @default("user")
    def _default_user(self) -> str:
        return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()

    @default("state_dir")
    def _default_state_dir(self) -> str:
        return str(Path(jupyter_data_dir()) / "jupyter_mlflow_groups")

    @validate("status_timeout")
    def _positive_timeout(self, proposal: dict[str, Any]) -> float:
        if proposal["value"] <= 0:
            raise ValueError("status_timeout must be a positive number of seconds")
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
        resolver = GroupResolver(store, ConfigMemberships(), active)
        self.service = MlflowGroupsService(
            store, resolver, self.user, self.status_timeout, self.log
        )
        self.settings[SETTINGS_KEY] = self.service
        store.current()  # load and report the bindings now, not at the first request
        self._warn_when_kernels_miss_bindings()

    def initialize_handlers(self) -> None:
        self.handlers.extend(routes())

    async def stop_extension(self) -> None:
        self.service.close()

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
