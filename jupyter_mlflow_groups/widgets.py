"""`from jupyter_mlflow_groups.widgets import ModelBrowser`, as notebooks written before the
panels moved to `jupyter_mlflow_groups.kernel.widgets` have it."""

from .kernel.widgets import (
    ArtifactsPanel,
    CompareVersions,
    DeploymentsPanel,
    DeployPanel,
    MetricChart,
    ModelBrowser,
    RunChart,
    VersionDetail,
)

__all__ = [
    "ArtifactsPanel",
    "CompareVersions",
    "DeployPanel",
    "DeploymentsPanel",
    "MetricChart",
    "ModelBrowser",
    "RunChart",
    "VersionDetail",
]
