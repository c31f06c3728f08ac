"""`from jupyter_mlflow_groups.widgets import ModelBrowser`, as notebooks written before the
panels moved to `jupyter_mlflow_groups.kernel.widgets` have it."""

from .kernel import widgets as _panels
from .kernel.widgets import *  # noqa: F403  (every panel, as listed there)

__all__ = _panels.__all__
