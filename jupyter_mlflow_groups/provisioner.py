"""A kernel provisioner that gives every kernel its group's MLflow binding.

`pre_launch` runs at every start and every restart (automatic ones too): the kernel manager
keeps the caller's original launch arguments, so the binding is recomputed each time and a
switch of the active group reaches a kernel when it restarts. Kernelspecs are never touched,
so no secret reaches `GET /api/kernelspecs`.
"""

from __future__ import annotations

from typing import Any

from jupyter_client.provisioning import LocalProvisioner
from jupyter_server.serverapp import ServerApp

from .handlers import SETTINGS_KEY
from .service import MlflowGroupsService

PROVISIONER_NAME = "mlflow-groups-provisioner"


class MlflowGroupsProvisioner(LocalProvisioner):  # type: ignore[misc]
    """LocalProvisioner plus the active group's environment."""

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        kwargs = await super().pre_launch(**kwargs)
        service = find_service(self.parent)
        if service is None:
            self.log.debug("MLflow groups extension not loaded: kernel started without a binding")
            return kwargs
        service.apply_to_kernel_env(kwargs["env"], self.kernel_id)
        return kwargs

    async def cleanup(self, restart: bool = False) -> None:
        await super().cleanup(restart=restart)
        service = find_service(self.parent)
        if service is not None and not restart:
            service.forget_kernel(self.kernel_id)


def find_service(owner: Any) -> MlflowGroupsService | None:
    """The service of the Jupyter server that owns a kernel manager (walks `parent` links)."""
    while owner is not None and not isinstance(owner, ServerApp):
        owner = getattr(owner, "parent", None)
    web_app = getattr(owner, "web_app", None)
    return web_app.settings.get(SETTINGS_KEY) if web_app is not None else None
