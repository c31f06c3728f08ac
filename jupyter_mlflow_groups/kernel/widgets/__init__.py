"""ipywidgets panels over the extension's REST API (stock widgets only, no custom JavaScript)."""

from .browser import ModelBrowser
from .compare import CompareVersions
from .deploy import DeployPanel
from .deployments import DeploymentsPanel
from .detail import VersionDetail

__all__ = ["CompareVersions", "DeployPanel", "DeploymentsPanel", "ModelBrowser", "VersionDetail"]
