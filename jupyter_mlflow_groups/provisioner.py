"""A kernel provisioner that gives every kernel its group's MLflow binding, and the magics.

`pre_launch` runs at every start and every restart (automatic ones too): the kernel manager
keeps the caller's original launch arguments, so the binding is recomputed each time and a
switch of the active group reaches a kernel when it restarts. Under JupyterHub, memberships are
asked of the Hub again first, so a change made in the Hub applies too. Kernelspecs are never
touched, so no secret reaches `GET /api/kernelspecs`.

IPython kernels (ipykernel) also get `--ext=jupyter_mlflow_groups` on their command line
(`InteractiveShellApp.extra_extensions`), so `%mlflow_group` is there without `%load_ext` and
without touching the user's IPython config files. Loading it imports neither MLflow nor
requests nor pandas: a kernel starts as fast as without it.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from jupyter_client.provisioning import LocalProvisioner
from jupyter_server.serverapp import ServerApp

from .contract import EXTENSION_NAME
from .service import MlflowGroupsService

PROVISIONER_NAME = "mlflow-groups-provisioner"
EXTENSION_ARGUMENT = f"--ext={EXTENSION_NAME}"
_IPYKERNEL_MODULES = frozenset({"ipykernel", "ipykernel_launcher"})


class MlflowGroupsProvisioner(LocalProvisioner):  # type: ignore[misc]
    """LocalProvisioner plus the active group's environment and, for ipykernel, the magics."""

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        if runs_ipykernel(self.kernel_spec):
            kwargs["extra_arguments"] = with_extension(kwargs.get("extra_arguments"))
        kwargs = await super().pre_launch(**kwargs)
        service = find_service(self.parent)
        if service is None:
            self.log.debug("MLflow groups extension not loaded: kernel started without a binding")
            return kwargs
        await service.bring_up_to_date(ask_hub=True)  # a change in the Hub applies now
        service.apply_to_kernel_env(kwargs["env"], self.kernel_id)
        return kwargs

    async def cleanup(self, restart: bool = False) -> None:
        await super().cleanup(restart=restart)
        service = find_service(self.parent)
        if service is not None and not restart:
            service.forget_kernel(self.kernel_id)


def runs_ipykernel(kernel_spec: Any) -> bool:
    """A Python kernelspec whose command runs ipykernel (`-m ipykernel_launcher`, a path to
    `ipykernel_launcher.py`, ...): only such kernels understand `--ext`."""
    if kernel_spec is None or str(getattr(kernel_spec, "language", "")).lower() != "python":
        return False
    return any(
        PurePath(str(part)).name.removesuffix(".py") in _IPYKERNEL_MODULES
        for part in getattr(kernel_spec, "argv", None) or ()
    )


def with_extension(extra_arguments: list[str] | None) -> list[str]:
    """The kernel's extra arguments with our `--ext` once. A new list: the kernel manager
    keeps the original for restarts, which must not grow."""
    arguments = list(extra_arguments or ())
    if EXTENSION_ARGUMENT not in arguments:
        arguments.append(EXTENSION_ARGUMENT)
    return arguments


def find_service(owner: Any) -> MlflowGroupsService | None:
    """The service of the Jupyter server that owns a kernel manager (walks `parent` links to
    it; our extension app, as Jupyter keeps it in the web app's settings, holds the service)."""
    while owner is not None and not isinstance(owner, ServerApp):
        owner = getattr(owner, "parent", None)
    web_app = getattr(owner, "web_app", None)
    app = web_app.settings.get(EXTENSION_NAME) if web_app is not None else None
    return getattr(app, "service", None)
