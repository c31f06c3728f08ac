"""The URLs people and kernels follow to a group's servers: always through the Jupyter server.

A browser opens them as paths under the server's base URL (`/user/ada/mlflow-groups/...` on a
JupyterHub): resolved against the page, they reach Jupyter wherever it runs and carry its auth.
Kernels, on the server's host, get full URLs on the address the server gave them.
"""

from __future__ import annotations

from urllib.parse import quote

from .contract import GROUPS_PATH


def _segment(value: str) -> str:
    return quote(value, safe="")


class Links:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url if base_url.endswith("/") else f"{base_url}/"

    def mlflow(self, group: str) -> str:
        """The group's MLflow UI (its API under the same path), for a browser."""
        return f"{self.base_url}{GROUPS_PATH}/{_segment(group)}/mlflow/"

    def deployment(self, group: str, name: str) -> str:
        """A local deployment's endpoint (`invocations`, `ping`, `version` under it)."""
        return f"{self.base_url}{GROUPS_PATH}/{_segment(group)}/deployments/{_segment(name)}/"

    @staticmethod
    def kernel_mlflow(server_url: str, group: str) -> str:
        """The group's tracking URI in a kernel: the server's proxy on the kernel's address."""
        return f"{server_url.rstrip('/')}/{GROUPS_PATH}/{_segment(group)}/mlflow"


def ui_page(ui_url: str | None, *parts: str) -> str | None:
    """A page of the MLflow UI at `ui_url` (`ui_page(ui, "models", name, "versions", "3")`)."""
    if not ui_url:
        return None
    return ui_url.rstrip("/") + "/#/" + "/".join(_segment(part) for part in parts)
