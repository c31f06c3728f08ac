"""Load: many clients, kernels and deployments at once, through a real Jupyter server.

One run starts a real MLflow server (4 workers, as a team runs it) seeded by
tests/support/seeding.py and a real `jupyter server` with the extension bound to it, then
measures three things:

  browse   50 concurrent clients for a fixed time on the models list (a page, and a filter)
           and on one version: through our API from the cache, through our API with
           `refresh=1` (every read goes to MLflow), and on MLflow's own REST API for the same
           data (benchmarks/registry.py's raw client: the baseline of the ratio).
           Throughput, p50/p95/max latency, errors.
  kernels  20 kernels started at once through Jupyter's REST API, time from each POST until
           the kernel answers (p50/p95, total until all are ready), errors, and that each got
           its group's environment; then 20 kernels of a kernelspec pinned to jupyter_client's
           plain `local-provisioner` (no group, no magics) in the same server: the ratio.
  deploys  10 deployments with different names at once (each copies a scikit-learn model and
           starts `mlflow models serve`), then 10 deploy requests at once on one name: time
           until every job ends, what each request got (202 or 409), and whether records,
           history and `current` links agree and every deployment answers /invocations.

    python benchmarks/load.py [--quick] [--seconds 20] [--data DIR] [--json out.json]

`--quick`: 5 s per browse run, 5 kernels, 3 deployments (a smoke run).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from kernel_start import write_plain_kernelspec
from registry import API, MODEL, VERSION, RawClient, prepare_server
from support.deploying import register_version
from support.jupyter import JupyterServerProcess
from support.servers import MlflowServer

GROUP = "bench"
FILTER = "name LIKE 'model-00%'"
ENV_CODE = "import os; print(os.environ.get('JUPYTER_MLFLOW_GROUP'))"


def summary(latencies: list[float], errors: int, seconds: float) -> dict[str, float]:
    """Throughput and latency figures of one load run (latencies in seconds)."""
    ordered = sorted(latencies) or [float("nan")]
    p95 = (
        statistics.quantiles(ordered, n=20, method="inclusive")[18]
        if len(ordered) > 1
        else ordered[0]
    )
    return {
        "requests": len(latencies),
        "errors": errors,
        "req_per_s": len(latencies) / seconds,
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": p95 * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def hammer(action: Callable[[requests.Session], None], clients: int, seconds: float) -> dict:
    """`clients` threads, each with its own session, repeat `action` for `seconds`."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        session = requests.Session()
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                action(session)
            except Exception:
                with lock:
                    errors[0] += 1
                continue
            with lock:
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()
    return summary(latencies, errors[0], time.perf_counter() - started)


def browse(mlflow: MlflowServer, jupyter: JupyterServerProcess, seconds: float) -> dict:
    ours = f"{jupyter.url}/mlflow-groups/api/groups/{GROUP}"
    headers = {"Authorization": f"token {jupyter.token}"}

    def our_get(path: str, params: dict) -> Callable[[requests.Session], None]:
        def action(session: requests.Session) -> None:
            response = session.get(f"{ours}{path}", params=params, headers=headers, timeout=60)
            response.raise_for_status()

        return action

    def raw(screen: Callable[[RawClient], None]) -> Callable[[requests.Session], None]:
        def action(session: requests.Session) -> None:
            client = RawClient(mlflow.url, mlflow.auth, reuse=True)
            client.session = session
            screen(client)

        return action

    endpoints = {
        "models list": (
            {"max_results": 25},
            raw(lambda c: c.get(f"{API}/registered-models/search", max_results=25)),
        ),
        "models filter": (
            {"filter": FILTER, "max_results": 25},
            raw(lambda c: c.get(f"{API}/registered-models/search", filter=FILTER, max_results=25)),
        ),
        "version": ({}, raw(RawClient.version_screen)),
    }
    paths = {
        "models list": "/models",
        "models filter": "/models",
        "version": f"/models/{MODEL}/versions/{VERSION}",
    }
    results = {}
    for endpoint, (params, raw_action) in endpoints.items():
        results[endpoint] = {
            "mlflow": hammer(raw_action, 50, seconds),
            "ours (cached)": hammer(our_get(paths[endpoint], params), 50, seconds),
            "ours (refresh=1)": hammer(
                our_get(paths[endpoint], {**params, "refresh": "1"}), 50, seconds
            ),
        }
    return results


