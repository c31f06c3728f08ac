"""ipywidgets panels over the extension's REST API: stock widgets, and one of this package's
own, the metric chart (its view ships in the labextension)."""

from .artifacts import ArtifactsPanel
from .browser import ModelBrowser
from .charts import AcrossVersionsChart, MetricChart, RunChart
from .compare import CompareVersions
from .deploy import DeployPanel
from .deployments import DeploymentsPanel
from .detail import VersionDetail

__all__ = [
    "AcrossVersionsChart",
    "ArtifactsPanel",
    "CompareVersions",
    "DeployPanel",
    "DeploymentsPanel",
    "MetricChart",
    "ModelBrowser",
    "RunChart",
    "VersionDetail",
]
