/**
 * Where the notebook widgets find their views: the labextension's package name and version
 * (package.json; a Jest test keeps them equal), as `_view_module` and `_view_module_version`
 * of jupyter_mlflow_groups.kernel.widgets.charts.MetricChart.
 */
export const MODULE_NAME = 'jupyter-mlflow-groups';
export const MODULE_VERSION = '0.1.0';
