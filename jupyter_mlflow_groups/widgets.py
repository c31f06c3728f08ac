"""`from jupyter_mlflow_groups.widgets import ModelBrowser`, as notebooks written before the
panels moved to `jupyter_mlflow_groups.kernel.widgets` have it."""

from .kernel.widgets import DeploymentsPanel, DeployPanel, ModelBrowser, VersionDetail

__all__ = ["DeployPanel", "DeploymentsPanel", "ModelBrowser", "VersionDetail"]
