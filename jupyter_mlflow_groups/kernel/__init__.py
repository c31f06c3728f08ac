"""What runs in users' kernels: the client of the extension's REST API, the `%mlflow_group`
magics, the ipywidgets panels and the `mlflow.deployments` plugin.

Every kernel loads the magics at start, so nothing here imports the server's side (only
`contract`), nor MLflow, requests or tornado's web layer at load: pyproject.toml's
import-linter contracts and tests/test_layout.py hold the rule.
"""