async def start_kernels(jupyter: JupyterServerProcess, spec: str, count: int) -> dict:
    """`count` kernels POSTed at once; seconds from each POST until it answers, and the group
    each one sees."""

    async def one() -> tuple[float, str]:
        started = time.perf_counter()
        kernel = await asyncio.to_thread(jupyter.start_kernel, spec)
        try:
            await jupyter.wait_ready(kernel, timeout=300)
            elapsed = time.perf_counter() - started
            return elapsed, (await jupyter.execute(kernel, ENV_CODE)).strip()
        finally:
            await asyncio.to_thread(jupyter.request, "DELETE", f"/api/kernels/{kernel}")

    started = time.perf_counter()
    outcomes = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
    total = time.perf_counter() - started
    done = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    figures = summary([seconds for seconds, _ in done], count - len(done), total)
    failures = [repr(outcome)[:300] for outcome in outcomes if isinstance(outcome, BaseException)]
    groups = sorted({group for _, group in done})
    return {**figures, "total_s": total, "groups": groups, "failures": failures}


def kernels(jupyter: JupyterServerProcess, count: int) -> dict:
    return {
        spec: asyncio.run(start_kernels(jupyter, spec, count))
        for spec in ("python3", "python3-plain")
    }


class Deployer:
    """Deploy requests through our API, and following their jobs to the end."""

    def __init__(self, jupyter: JupyterServerProcess) -> None:
        self.base = f"{jupyter.url}/mlflow-groups/api"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {jupyter.token}"

    def request(self, name: str, model: str, version: str) -> tuple[int, dict]:
        body = {"name": name, "model": model, "version": version}
        response = requests.post(
            f"{self.base}/groups/{GROUP}/deployments",
            json=body,
            headers=dict(self.session.headers),
            timeout=60,
        )
        return response.status_code, response.json()

    def follow(self, job_id: str) -> dict:
        while True:
            job = self.session.get(f"{self.base}/jobs/{job_id}", timeout=60).json()
            if job["state"] in ("done", "failed", "cancelled"):
                return job
            time.sleep(0.1)

    def at_once(self, requests_: list[tuple[str, str, str]]) -> dict:
        """Send all requests at once; wait for every accepted job. Seconds until all ended."""
        started = time.perf_counter()
        with ThreadPoolExecutor(len(requests_)) as pool:
            answers = list(pool.map(lambda r: self.request(*r), requests_))
            accepted = [body["job"]["id"] for status, body in answers if status == 202]
            jobs = list(pool.map(self.follow, accepted))
        return {
            "seconds": time.perf_counter() - started,
            "statuses": sorted(status for status, _ in answers),
            "refusals": sorted({b["error"]["code"] for s, b in answers if s != 202}),
            "job_states": sorted(job["state"] for job in jobs),
            "errors": [job["error"] for job in jobs if job["state"] != "done"],
        }

    def consistent(self, names: list[str], rows: list[list[float]]) -> list[str]:
        """What is wrong with the records, their history or their serving (empty: nothing)."""
        problems = []
        for name in names:
            record = self.session.get(
                f"{self.base}/groups/{GROUP}/deployments/{name}", timeout=60
            ).json()
            history = record["history"]
            if record["status"] != "serving" or history[0]["to_version"] != record["version"]:
                problems.append(f"{name}: {record['status']}, history {history[:1]}")
            if any(
                older["to_version"] != newer["from_version"]
                for newer, older in itertools.pairwise(history)
            ):
                problems.append(f"{name}: torn history {history}")
            current = Path(record["path"]).parent.parent / "current"
            if not current.samefile(record["path"]):
                problems.append(f"{name}: current does not point at {record['path']}")
            frame = {"columns": [f"f{i}" for i in range(len(rows[0]))], "data": rows}
            answer = requests.post(
                f"{record['invocations_url']}",
                json={"dataframe_split": frame},
                timeout=60,
            )
            if answer.status_code != 200:
                problems.append(f"{name}: /invocations answered {answer.status_code}")
        return problems


def sklearn_model(directory: Path) -> list[list[float]]:
    import mlflow.sklearn
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    mlflow.sklearn.save_model(LogisticRegression(max_iter=500).fit(features, labels), directory)
    return features[::30].tolist()


