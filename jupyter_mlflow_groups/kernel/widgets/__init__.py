"""ipywidgets panels over the extension's REST API (stock widgets only, no custom JavaScript)."""

from .browser import ModelBrowser
from .deploy import DeployPanel
from .detail import VersionDetail

__all__ = ["DeployPanel", "ModelBrowser", "VersionDetail"]
