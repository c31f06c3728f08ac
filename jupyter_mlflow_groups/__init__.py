"""Group-aware MLflow model management for Jupyter."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("jupyter-mlflow-groups")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"


def _jupyter_server_extension_points() -> list[dict[str, object]]:
    from .app import MlflowGroupsApp

    return [{"module": "jupyter_mlflow_groups", "app": MlflowGroupsApp}]
