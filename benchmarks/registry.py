"""Registry screens through our REST API vs the raw MLflow REST calls a client would make.

One run starts a real MLflow server (uvicorn with its default 4 workers, as a team runs it),
seeds it with 1,000 models x 5 versions (tests/support/seeding.py: concurrent, over REST),
starts a real `jupyter server` with the extension bound to it, and times each screen both ways:

  first page     raw: registered-models/search (25)              ours: GET .../models
  all pages      raw: 10 x registered-models/search (100), serial  ours: 10 x GET .../models
  model screen   raw: registered-models/get, then model-versions/search (a client that
                 needs aliases on its version rows makes both)     ours: GET .../models/{name}
  version screen raw: model-versions/get, runs/get, MLmodel          ours: GET .../versions/{v}

"raw" is measured two ways, and the faster one is the baseline: a `requests.Session` (reused
connections, as MLflow's own client does) and a fresh connection per call. "ours (cold)" forces
every read through to MLflow (`?refresh=1`); "ours (warm)" is a repeat view within the cache's
lifetime. With `--auth`, the same screens against a `basic-auth` server (smaller registry).

    python benchmarks/registry.py [--runs 30] [--data DIR] [--auth] [--json out.json]

`--data DIR` keeps the seeded server's files between runs (seeding is skipped when present).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.jupyter import JupyterServerProcess
from support.seeding import seed_registry
from support.servers import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    MlflowServer,
    start_mlflow,
    wait_until_healthy,
)

API = "/api/2.0/mlflow"
MODEL, VERSION = "model-0007", "3"


class RawClient:
    """What a client talking to MLflow directly does for each screen."""

    def __init__(self, base_url: str, auth: tuple[str, str] | None, reuse: bool) -> None:
        self.base_url = base_url
        self.session = requests.Session() if reuse else None
        self.auth = auth

    def get(self, endpoint: str, **params: object) -> dict:
        getter = self.session.get if self.session else requests.get
        response = getter(f"{self.base_url}{endpoint}", params=params, auth=self.auth, timeout=60)
        response.raise_for_status()
        return response.json() if "json" in response.headers.get("Content-Type", "") else {}

    def first_page(self) -> None:
        self.get(f"{API}/registered-models/search", max_results=25)

    def all_pages(self) -> None:
        token = None
        while True:
            params = {"max_results": 100, **({"page_token": token} if token else {})}
            token = self.get(f"{API}/registered-models/search", **params).get("next_page_token")
            if not token:
                return

    def model_screen(self) -> None:
        self.get(f"{API}/registered-models/get", name=MODEL)
        self.get(
            f"{API}/model-versions/search",
            filter=f"name='{MODEL}'",
            order_by="version_number DESC",
            max_results=25,
        )

    def version_screen(self) -> None:
        version = self.get(f"{API}/model-versions/get", name=MODEL, version=VERSION)[
            "model_version"
        ]
        self.get(f"{API}/runs/get", run_id=version["run_id"])
        self.get("/model-versions/get-artifact", name=MODEL, version=VERSION, path="MLmodel")


class OurClient:
    """The same screens through the extension's REST API."""

    def __init__(self, server: JupyterServerProcess, group: str, refresh: bool) -> None:
        self.base = f"{server.url}/mlflow-groups/api/groups/{group}"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {server.token}"
        self.refresh = {"refresh": "1"} if refresh else {}

    def get(self, path: str, **params: object) -> dict:
        response = self.session.get(
            f"{self.base}{path}", params={**params, **self.refresh}, timeout=60
        )
        response.raise_for_status()
        return response.json()

    def first_page(self) -> None:
        self.get("/models", max_results=25)

    def all_pages(self) -> None:
        token = None
        while True:
            params = {"max_results": 100, **({"page_token": token} if token else {})}
            token = self.get("/models", **params).get("next_page_token")
            if not token:
                return

    def model_screen(self) -> None:
        self.get(f"/models/{MODEL}")

    def version_screen(self) -> None:
        self.get(f"/models/{MODEL}/versions/{VERSION}")


