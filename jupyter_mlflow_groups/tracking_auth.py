"""How to authenticate to a tracking server, read from the variables MLflow's client reads.

One place for MLflow's rules, used by the server's async client and by the copy worker: username
and password both set means Basic and wins over a token (Bearer); TLS verification follows
MLFLOW_TRACKING_INSECURE_TLS, MLFLOW_TRACKING_SERVER_CERT_PATH and _CLIENT_CERT_PATH; a bound
workspace travels in MLflow's workspace header. Standard library only: the worker imports it.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field

WORKSPACE_HEADER = "X-MLFLOW-WORKSPACE"
_TRUE = {"true", "1", "yes", "on"}


@dataclass(frozen=True)
class TrackingAuth:
    base_url: str
    headers: Mapping[str, str] = field(repr=False)  # holds the credentials: never shown
    verify: bool = True
    ca_certs: str | None = None
    client_cert: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TrackingAuth:
        headers = {"Accept": "application/json", "User-Agent": "jupyter-mlflow-groups"}
        user, password = env.get("MLFLOW_TRACKING_USERNAME"), env.get("MLFLOW_TRACKING_PASSWORD")
        if user and password:
            basic = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {basic}"
        elif env.get("MLFLOW_TRACKING_TOKEN"):
            headers["Authorization"] = f"Bearer {env['MLFLOW_TRACKING_TOKEN']}"
        if env.get("MLFLOW_WORKSPACE"):
            headers[WORKSPACE_HEADER] = env["MLFLOW_WORKSPACE"]
        return cls(
            base_url=env.get("MLFLOW_TRACKING_URI", "").rstrip("/"),
            headers=headers,
            verify=env.get("MLFLOW_TRACKING_INSECURE_TLS", "").strip().lower() not in _TRUE,
            ca_certs=env.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or None,
            client_cert=env.get("MLFLOW_TRACKING_CLIENT_CERT_PATH") or None,
        )

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS settings as a context (for clients that take one)."""
        context = ssl.create_default_context(cafile=self.ca_certs)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.client_cert:
            context.load_cert_chain(self.client_cert)
        return context
