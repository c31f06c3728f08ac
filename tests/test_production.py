"""A group bound to a production-style MLflow: a PostgreSQL backend and artifacts in an
S3-compatible store (moto's server) that clients reach directly (`--no-serve-artifacts`).

Nothing changes for users: a kernel logs and registers a model with plain MLflow calls (its
binding brings the S3 variables), the REST API browses it, and a deployment copies it out of
S3 with the group's variables, not the server's, and serves it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from support.deploying import finished, invocations, sha256_tree, until_serving
from support.jupyter import JupyterServerProcess
from support.servers import MotoS3, Postgres, ProductionStore, start_mlflow, wait_until_healthy

BUCKET = "team-mlflow"
API = "/mlflow-groups/api/groups/prod"
TRAIN_AND_REGISTER = """
import json, mlflow, mlflow.sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

features, labels = load_iris(return_X_y=True)
with mlflow.start_run() as run:
    mlflow.log_param("C", 0.5)
    for step in range(5):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    model = LogisticRegression(C=0.5, max_iter=500).fit(features, labels)
    mlflow.log_metric("accuracy", model.score(features, labels))
    mlflow.sklearn.log_model(model, name="model", registered_model_name="prod-iris")
rows = features[::30].tolist()
predictions = model.predict(rows).tolist()
print("RESULT", json.dumps({"run": run.info.run_id, "rows": rows, "predictions": predictions}))
"""


@pytest.fixture(scope="module")
def production(
    tmp_path_factory: pytest.TempPathFactory, moto_s3: MotoS3
) -> Iterator[SimpleNamespace]:
    root = tmp_path_factory.mktemp("production")
    artifact_env = {
        "AWS_ACCESS_KEY_ID": "team-key-id",
        "AWS_SECRET_ACCESS_KEY": "team-secret-access-key",
        "AWS_DEFAULT_REGION": "us-east-1",
        "MLFLOW_S3_ENDPOINT_URL": moto_s3.url,
    }
    s3 = moto_s3.client(artifact_env["AWS_ACCESS_KEY_ID"], artifact_env["AWS_SECRET_ACCESS_KEY"])
    s3.create_bucket(Bucket=BUCKET)
    postgres = Postgres()
    mlflow = start_mlflow(
        root / "mlflow", store=ProductionStore(postgres.uri, f"s3://{BUCKET}/mlflow", artifact_env)
    )
    bindings = root / "bindings.json"
    bindings.write_text(
        json.dumps({"groups": {"prod": {"tracking_uri": mlflow.url, "artifact_env": artifact_env}}})
    )
    jupyter = JupyterServerProcess(root / "home", env={"JUPYTER_MLFLOW_GROUPS_FILE": str(bindings)})
    try:
        wait_until_healthy(mlflow)
        jupyter.start()
        yield SimpleNamespace(
            postgres=postgres, mlflow=mlflow, s3=s3, jupyter=jupyter, artifact_env=artifact_env
        )
    finally:
        jupyter.stop()
        mlflow.stop()
        postgres.stop()


@pytest.fixture(scope="module")
def registered(production: SimpleNamespace) -> dict:
    """What a user's kernel logged and registered: run id, rows to score, its predictions."""
    jupyter = production.jupyter
    kernel = jupyter.start_kernel()
    try:
        output = asyncio.run(jupyter.execute(kernel, TRAIN_AND_REGISTER, timeout=180))
    finally:
        jupyter.request("DELETE", f"/api/kernels/{kernel}")
    # (MLflow's own messages come on the same stream)
    return json.loads(next(line for line in output.splitlines() if line.startswith("RESULT "))[7:])


def s3_objects(production: SimpleNamespace, prefix: str) -> dict[str, bytes]:
    """{key below prefix: content} of the bucket."""
    listed = production.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return {
        item["Key"].removeprefix(prefix): production.s3.get_object(Bucket=BUCKET, Key=item["Key"])[
            "Body"
        ].read()
        for item in listed
    }


async def test_a_kernel_logs_to_postgres_and_s3_with_plain_mlflow_calls(production, registered):
    assert production.postgres.query("select name from registered_models") == [("prod-iris",)]
    params = production.postgres.query(
        f"select key, value from params where run_uuid = '{registered['run']}'"
    )
    assert params == [("C", "0.5")]
    model_files = {key.rsplit("/", 1)[-1] for key in s3_objects(production, "mlflow/")}
    assert {"MLmodel", "requirements.txt"} <= model_files, model_files


async def test_browsing_a_production_mlflow(production, registered):
    jupyter = production.jupyter
    models = jupyter.request("GET", f"{API}/models")["models"]
    assert [(m["name"], m["latest_version"]) for m in models] == [("prod-iris", "1")]
    version = jupyter.request("GET", f"{API}/models/prod-iris/versions/1")
    assert version["run"]["run_id"] == registered["run"]
    assert version["run"]["params"] == {"C": "0.5"}
    assert set(version["run"]["metrics"]) == {"loss", "accuracy"}
    history = jupyter.request("GET", f"{API}/runs/{registered['run']}/metrics/loss")
    assert [point["step"] for point in history["history"]] == [0, 1, 2, 3, 4]


async def test_deploying_from_s3_and_serving(production, registered):
    jupyter = production.jupyter
    # the S3 keys and endpoint come from the group's binding alone: the server has none
    assert not set(production.artifact_env) & set(jupyter.env)
    deployments = f"{API}/deployments"
    job = jupyter.request(
        "POST", deployments, {"name": "iris-prod", "model": "prod-iris", "version": "1"}
    )["job"]
    job = await finished(jupyter, job)
    assert job["state"] == "done", job["error"]
    deployment = await until_serving(jupyter, "iris-prod", deployments)
    assert deployment["version"] == "1"

    current = Path(deployment["path"])
    deployed = sha256_tree(current)
    in_s3 = s3_objects(production, "mlflow/")
    mlmodel = next(key for key in in_s3 if key.endswith("/MLmodel"))
    model_prefix = mlmodel.removesuffix("MLmodel")
    assert deployed == {
        key.removeprefix(model_prefix): hashlib.sha256(content).hexdigest()
        for key, content in in_s3.items()
        if key.startswith(model_prefix)
    }
    assert invocations(jupyter, job["endpoint"], registered["rows"]) == registered["predictions"]
    jupyter.request("DELETE", f"{deployments}/iris-prod")
