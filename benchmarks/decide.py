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
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.deploying import TEAM_DEPLOYMENTS, register_version
from support.jupyter import JupyterServerProcess
from support.servers import MlflowServer, start_mlflow, wait_until_healthy

from jupyter_mlflow_groups.managed import WEBHOOK_ENVIRONMENT

API = "/api/2.0/mlflow"
COMPARED = "bench-compared"
FOLLOWED = "bench-followed"
GROUP_API = "/mlflow-groups/api/groups/team"


def seed_versions(server: MlflowServer, count: int = 4, steps: int = 1000) -> None:
    """COMPARED with `count` versions, each from a run of its own (params, metrics, tags, a
    `steps`-step history)."""
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
        server.request(
            "POST",
            f"{API}/model-versions/create",
            {"name": COMPARED, "source": f"{run['artifact_uri']}/model", "run_id": run["run_id"]},
        )


def timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def measure_compare(jupyter: JupyterServerProcess, rounds: int) -> dict[str, Any]:
    versions = ["1", "2", "3", "4"]
    model = f"{GROUP_API}/models/{COMPARED}"

    def compare() -> None:
        jupyter.request("GET", f"{model}/compare?versions={','.join(versions)}&refresh=1")

    def one_by_one() -> float:
        return max(
            timed(lambda v=v: jupyter.request("GET", f"{model}/versions/{v}?refresh=1"))
            for v in versions
        )

    compare()  # warm the connections and the server's imports
    together: list[float] = []
    slowest: list[float] = []
    for round_ in range(rounds):
        if round_ % 2:
            slowest.append(one_by_one())
            together.append(timed(compare))
        else:
            together.append(timed(compare))
            slowest.append(one_by_one())
    return {
        "compare_s": together,
        "slowest_single_s": slowest,
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
                    compared = measure_compare(jupyter, args.rounds)
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
    if args.json:
        args.json.write_text(json.dumps({"compare": compared, "follow": followed}, indent=2))


if __name__ == "__main__":
    main()
