"""Fill a real MLflow server's registry quickly, over its REST API, from many threads.

Used by the tests (hundreds of models) and by benchmarks/registry.py (1,000 models x 5
versions). Deterministic: the same arguments give the same names, params, metrics and aliases.
Each model gets one run (params, latest metrics, tags) that all its versions come from; the
first model's run also carries metric histories and an MLmodel file with a signature.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from jupyter_mlflow_groups.registry import name_filter

API = "/api/2.0/mlflow"
SPECIAL_NAMES = ("fraud detector é", "it's a model", 'quoted "both" it\'s')
MLMODEL = """artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.sklearn
    python_version: 3.11.7
signature:
  inputs: '[{"type": "double", "name": "amount", "required": true},
    {"type": "long", "name": "age", "required": true}]'
  outputs: '[{"type": "long", "required": true}]'
  params: null
"""


@dataclass
class SeededRegistry:
    experiment_id: str
    model_names: list[str]
    versions: dict[str, int]
    runs: dict[str, str]  # model name -> run id
    history_run: str
    history_steps: int
    seconds: float = 0.0
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)


class _Client:
    """One requests session per thread: MLflow's REST API with optional Basic auth."""

    def __init__(self, base_url: str, auth: tuple[str, str] | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            session = requests.Session()
            session.headers["Connection"] = "close"
            if self.auth:
                session.auth = self.auth
            self._local.session = session
        return self._local.session

    def post(self, path: str, body: dict) -> dict:
        response = self.session.post(f"{self.base_url}{API}{path}", json=body, timeout=60)
        if response.status_code == 400 and "RESOURCE_ALREADY_EXISTS" in response.text:
            return {}
        response.raise_for_status()
        return response.json()

    def get(self, path: str, params: dict) -> dict:
        response = self.session.get(f"{self.base_url}{API}{path}", params=params, timeout=60)
        response.raise_for_status()
        return response.json()

    def put_artifact(self, experiment_id: str, run_id: str, path: str, content: bytes) -> None:
        """Log a file of a run through the server's proxied artifact API."""
        url = (
            f"{self.base_url}/api/2.0/mlflow-artifacts/artifacts/"
            f"{experiment_id}/{run_id}/artifacts/{path}"
        )
        self.session.put(url, data=content, timeout=60).raise_for_status()


def model_name(index: int) -> str:
    return f"model-{index:04d}"


def seed_registry(
    base_url: str,
    *,
    models: int,
    versions_per_model: int = 3,
    multi_version_models: int | None = None,
    history_steps: int = 1000,
    auth: tuple[str, str] | None = None,
    threads: int = 16,
    models_per_run: int = 10,
    experiment: str = "seeded",
) -> SeededRegistry:
    """Register `models` models (plus a few with awkward names) with their runs and versions:
    `versions_per_model` each for the first `multi_version_models` (default: all), one for the
    rest."""
    started = time.perf_counter()
    client = _Client(base_url, auth)
    created = client.post("/experiments/create", {"name": experiment})
    experiment_id = (
        created.get("experiment_id")
        or client.get("/experiments/get-by-name", {"experiment_name": experiment})["experiment"][
            "experiment_id"
        ]
    )
    names = [model_name(i) for i in range(models)] + list(SPECIAL_NAMES)
    several = len(names) if multi_version_models is None else multi_version_models
    counts = {
        name: versions_per_model if index < several else 1 for index, name in enumerate(names)
    }
    # One run for every `models_per_run` models (each run: create, log-batch, update).
    run_ids = [
        _create_run(client, experiment_id, index) for index in range(0, len(names), models_per_run)
    ]
    runs = {name: run_ids[index // models_per_run] for index, name in enumerate(names)}
    artifact_root = f"mlflow-artifacts:/{experiment_id}"

    def seed_one(name: str) -> None:
        source = f"{artifact_root}/{runs[name]}/artifacts/model"
        _seed_model(client, names.index(name), name, counts[name], runs[name], source)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(seed_one, names))
    history_run = runs[names[0]]
    _log_history(client, history_run, history_steps)
    _upload_mlmodel(client, base_url, auth, experiment_id, history_run)
    aliases = {name: _aliases_for(counts[name]) for name in names}
    return SeededRegistry(
        experiment_id=experiment_id,
        model_names=names,
        versions=counts,
        runs=runs,
        history_run=history_run,
        history_steps=history_steps,
        seconds=time.perf_counter() - started,
        aliases=aliases,
    )


def _aliases_for(count: int) -> dict[str, str]:
    """`champion` on the newest version, `challenger` on the one before (if any)."""
    aliases = {"champion": str(count)}
    if count > 1:
        aliases["challenger"] = str(count - 1)
    return aliases


def _create_run(client: _Client, experiment_id: str, index: int) -> str:
    run_id = client.post(
        "/runs/create",
        {
            "experiment_id": experiment_id,
            "start_time": 1_700_000_000_000 + index,
            "run_name": f"train-{index}",
        },
    )["run"]["info"]["run_id"]
    client.post(
        "/runs/log-batch",
        {
            "run_id": run_id,
            "params": [
                {"key": "alpha", "value": str(0.1 * (index % 10))},
                {"key": "max_depth", "value": str(3 + index % 5)},
            ],
            "metrics": [
                {
                    "key": "accuracy",
                    "value": 0.8 + (index % 20) / 100,
                    "timestamp": 1_700_000_000_000,
                    "step": 0,
                },
                {
                    "key": "rmse",
                    "value": 1.0 / (1 + index),
                    "timestamp": 1_700_000_000_000,
                    "step": 0,
                },
            ],
            "tags": [
                {"key": "team", "value": "a" if index % 2 == 0 else "b"},
                {"key": "mlflow.source.name", "value": "train.py"},
            ],
        },
    )
    client.post(
        "/runs/update",
        {"run_id": run_id, "status": "FINISHED", "end_time": 1_700_000_060_000 + index},
    )
    return run_id


def _seed_model(
    client: _Client, index: int, name: str, count: int, run_id: str, source: str
) -> None:
    created = client.post(
        "/registered-models/create",
        {
            "name": name,
            "description": f"Seeded model number {index}",
            "tags": [{"key": "team", "value": "a" if index % 2 == 0 else "b"}],
        },
    )
    existing = 0
    if not created:  # it was there already: only add the versions it lacks
        filter_string, exact = name_filter(name)
        found = client.get("/model-versions/search", {"filter": filter_string, "max_results": 1000})
        existing = len([v for v in found.get("model_versions", []) if exact or v["name"] == name])
    for _ in range(existing, count):
        client.post(
            "/model-versions/create",
            {
                "name": name,
                "source": source,
                "run_id": run_id,
                "tags": [{"key": "stage", "value": "candidate"}],
            },
        )
    for alias, version in _aliases_for(count).items():
        client.post("/registered-models/alias", {"name": name, "alias": alias, "version": version})


def _log_history(client: _Client, run_id: str, steps: int) -> None:
    """`train/loss` and `accuracy` for every step (log-batch takes 1,000 metrics per call)."""
    points = [
        metric
        for step in range(steps)
        for metric in (
            {
                "key": "train/loss",
                "value": 1.0 / (1 + step),
                "timestamp": 1_700_000_000_000 + step,
                "step": step,
            },
            {
                "key": "accuracy",
                "value": step / max(steps, 1),
                "timestamp": 1_700_000_000_000 + step,
                "step": step,
            },
        )
    ]
    for start in range(0, len(points), 1000):
        client.post("/runs/log-batch", {"run_id": run_id, "metrics": points[start : start + 1000]})


def _upload_mlmodel(
    client: _Client, base_url: str, auth: tuple[str, str] | None, experiment_id: str, run_id: str
) -> None:
    """An MLmodel file with a signature, through the server's proxied artifact API."""
    artifact = f"{experiment_id}/{run_id}/artifacts/model/MLmodel"
    url = f"{base_url.rstrip('/')}/api/2.0/mlflow-artifacts/artifacts/{artifact}"
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    response = client.session.put(url, data=MLMODEL.encode(), headers=headers, timeout=60)
    response.raise_for_status()


if __name__ == "__main__":  # a quick manual check: python tests/support/seeding.py URL MODELS
    import sys

    result = seed_registry(sys.argv[1], models=int(sys.argv[2]))
    print(json.dumps({"models": len(result.model_names), "seconds": round(result.seconds, 1)}))


#: The model `seed_comparison` registers: three versions from three runs that differ.
COMPARED_MODEL = "compared fraud"
#: Each version's run: params, latest metrics, the version's tag.
COMPARED_RUNS = (
    {"params": {"alpha": "0.1", "depth": "3"}, "metrics": {"accuracy": 0.80, "val_loss": 0.50}},
    {"params": {"alpha": "0.5", "depth": "3"}, "metrics": {"accuracy": 0.90, "val_loss": 0.30}},
    {
        "params": {"alpha": "0.5", "depth": "3", "class_weight": "balanced"},
        "metrics": {"accuracy": 0.85, "val_loss": 0.40, "f1": 0.7},
    },
)
COMPARED_ALIASES = {"champion": "2", "challenger": "3"}
COMPARED_STEPS = 5  # `train/loss` steps logged on every run


def compared_model_files(index: int) -> dict[str, bytes]:
    """The model directory of the `index`th compared version: sizes that differ, a subfolder."""
    return {"model.pkl": b"p" * 1000 * (index + 1), "code/helpers.py": b"# helpers\n" * 10}


def seed_comparison(base_url: str, experiment: str = "compared") -> None:
    """COMPARED_MODEL with a version per COMPARED_RUNS entry (in order), each run with
    `train/loss` over COMPARED_STEPS steps, and COMPARED_ALIASES; once per server."""
    client = _Client(base_url, None)
    created = client.post("/experiments/create", {"name": experiment})
    if not created:
        return  # seeded already
    experiment_id = created["experiment_id"]
    client.post("/registered-models/create", {"name": COMPARED_MODEL})
    for index, run in enumerate(COMPARED_RUNS):
        run_id = client.post(
            "/runs/create", {"experiment_id": experiment_id, "run_name": f"candidate-{index + 1}"}
        )["run"]["info"]["run_id"]
        history = [
            {
                "key": "train/loss",
                "value": (index + 1) / (step + 1),
                "timestamp": step,
                "step": step,
            }
            for step in range(COMPARED_STEPS)
        ]
        latest = [
            {"key": key, "value": value, "timestamp": 0, "step": 0}
            for key, value in run["metrics"].items()
        ]
        client.post(
            "/runs/log-batch",
            {
                "run_id": run_id,
                "params": [{"key": k, "value": v} for k, v in run["params"].items()],
                "metrics": latest + history,
                "tags": [{"key": "data", "value": "2026-11" if index else "2026-10"}],
            },
        )
        for path, content in compared_model_files(index).items():
            client.put_artifact(experiment_id, run_id, f"model/{path}", content)
        client.post(
            "/model-versions/create",
            {
                "name": COMPARED_MODEL,
                "source": f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts/model",
                "run_id": run_id,
                "tags": [{"key": "reviewed", "value": "yes" if index < 2 else "no"}],
            },
        )
    for alias, version in COMPARED_ALIASES.items():
        client.post(
            "/registered-models/alias",
            {"name": COMPARED_MODEL, "alias": alias, "version": version},
        )


#: The model `seed_previews` registers: one version whose run logged files people look at.
PREVIEWED_MODEL = "previewed classifier"
PREVIEW_JSON = {"accuracy": 0.91, "classes": ["cat", "dog"], "threshold": 0.5}
PREVIEW_CSV = "label,predicted,score\ncat,cat,0.97\ndog,cat,0.41\ndog,dog,0.88\n"
PREVIEW_TEXT = "Trained on the 2026-11 snapshot.\n<b>not bold</b>\n"
PREVIEW_SVG = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n'
#: A small confusion matrix (2 x 2 cells, 40 px each) drawn as a PNG by hand.
PREVIEW_PNG_SIZE = (80, 80)


@dataclass
class SeededPreviews:
    experiment_id: str
    run_id: str
    model: str
    files: dict[str, bytes]  # path in the run -> content
    local_run_id: str = ""  # a run whose artifacts are in a plain local directory


def confusion_png(width: int = PREVIEW_PNG_SIZE[0], height: int = PREVIEW_PNG_SIZE[1]) -> bytes:
    """A 2 x 2 confusion matrix as a PNG: dark cells on the diagonal, light ones off it."""
    import struct
    import zlib

    rows = []
    for y in range(height):
        row = bytearray([0])  # no filter
        for x in range(width):
            diagonal = (x * 2 // width) == (y * 2 // height)
            row += bytes((30, 60, 140) if diagonal else (220, 230, 245))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def preview_files(big: int = 300_000) -> dict[str, bytes]:
    """What the previewed run logs: an image, JSON, CSV and text (some in directories), an SVG
    with a script, a file too big for small preview limits, and one no preview shows."""
    return {
        "plots/confusion_matrix.png": confusion_png(),
        "metrics.json": json.dumps(PREVIEW_JSON).encode(),
        "eval/predictions.csv": PREVIEW_CSV.encode(),
        "notes.txt": PREVIEW_TEXT.encode(),
        "plots/diagram.svg": PREVIEW_SVG.encode(),
        "logs/train.log": b"epoch 1 loss 0.5\n" * (big // 17 + 1),
        "model.pkl": b"\x80\x04not really a pickle",
    }


def seed_previews(
    base_url: str, local_root: str | None = None, experiment: str = "previews"
) -> SeededPreviews:
    """PREVIEWED_MODEL, version 1, from a run that logged `preview_files()` through the server's
    proxied artifact API; with `local_root`, also a run (of an experiment whose artifacts are in
    that plain directory) whose files are written there. Once per server."""
    from pathlib import Path

    client = _Client(base_url, None)
    files = preview_files()
    created = client.post("/experiments/create", {"name": experiment})
    experiment_id = (
        created.get("experiment_id")
        or client.get("/experiments/get-by-name", {"experiment_name": experiment})["experiment"][
            "experiment_id"
        ]
    )
    runs = client.post("/runs/search", {"experiment_ids": [experiment_id], "max_results": 10}).get(
        "runs", []
    )
    by_name = {run["info"]["run_name"]: run["info"]["run_id"] for run in runs}
    run_id = by_name.get("evaluated")
    if run_id is None:
        run_id = client.post(
            "/runs/create", {"experiment_id": experiment_id, "run_name": "evaluated"}
        )["run"]["info"]["run_id"]
        for path, content in files.items():
            client.put_artifact(experiment_id, run_id, path, content)
        client.post("/runs/update", {"run_id": run_id, "status": "FINISHED"})
        client.post("/registered-models/create", {"name": PREVIEWED_MODEL})
        client.post(
            "/model-versions/create",
            {
                "name": PREVIEWED_MODEL,
                "source": f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts/model",
                "run_id": run_id,
            },
        )
    local_run_id = ""
    if local_root is not None:
        root = Path(local_root)
        name = f"{experiment}-local"
        created = client.post(
            "/experiments/create", {"name": name, "artifact_location": root.as_uri()}
        )
        local_experiment = (
            created.get("experiment_id")
            or client.get("/experiments/get-by-name", {"experiment_name": name})["experiment"][
                "experiment_id"
            ]
        )
        local_run_id = client.post(
            "/runs/create", {"experiment_id": local_experiment, "run_name": "local"}
        )["run"]["info"]["run_id"]
        artifact_uri = client.get("/runs/get", {"run_id": local_run_id})["run"]["info"][
            "artifact_uri"
        ]
        directory = Path(artifact_uri.removeprefix("file://"))
        for path, content in files.items():
            target = directory / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    return SeededPreviews(experiment_id, run_id, PREVIEWED_MODEL, files, local_run_id)
