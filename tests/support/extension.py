"""The extension inside an in-process Jupyter server (pytest-jupyter's, or one a test starts)."""

from __future__ import annotations

from typing import Any

from jupyter_mlflow_groups.contract import EXTENSION_NAME
from jupyter_mlflow_groups.service import MlflowGroupsService


def service_of(serverapp: Any) -> MlflowGroupsService:
    """The service of the extension the server loaded: Jupyter keeps each extension app in
    its web application's settings, under the extension's name."""
    return serverapp.web_app.settings[EXTENSION_NAME].service