def deploys(mlflow: MlflowServer, jupyter: JupyterServerProcess, scratch: Path, count: int) -> dict:
    rows = sklearn_model(scratch / "model")
    versions = [register_version(mlflow, "loaded", scratch / "model")[0] for _ in range(2)]
    deployer = Deployer(jupyter)
    names = [f"load-{index}" for index in range(count)]
    different = deployer.at_once([(name, "loaded", versions[0]) for name in names])
    same = deployer.at_once([(names[0], "loaded", versions[i % 2]) for i in range(count)])
    return {
        "different names": different,
        "same name": same,
        "problems": deployer.consistent(names, rows),
    }


def browse_table(results: dict) -> str:
    lines = [
        "| endpoint | served by | req/s | p50 | p95 | max | errors | req/s vs MLflow |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for endpoint, runs in results.items():
        for label, figures in runs.items():
            ratio = figures["req_per_s"] / runs["mlflow"]["req_per_s"]
            lines.append(
                f"| {endpoint} | {label} | {figures['req_per_s']:.0f} | {figures['p50_ms']:.0f} ms "
                f"| {figures['p95_ms']:.0f} ms | {figures['max_ms']:.0f} ms | {figures['errors']} "
                f"| {ratio:.2f} |"
            )
    return "\n".join(lines)


def kernels_table(results: dict, count: int) -> str:
    ours, plain = results["python3"], results["python3-plain"]
    lines = [
        f"| {count} kernels at once | p50 | p95 | all ready | errors | groups seen |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, figures in (("with the provisioner", ours), ("plain local-provisioner", plain)):
        lines.append(
            f"| {label} | {figures['p50_ms'] / 1000:.1f} s | {figures['p95_ms'] / 1000:.1f} s "
            f"| {figures['total_s']:.1f} s | {figures['errors']} | {figures['groups']} |"
        )
    lines.append(f"| ratio (all ready) | | | {ours['total_s'] / plain['total_s']:.2f} | | |")
    failures = ours["failures"] + plain["failures"]
    return "\n".join(lines) + (f"\n\nFailures: {failures}" if failures else "")


def deploys_table(results: dict) -> str:
    lines = ["| deploy requests at once | all jobs ended | answers | jobs | errors |"]
    lines.append("| --- | --- | --- | --- | --- |")
    for label in ("different names", "same name"):
        figures = results[label]
        lines.append(
            f"| {label} | {figures['seconds']:.1f} s | {figures['statuses']} {figures['refusals']} "
            f"| {figures['job_states']} | {figures['errors'] or 'none'} |"
        )
    return (
        "\n".join(lines) + f"\n\nConsistency problems afterwards: {results['problems'] or 'none'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float, default=20.0, help="per browse run")
    parser.add_argument("--data", type=Path, help="keep the seeded MLflow files here between runs")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    seconds, count_kernels, count_deploys = (5.0, 5, 3) if args.quick else (args.seconds, 20, 10)
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        mlflow = prepare_server(
            (args.data or scratch) / "load", basic_auth=False, models=50 if args.quick else 1000
        )
        home = scratch / "jupyter"
        write_plain_kernelspec(home / "data")
        bindings = scratch / "bindings.json"
        bindings.write_text(json.dumps({"groups": {GROUP: {"tracking_uri": mlflow.url}}}))
        jupyter = JupyterServerProcess(home, env={"JUPYTER_MLFLOW_GROUPS_FILE": str(bindings)})
        try:
            jupyter.start()
            output = {
                "browse": browse(mlflow, jupyter, seconds),
                "kernels": kernels(jupyter, count_kernels),
                "deploys": deploys(mlflow, jupyter, scratch, count_deploys),
            }
        finally:
            jupyter.stop()
            mlflow.stop()
    print(f"### 50 concurrent clients, {seconds:.0f} s each\n\n{browse_table(output['browse'])}\n")
    print(f"### Kernels\n\n{kernels_table(output['kernels'], count_kernels)}\n")
    print(f"### {count_deploys} deployments\n\n{deploys_table(output['deploys'])}")
    if args.json:
        args.json.write_text(json.dumps(output, indent=2))


if __name__ == "__main__":
    main()
