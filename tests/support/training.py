"""A run that trains while a test watches: created, logged to and ended over MLflow's REST API
(`server`: a support.servers.MlflowServer), as a training loop elsewhere would."""

from __future__ import annotations

import time
import uuid

API = "/api/2.0/mlflow"


def start_run(server, name: str, experiment: str | None = None) -> str:
    """A RUNNING run named `name`, in `experiment` (by id; "0" is MLflow's Default) or in an
    experiment of its own; its id."""
    if experiment is None:
        experiment = server.request(
            "POST", f"{API}/experiments/create", {"name": f"{name}-{uuid.uuid4().hex[:8]}"}
        )["experiment_id"]
    body = {"experiment_id": experiment, "run_name": name, "start_time": now()}
    return server.request("POST", f"{API}/runs/create", body)["run"]["info"]["run_id"]


def log(server, run_id: str, key: str, value: float, step: int) -> None:
    body = {"run_id": run_id, "key": key, "value": value, "step": step, "timestamp": now()}
    server.request("POST", f"{API}/runs/log-metric", body)


def end_run(server, run_id: str, status: str = "FINISHED") -> None:
    body = {"run_id": run_id, "status": status, "end_time": now()}
    server.request("POST", f"{API}/runs/update", body)


def now() -> int:
    return int(time.time() * 1000)