SCREENS = ("first_page", "all_pages", "model_screen", "version_screen")


def median_seconds(action: Callable[[], None], runs: int) -> float:
    action()  # warm-up: connections, imports, the server's own caches
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def prepare_server(data: Path, *, basic_auth: bool, models: int) -> MlflowServer:
    seeded_marker = data / "seeded.json"
    server = start_mlflow(data, basic_auth=basic_auth, workers=4)
    wait_until_healthy(server)
    if not seeded_marker.exists():
        auth = (ADMIN_USER, ADMIN_PASSWORD) if basic_auth else None
        result = seed_registry(
            server.url, models=models, versions_per_model=5, history_steps=1000, auth=auth
        )
        seeded_marker.write_text(
            json.dumps({"models": len(result.model_names), "seconds": result.seconds})
        )
        print(
            f"seeded {len(result.model_names)} models x 5 versions in {result.seconds:.0f} s",
            file=sys.stderr,
        )
    return server


def measure(mlflow: MlflowServer, home: Path, runs: int) -> dict[str, dict[str, float]]:
    home.mkdir(parents=True, exist_ok=True)
    bindings = home / "bindings.json"
    env = {}
    if mlflow.auth:
        env = {
            "MLFLOW_TRACKING_USERNAME": mlflow.auth[0],
            "MLFLOW_TRACKING_PASSWORD": mlflow.auth[1],
        }
    bindings.write_text(
        json.dumps({"groups": {"bench": {"tracking_uri": mlflow.url, "tracking_env": env}}})
    )
    jupyter = JupyterServerProcess(
        home / "jupyter", env={"JUPYTER_MLFLOW_GROUPS_FILE": str(bindings)}
    )
    jupyter.start()
    try:
        clients = {
            "raw (session)": RawClient(mlflow.url, mlflow.auth, reuse=True),
            "raw (fresh connections)": RawClient(mlflow.url, mlflow.auth, reuse=False),
            "ours (cold)": OurClient(jupyter, "bench", refresh=True),
            "ours (warm)": OurClient(jupyter, "bench", refresh=False),
        }
        return {
            screen: {
                label: median_seconds(getattr(client, screen), runs)
                for label, client in clients.items()
            }
            for screen in SCREENS
        }
    finally:
        jupyter.stop()


def report(title: str, results: dict[str, dict[str, float]]) -> str:
    lines = [
        f"### {title}",
        "",
        "| screen | raw (session) | raw (fresh) | ours (cold) | ours (warm) "
        "| cold / best raw | warm / best raw |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for screen, timings in results.items():
        raw = min(timings["raw (session)"], timings["raw (fresh connections)"])
        cells = [
            f"{timings[k] * 1000:.1f} ms"
            for k in ("raw (session)", "raw (fresh connections)", "ours (cold)", "ours (warm)")
        ]
        lines.append(
            f"| {screen.replace('_', ' ')} | "
            + " | ".join(cells)
            + f" | {timings['ours (cold)'] / raw:.2f} | {timings['ours (warm)'] / raw:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--data", type=Path, help="keep the seeded MLflow files here between runs")
    parser.add_argument(
        "--auth", action="store_true", help="also measure against a basic-auth server"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    output: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as scratch:
        root = args.data or Path(scratch)
        suites = [("plain", False, 1000)] + ([("basic-auth", True, 50)] if args.auth else [])
        for name, basic_auth, models in suites:
            mlflow = prepare_server(root / name, basic_auth=basic_auth, models=models)
            try:
                results = measure(mlflow, Path(scratch) / f"home-{name}", args.runs)
            finally:
                mlflow.stop()
            output[name] = results
            title = (
                f"MLflow server: {name}, 4 workers, {models} models x 5 versions "
                f"({args.runs} runs, medians)"
            )
            print(report(title, results) + "\n")
    if args.json:
        args.json.write_text(json.dumps(output, indent=2))


if __name__ == "__main__":
    main()
