"""How to call a local deployment, as code to copy: from a notebook of this server (MLflow's
deployments client with this extension's target and the kernel's own token), and over HTTP
(its invocations URL, with a Jupyter token). The widgets and the magics show the same."""

from __future__ import annotations

import json
from typing import Any

#: The column the examples use when a version has no signature to name its inputs.
NO_SIGNATURE = ["feature"]


def input_columns(signature: dict[str, Any] | None) -> list[str]:
    """The model's input columns (from its signature), for an example row."""
    inputs = (signature or {}).get("inputs") or []
    return [spec.get("name", f"input_{i}") for i, spec in enumerate(inputs)] or NO_SIGNATURE


def predict_snippet(group: str, deployment: str, columns: list[str]) -> str:
    """Ready to run in any kernel of this server (it goes through the server, with the
    kernel's own token)."""
    row = ", ".join("0" for _ in columns)
    return (
        "import pandas as pd\n"
        "from mlflow.deployments import get_deploy_client\n\n"
        f"client = get_deploy_client({json.dumps(f'jupyter-mlflow-groups:/{group}')})\n"
        f"client.predict({json.dumps(deployment)}, "
        f"pd.DataFrame([[{row}]], columns={json.dumps(columns)}))"
    )


def http_snippet(url: str, columns: list[str]) -> str:
    """A POST of one row to the invocations URL (MLflow's `dataframe_split` input), with a
    Jupyter token: from a script, or anywhere the server's address is reachable."""
    body = {"dataframe_split": {"columns": columns, "data": [[0 for _ in columns]]}}
    return (
        "import requests\n\n"
        "answer = requests.post(\n"
        f"    {json.dumps(url)},\n"
        f"    json={json.dumps(body)},\n"
        '    headers={"Authorization": "token <your Jupyter token>"},\n'
        ")\n"
        'answer.json()["predictions"]'
    )
