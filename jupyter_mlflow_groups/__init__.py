"""Group-aware MLflow model management for Jupyter."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """`__version__`, read from the installed metadata only when asked: importing the package
    (every kernel does, for the magics) must stay cheap."""
    if name != "__version__":
        raise AttributeError(name)
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jupyter-mlflow-groups")
    except PackageNotFoundError:  # a source tree that is not installed
        return "0.0.0"


def _jupyter_server_extension_points() -> list[dict[str, object]]:
    from .app import MlflowGroupsApp

    return [{"module": "jupyter_mlflow_groups", "app": MlflowGroupsApp}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-mlflow-groups"}]


def load_ipython_extension(ipython: object) -> None:
    """`%load_ext jupyter_mlflow_groups`: the %mlflow_group magics."""
    from .kernel.magics import load_ipython_extension as load

    load(ipython)
