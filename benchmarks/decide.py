"""Deciding and following, timed in one run against a real `mlflow server` and a real `jupyter
server` bound to it (group `team`):

  compare   `GET .../models/{m}/compare?versions=1,2,3,4&refresh=1` (every read cold: the cache
            bypassed) against the slowest of the four single-version reads
            `GET .../models/{m}/versions/{v}?refresh=1` made one after another, as a person
            opening the versions one by one would; the two sides alternate round by round.
  follow    a deployment following `@champion` of a real scikit-learn model: the time from a
            plain `MlflowClient().set_registered_model_alias(...)` to the deployment serving the
            new version, against a deployment job of the same version started by hand (POST,
            then until it is done); once told by the MLflow server's registry webhook (the
            server is started allowing deliveries over loopback, as managed ones are), once by
            polling every `--interval` s (the same Jupyter server restarted without webhooks).

    python benchmarks/decide.py [--rounds 30] [--moves 5] [--interval 5] [--json out.json]

`--moves 0` measures the compare alone. The MLflow server's CPU time per request (its process
and workers, read with psutil) is printed beside the times: on a machine of few cores it is
what bounds a request that reads several versions at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil  # ipykernel's dependency
import requests  # MLflow's dependency

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.deploying import TEAM_DEPLOYMENTS, register_version
from support.jupyter import JupyterServerProcess
from support.servers import MlflowServer, start_mlflow, wait_until_healthy

from jupyter_mlflow_groups.managed import WEBHOOK_ENVIRONMENT

API = "/api/2.0/mlflow"
COMPARED = "bench-compared"
FOLLOWED = "bench-followed"
GROUP_API = "/mlflow-groups/api/groups/team"


MLMODEL = b"""artifact_path: model
flavors:
  python_function: {loader_module: mlflow.sklearn, model_path: model.pkl, python_version: 3.11.7}
signature:
  inputs: '[{"type": "double", "name": "amount", "required": true}]'
  outputs: '[{"type": "long", "required": true}]'
"""


def seed_versions(server: MlflowServer, count: int = 4, steps: int = 1000) -> None:
    """COMPARED with `count` versions, each from a run of its own (params, metrics, tags, a
    `steps`-step history) whose model folder holds an MLmodel (with a signature) and a
    model file, logged through the server's artifact API."""
    server.request("POST", f"{API}/registered-models/create", {"name": COMPARED})
    for index in range(count):
        run = server.request("POST", f"{API}/runs/create", {"experiment_id": "0"})["run"]["info"]
        metrics = [
            {"key": "loss", "value": 1 / (step + 1 + index), "timestamp": step, "step": step}
            for step in range(steps)
        ]
        metrics.append({"key": "accuracy", "value": 0.8 + index / 100, "timestamp": 0, "step": 0})
        params = [{"key": f"p{k}", "value": str(k * index)} for k in range(20)]
        server.request("POST", f"{API}/runs/log-batch", {"run_id": run["run_id"], "params": params})
        for start in range(0, len(metrics), 1000):  # MLflow takes 1,000 entities per batch
            batch = {"run_id": run["run_id"], "metrics": metrics[start : start + 1000]}
            server.request("POST", f"{API}/runs/log-batch", batch)
        folder = run["artifact_uri"].removeprefix("mlflow-artifacts:/")
        for name, content in (("MLmodel", MLMODEL), ("model.pkl", b"\x80" * 50_000)):
            url = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{folder}/model/{name}"
            requests.put(url, data=content, timeout=60).raise_for_status()
        server.request(
            "POST",
            f"{API}/model-versions/create",
            {"name": COMPARED, "source": f"{run['artifact_uri']}/model", "run_id": run["run_id"]},
        )


def timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) of a process and its children so far."""
    process = psutil.Process(pid)
    total = 0.0
    for one in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = one.cpu_times()
            total += times.user + times.system
    return total


def raw_reads(server: MlflowServer, versions: list[str]) -> Callable[[], None]:
    """The MLflow calls the compare makes, made straight to MLflow in the same two rounds and
    as concurrently (a thread each): what any client of MLflow's REST API needs for the same
    answer, the floor for ours."""
    pool = ThreadPoolExecutor(16)
    local = threading.local()

    def get(path: str, params: dict[str, Any]) -> Any:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        answer = local.session.get(f"{server.url}{path}", params=params, timeout=60)
        answer.raise_for_status()
        return answer

    def read() -> None:
        search = {
            "filter": f"name='{COMPARED}' AND version_number >= 1 AND version_number <= 4",
            "max_results": len(versions),
        }
        first = [
            pool.submit(get, f"{API}/registered-models/get", {"name": COMPARED}),
            pool.submit(get, f"{API}/model-versions/search", search),
        ] + [
            pool.submit(
                get,
                "/model-versions/get-artifact",
                {"name": COMPARED, "version": version, "path": "MLmodel"},
            )
            for version in versions
        ]
        found = first[1].result().json()["model_versions"]
        second = [
            pool.submit(get, f"{API}/runs/get", {"run_id": raw["run_id"]}) for raw in found
        ] + [
            pool.submit(get, f"{API}/artifacts/list", {"run_id": raw["run_id"], "path": "model"})
            for raw in found
        ]
        for call in first + second:
            call.result()

    return read


def measure_compare(
    jupyter: JupyterServerProcess, server: MlflowServer, rounds: int
) -> dict[str, Any]:
    versions = ["1", "2", "3", "4"]
    model = f"{GROUP_API}/models/{COMPARED}"
    assert server.process is not None
    mlflow_pid = server.process.pid
    mlflow_cpu = {"compare": 0.0, "single": 0.0}

    def compare() -> None:
        before = cpu_seconds(mlflow_pid)
        jupyter.request("GET", f"{model}/compare?versions={','.join(versions)}&refresh=1")
        mlflow_cpu["compare"] += cpu_seconds(mlflow_pid) - before

    def one_by_one() -> float:
        before = cpu_seconds(mlflow_pid)
        slowest = max(
            timed(lambda v=v: jupyter.request("GET", f"{model}/versions/{v}?refresh=1"))
            for v in versions
        )
        mlflow_cpu["single"] += (cpu_seconds(mlflow_pid) - before) / len(versions)
        return slowest

    raw = raw_reads(server, versions)
    compare()  # warm the connections and the server's imports
    raw()
    mlflow_cpu["compare"] = 0.0
    together: list[float] = []
    slowest: list[float] = []
    direct: list[float] = []
    sides = [
        lambda: together.append(timed(compare)),
        lambda: slowest.append(one_by_one()),
        lambda: direct.append(timed(raw)),
    ]
    for round_ in range(rounds):
        for side in sides[round_ % 3 :] + sides[: round_ % 3]:  # each side first in turn
            side()
    return {
        "compare_s": together,
        "slowest_single_s": slowest,
        "raw_calls_s": direct,
        "compare_vs_raw_calls": statistics.median(together) / statistics.median(direct),
        "mlflow_cpu_per_compare_s": mlflow_cpu["compare"] / rounds,
        "mlflow_cpu_per_single_read_s": mlflow_cpu["single"] / rounds,
        "ratio_of_medians": statistics.median(together) / statistics.median(slowest),
        "median_paired_ratio": statistics.median(
            t / s for t, s in zip(together, slowest, strict=True)
        ),
    }


async def until_serving(jupyter: JupyterServerProcess, name: str, version: str) -> None:
    while True:
        found = jupyter.request("GET", f"{TEAM_DEPLOYMENTS}/{name}")
        if found["version"] == version and found["status"] == "serving" and not found["job"]:
            return
        await asyncio.sleep(0.05)


async def until_done(jupyter: JupyterServerProcess, job: dict[str, Any]) -> None:
    while job["state"] not in ("done", "failed", "cancelled"):
        await asyncio.sleep(0.05)
        job = jupyter.request("GET", f"/mlflow-groups/api/jobs/{job['id']}")
    if job["state"] != "done":
        raise RuntimeError(f"a deployment job ended {job['state']}: {job['error']}")


async def measure_follow(
    jupyter: JupyterServerProcess, server: MlflowServer, model_dir: Path, moves: int, name: str
) -> dict[str, Any]:
    from mlflow import MlflowClient

    versions = [register_version(server, name, model_dir)[0] for _ in range(2)]
    mlflow = MlflowClient(tracking_uri=server.url)
    mlflow.set_registered_model_alias(name, "champion", versions[0])
    body = {"name": "follower", "model": name, "version": "@champion", "follow": True}
    await until_done(jupyter, jupyter.request("POST", TEAM_DEPLOYMENTS, body)["job"])
    delays: list[float] = []
    by_hand: list[float] = []
    for move in range(moves):
        target = versions[(move + 1) % 2]
        started = time.perf_counter()
        mlflow.set_registered_model_alias(name, "champion", target)
        await until_serving(jupyter, "follower", target)
        delays.append(time.perf_counter() - started)
        started = time.perf_counter()
        body = {"name": "by-hand", "model": name, "version": target}
        await until_done(jupyter, jupyter.request("POST", TEAM_DEPLOYMENTS, body)["job"])
        by_hand.append(time.perf_counter() - started)
    return {
        "move_to_serving_s": delays,
        "deploy_job_s": by_hand,
        "ratio_of_medians": statistics.median(delays) / statistics.median(by_hand),
    }


def sklearn_model(directory: Path) -> Path:
    import mlflow.sklearn
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    path = directory / "model"
    mlflow.sklearn.save_model(LogisticRegression(max_iter=500).fit(features, labels), str(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--moves", type=int, default=5)
    parser.add_argument("--interval", type=float, default=5.0, help="follow_interval, seconds")
    parser.add_argument(
        "--workers", type=int, default=4, help="MLflow server workers (4: mlflow's default)"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        server = start_mlflow(root / "mlflow", workers=args.workers, extra_env=WEBHOOK_ENVIRONMENT)
        jupyter: JupyterServerProcess | None = None
        try:
            wait_until_healthy(server)
            seed_versions(server)
            bindings = root / "bindings.json"
            bindings.write_text(json.dumps({"groups": {"team": {"tracking_uri": server.url}}}))
            model = sklearn_model(root)
            followed = {}
            for way, webhooks in (("webhook", True), ("polling", False)):
                jupyter = JupyterServerProcess(
                    root / f"home-{way}",
                    env={"JUPYTER_MLFLOW_GROUPS_FILE": str(bindings)},
                    args=[
                        f"--MlflowGroupsApp.follow_interval={args.interval}",
                        f"--MlflowGroupsApp.registry_webhooks={webhooks}",
                    ],
                ).start()
                if way == "webhook":
                    compared = measure_compare(jupyter, server, args.rounds)
                if args.moves:
                    followed[way] = asyncio.run(
                        measure_follow(jupyter, server, model, args.moves, f"{FOLLOWED}-{way}")
                    )
                jupyter.stop()
                jupyter = None
        finally:
            if jupyter is not None:
                jupyter.stop()
            server.stop()
    median = statistics.median
    print(f"| compare, 4 versions, cold ({args.rounds} rounds) | median |")
    print("| --- | --- |")
    print(f"| one compare request | {median(compared['compare_s']) * 1000:.0f} ms |")
    print(
        f"| the slowest of 4 single-version reads | "
        f"{median(compared['slowest_single_s']) * 1000:.0f} ms |"
    )
    print(f"| ratio of medians | {compared['ratio_of_medians']:.2f} |")
    print(f"| median of paired ratios | {compared['median_paired_ratio']:.2f} |")
    print(
        f"| the same MLflow calls made straight to MLflow, two rounds, concurrently | "
        f"{median(compared['raw_calls_s']) * 1000:.0f} ms |"
    )
    print(f"| the compare request against them | {compared['compare_vs_raw_calls']:.2f} |")
    print(
        f"| the MLflow server's CPU time: per compare / per single read | "
        f"{compared['mlflow_cpu_per_compare_s'] * 1000:.0f} ms / "
        f"{compared['mlflow_cpu_per_single_read_s'] * 1000:.0f} ms |"
    )
    if args.json:
        args.json.write_text(json.dumps({"compare": compared, "follow": followed}, indent=2))
    if not args.moves:
        return
    print(f"\n| following @champion ({args.moves} moves each) | webhook | polling every "
          f"{args.interval:g} s |")  # fmt: skip
    print("| --- | --- | --- |")
    hook, poll = followed["webhook"], followed["polling"]
    for label, key in (
        ("alias moved → the deployment serves it", "move_to_serving_s"),
        ("the same version deployed by hand (the job alone)", "deploy_job_s"),
    ):
        print(f"| {label} | {median(hook[key]):.1f} s | {median(poll[key]):.1f} s |")
    print(f"| ratio of medians | {hook['ratio_of_medians']:.2f} | {poll['ratio_of_medians']:.2f} |")


if __name__ == "__main__":
    main()
