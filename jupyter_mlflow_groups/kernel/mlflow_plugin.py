"""This extension as an MLflow deployments target: `jupyter-mlflow-groups[:/<group>]`.

From a kernel started by a server with this extension (also `!mlflow deployments ...` in a
notebook, which inherits the kernel's environment):

    mlflow deployments create -t jupyter-mlflow-groups --name fraud -m models:/fraud-detector/3
    mlflow deployments update -t jupyter-mlflow-groups:/team-a --name fraud \
        -m "models:/fraud-detector@champion"
    mlflow deployments list   -t jupyter-mlflow-groups

    from mlflow.deployments import get_deploy_client
    get_deploy_client("jupyter-mlflow-groups").predict("fraud", dataframe)

Every call goes through the server's REST API (the kernel's own token), so it is the same
deployment job, record and serving as the sidebar's and the widgets' Deploy.
"""

from __future__ import annotations

import re
import time
from typing import Any

from mlflow.deployments import BaseDeploymentClient
from mlflow.exceptions import MlflowException

from .client import ApiFailure, NotConnected, ServerClient

TARGET = "jupyter-mlflow-groups"
_MODEL_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:/(?P<version>\d+)|@(?P<alias>.+))$")


def parse_model_uri(model_uri: str) -> tuple[str, str]:
    """`models:/name/3` -> (name, "3"); `models:/name@alias` -> (name, "@alias")."""
    match = _MODEL_URI.match(model_uri or "")
    if not match:
        raise MlflowException(
            f"'{model_uri}' is not a registry model URI: use models:/<name>/<version> or "
            "models:/<name>@<alias>"
        )
    version = match["version"] or f"@{match['alias']}"
    return match["name"], version


class GroupDeploymentClient(BaseDeploymentClient):
    """Deployments of a group (the kernel's group unless the target names one)."""

    def __init__(self, target_uri: str, poll_interval: float = 0.5) -> None:
        super().__init__(target_uri)
        _, _, group = target_uri.partition(":")
        self.poll_interval = poll_interval
        try:
            self.client = ServerClient.from_environment()
            self.group = group.strip("/") or self.client.default_group()
        except (NotConnected, ApiFailure) as error:
            raise MlflowException(str(error)) from None

    def create_deployment(
        self,
        name: str,
        model_uri: str,
        flavor: Any = None,
        config: Any = None,
        endpoint: Any = None,
    ) -> dict[str, Any]:
        return self._deploy(name, model_uri)

    def update_deployment(
        self,
        name: str,
        model_uri: str | None = None,
        flavor: Any = None,
        config: Any = None,
        endpoint: Any = None,
    ) -> dict[str, Any]:
        if not model_uri:
            raise MlflowException("Give the model to serve (-m models:/<name>/<version>).")
        return self._deploy(name, model_uri)

    def delete_deployment(self, name: str, config: Any = None, endpoint: Any = None) -> None:
        self._call(self.client.delete_deployment, self.group, name)

    def list_deployments(self, endpoint: Any = None) -> list[dict[str, Any]]:
        return self._call(self.client.deployments, self.group)["deployments"]

    def get_deployment(self, name: str, endpoint: Any = None) -> dict[str, Any]:
        return self._call(self.client.deployment, self.group, name)

    def predict(
        self, deployment_name: str | None = None, inputs: Any = None, endpoint: Any = None
    ) -> Any:
        deployment = self.get_deployment(deployment_name or "")
        if not deployment.get("invocations_url") or deployment["status"] != "serving":
            raise MlflowException(
                f"The deployment '{deployment_name}' is {deployment['status']}, not serving: "
                f"start it (%mlflow_group start {deployment_name}), or deploy a version to it."
            )
        return self._call(self.client.invoke, deployment["invocations_url"], _payload(inputs))

    def _deploy(self, name: str, model_uri: str) -> dict[str, Any]:
        model, version = parse_model_uri(model_uri)
        job = self._call(self.client.deploy, self.group, name, model, version)
        while job["state"] not in ("done", "failed", "cancelled"):
            time.sleep(self.poll_interval)
            job = self._call(self.client.job, job["id"])
        if job["state"] != "done":
            error = job.get("error") or {"message": job["state"]}
            hint = f" {error['hint']}" if error.get("hint") else ""
            raise MlflowException(
                f"Deploying {model_uri} to '{name}' {job['state']}: {error['message']}{hint}"
            )
        return self.get_deployment(name)

    @staticmethod
    def _call(method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except (ApiFailure, NotConnected) as error:
            hint = f" {error.hint}" if isinstance(error, ApiFailure) and error.hint else ""
            raise MlflowException(f"{error}{hint}") from None


def _payload(inputs: Any) -> Any:
    """What MLflow's scoring server accepts: a DataFrame as `dataframe_split`, else as given."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas comes with mlflow
        return inputs
    if isinstance(inputs, pd.DataFrame):
        return {"dataframe_split": inputs.to_dict(orient="split")}
    return inputs


def run_local(
    target: str, name: str, model_uri: str, flavor: Any = None, config: Any = None
) -> None:
    """Serve a model in the foreground, without a Jupyter server (MLflow's local scoring server)."""
    import subprocess
    import sys

    port = str((config or {}).get("port", 5000))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            model_uri,
            "-p",
            port,
            "--env-manager",
            "local",
        ],
        check=True,
    )


def target_help() -> str:
    return (
        "jupyter-mlflow-groups: deploy registered models through the Jupyter server that started "
        "this kernel (its deployment jobs, records and local model servers).\n"
        "Target URI: jupyter-mlflow-groups (this kernel's group) or "
        "jupyter-mlflow-groups:/<group>.\n"
        "Model URI: models:/<name>/<version> or models:/<name>@<alias>.\n"
        "Run from a kernel started by such a server (or `!mlflow deployments ...` in a notebook)."
    )
