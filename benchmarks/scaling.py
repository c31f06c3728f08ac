"""Scaling: what a JupyterHub user and a production MLflow cost, measured on this machine.

hub         A real JupyterHub (tests/support/hub.py) with `--users` users in two groups
            starts every user's server at once and each user starts a kernel, twice: with
            the extension, and with it disabled in the users' servers (the baseline: the
            same Hub without us). Time until every server is ready, each server's memory
            (RSS) with its kernel, kernel start-to-ready; then the cost of the question we ask
            the Hub (`GET /hub/api/user`): latency, and throughput with 16 clients.
production  One MLflow on PostgreSQL + S3 (moto) and one on sqlite + local artifacts, each
            seeded with `--models` registered models: a page of 100 models through our API
            (refresh=1: every read goes to MLflow) vs MLflow's own REST search; then a model
            of `--model-mib` MiB copied out of S3 by our deployment worker vs
            `mlflow artifacts download`, and one `mlflow models serve` process's memory.

  python benchmarks/scaling.py [--users 10] [--models 1000] [--model-mib 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from deploy_copy import timed
from support.deploying import register_version
from support.hub import JupyterHubProcess
from support.jupyter import JupyterServerProcess
from support.servers import MotoS3, Postgres, ProductionStore, start_mlflow, wait_until_healthy

MIB = 1024 * 1024
WITHOUT_EXTENSION = "--ServerApp.jpserver_extensions=jupyter_mlflow_groups=False"


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MiB."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        total += next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
        )
    return round(total / 1024, 1)


# -- hub ----------------------------------------------------------------------------------


def hub_round(scratch: Path, bindings: Path, users: list[str], extension: bool) -> dict:
    groups = {"team-a": users[::2], "team-b": users[1::2]}
    hub = JupyterHubProcess(
        scratch / ("hub-with" if extension else "hub-without"),
        groups,
        {"JUPYTER_MLFLOW_GROUPS_FILE": str(bindings)},
        server_args=() if extension else (WITHOUT_EXTENSION,),
    ).start()
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(len(users)) as pool:
            clients = list(pool.map(hub.start_server, users))
        all_ready = time.perf_counter() - started

        async def start_kernels() -> list[float]:
            async def one(client) -> float:
                begun = time.perf_counter()
                kernel = await asyncio.to_thread(client.start_kernel)
                await client.wait_ready(kernel)
                return time.perf_counter() - begun

            return list(await asyncio.gather(*(one(client) for client in clients)))

        kernel_starts = asyncio.run(start_kernels())
        pids = [hub.api("GET", f"/users/{user}")["servers"][""]["state"]["pid"] for user in users]
        memory = [tree_rss_mib(pid) for pid in pids]
        result = {
            "all servers ready s": round(all_ready, 2),
            "kernel start p50 ms": median_ms(kernel_starts),
            "kernel start max ms": round(max(kernel_starts) * 1000, 1),
            "server + kernel RSS p50 MiB": statistics.median(memory),
        }
        if extension:
            result |= hub_api_cost(hub, clients[0].token)
        return result
    finally:
        hub.stop()


def hub_api_cost(hub: JupyterHubProcess, token: str) -> dict:
    """The one Hub request we make per kernel start (and per cache period for REST reads)."""
    url = f"{hub.url}/hub/api/user"
    headers = {"Authorization": f"token {token}"}
    with requests.Session() as session:
        latencies = []
        for _ in range(200):
            begun = time.perf_counter()
            session.get(url, headers=headers, timeout=10).raise_for_status()
            latencies.append(time.perf_counter() - begun)
    deadline = time.monotonic() + 10

    def client() -> int:
        done = 0
        with requests.Session() as session:
            while time.monotonic() < deadline:
                session.get(url, headers=headers, timeout=10).raise_for_status()
                done += 1
        return done

    with ThreadPoolExecutor(16) as pool:
        total = sum(pool.map(lambda _: client(), range(16)))
    return {
        "hub /api/user p50 ms": median_ms(latencies),
        "hub /api/user req/s (16 clients)": round(total / 10, 1),
    }


def hub_part(scratch: Path, user_count: int) -> dict:
    mlflow = start_mlflow(scratch / "hub-mlflow")
    try:
        wait_until_healthy(mlflow)
        bindings = scratch / "hub-bindings.json"
        bindings.write_text(
            json.dumps(
                {
                    "groups": {
                        "team-a": {"tracking_uri": mlflow.url},
                        "team-b": {"tracking_uri": mlflow.url},
                    }
                }
            )
        )
        users = [f"user{index:02d}" for index in range(user_count)]
        results = {}
        for extension in (False, True):
            label = "with the extension" if extension else "without (baseline)"
            results[label] = hub_round(scratch, bindings, users, extension)
            print(f"hub, {label}: {results[label]}", file=sys.stderr)
        return results
    finally:
        mlflow.stop()


# -- production -----------------------------------------------------------------------------


def register_models(server, count: int) -> None:
    """`count` registered models with one version each, sourced from a run of the server's
    default artifact root (S3 or proxied): the same data on every server compared."""
    run = server.request("POST", "/api/2.0/mlflow/runs/create", {"experiment_id": "0"})["run"]
    source = f"{run['info']['artifact_uri']}/model"

    def one(index: int) -> None:
        name = f"model-{index:05d}"
        server.request("POST", "/api/2.0/mlflow/registered-models/create", {"name": name})
        server.request(
            "POST",
            "/api/2.0/mlflow/model-versions/create",
            {"name": name, "source": source, "run_id": run["info"]["run_id"]},
        )

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one, range(count)))


def paired_latency(
    session: requests.Session, urls: dict[str, tuple[str, dict]], runs: int = 30
) -> dict[str, float]:
    """Median latency of each URL, the URLs taking turns (after 5 warm-up rounds), so that a
    server warming up or a busy moment weighs on every side alike."""
    samples: dict[str, list[float]] = {label: [] for label in urls}
    for run in range(runs + 5):
        for label, (url, headers) in urls.items():
            begun = time.perf_counter()
            session.get(url, headers=headers, timeout=60).raise_for_status()
            if run >= 5:
                samples[label].append(time.perf_counter() - begun)
    return {label: median_ms(values) for label, values in samples.items()}


def production_part(scratch: Path, models: int, model_mib: int) -> dict:
    moto = MotoS3(scratch / "moto")
    artifact_env = {
        "AWS_ACCESS_KEY_ID": "bench-key",
        "AWS_SECRET_ACCESS_KEY": "bench-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "MLFLOW_S3_ENDPOINT_URL": moto.url,
    }
    moto.client("bench-key", "bench-secret").create_bucket(Bucket="bench")
    postgres = Postgres()
    servers = {
        "PostgreSQL + S3": start_mlflow(
            scratch / "pg-mlflow",
            store=ProductionStore(postgres.uri, "s3://bench/mlflow", artifact_env),
        ),
        "sqlite + local": start_mlflow(scratch / "sqlite-mlflow"),
    }
    bindings = scratch / "bindings.json"
    groups = {
        "pg": {"tracking_uri": servers["PostgreSQL + S3"].url, "artifact_env": artifact_env},
        "sqlite": {"tracking_uri": servers["sqlite + local"].url},
    }
    bindings.write_text(json.dumps({"groups": groups}))
    jupyter = JupyterServerProcess(
        scratch / "home", env={"JUPYTER_MLFLOW_GROUPS_FILE": str(bindings)}
    )
    results: dict = {}
    try:
        for server in servers.values():
            wait_until_healthy(server)
        jupyter.start()
        with requests.Session() as session:
            for group, label in (("pg", "PostgreSQL + S3"), ("sqlite", "sqlite + local")):
                server = servers[label]
                seeding = time.perf_counter()
                register_models(server, models)
                seeding = time.perf_counter() - seeding
                if group == "pg":
                    postgres.query("analyze")  # as autovacuum would, a minute after the inserts
                medians = paired_latency(
                    session,
                    {
                        "ours": (
                            f"{jupyter.url}/mlflow-groups/api/groups/{group}/models"
                            "?max_results=100&refresh=1",
                            {"Authorization": f"token {jupyter.token}"},
                        ),
                        "raw": (
                            f"{server.url}/api/2.0/mlflow/registered-models/search?max_results=100",
                            {},
                        ),
                    },
                )
                ours, raw = medians["ours"], medians["raw"]
                results[f"page of 100 models, {label}"] = {
                    "models": models,
                    "registering them s": round(seeding, 1),
                    "ours p50 ms": ours,
                    "MLflow REST p50 ms": raw,
                    "ratio": round(ours / raw, 2),
                }
                print(f"{label}: {results[f'page of 100 models, {label}']}", file=sys.stderr)
        results["copy out of S3"] = s3_copy(
            servers["PostgreSQL + S3"], artifact_env, scratch, model_mib
        )
        print(f"S3 copy: {results['copy out of S3']}", file=sys.stderr)
        results["one model server RSS MiB"] = model_server_memory(jupyter, servers, scratch)
        return results
    finally:
        jupyter.stop()
        for server in servers.values():
            server.stop()
        postgres.stop()
        moto.stop()


def s3_copy(server, artifact_env: dict, scratch: Path, model_mib: int) -> dict:
    """Our deployment worker vs `mlflow artifacts download`, same model, same environment."""
    model = scratch / "big-model"
    model.mkdir()
    (model / "MLmodel").write_text("flavors: {}\n")
    with (model / "weights.bin").open("wb") as weights:
        for _ in range(model_mib):
            weights.write(os.urandom(MIB))
    env = {**os.environ, **artifact_env, "MLFLOW_TRACKING_URI": server.url}
    uploaded = time.perf_counter()
    run = server.request("POST", "/api/2.0/mlflow/runs/create", {"experiment_id": "0"})["run"]
    artifact_uri = run["info"]["artifact_uri"]
    timed(
        [
            sys.executable,
            "-m",
            "mlflow",
            "artifacts",
            "log-artifacts",
            "-l",
            str(model),
            "-r",
            run["info"]["run_id"],
            "-a",
            "model",
        ],
        env,
    )
    uploaded = time.perf_counter() - uploaded
    server.request("POST", "/api/2.0/mlflow/registered-models/create", {"name": "big"})
    server.request(
        "POST",
        "/api/2.0/mlflow/model-versions/create",
        {"name": "big", "source": f"{artifact_uri}/model", "run_id": run["info"]["run_id"]},
    )
    samples: dict[str, list[float]] = {"ours": [], "mlflow artifacts download": []}
    for attempt in range(3):
        target = scratch / f"copy-{attempt}"
        spec = json.dumps({"model": "big", "requested": "1", "staging": str(target / "ours")})
        samples["ours"].append(
            timed([sys.executable, "-m", "jupyter_mlflow_groups.deploy.worker"], env, spec)
        )
        samples["mlflow artifacts download"].append(
            timed(
                [
                    sys.executable,
                    "-m",
                    "mlflow",
                    "artifacts",
                    "download",
                    "-u",
                    "models:/big/1",
                    "-d",
                    str(target / "mlflow"),
                ],
                env,
            )
        )
        shutil.rmtree(target)
    medians = {method: round(statistics.median(values), 2) for method, values in samples.items()}
    return {
        "MiB": model_mib,
        "upload s": round(uploaded, 2),
        **{f"{method} s": value for method, value in medians.items()},
        "ratio": round(medians["ours"] / medians["mlflow artifacts download"], 2),
    }


def model_server_memory(jupyter: JupyterServerProcess, servers: dict, scratch: Path) -> float:
    """Deploy a real scikit-learn model and measure its `mlflow models serve` process tree."""
    import mlflow.sklearn
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    directory = scratch / "iris"
    mlflow.sklearn.save_model(LogisticRegression(max_iter=500).fit(features, labels), directory)
    version, _ = register_version(servers["sqlite + local"], "iris", directory)
    deployments = "/mlflow-groups/api/groups/sqlite/deployments"
    job = jupyter.request(
        "POST", deployments, {"name": "iris", "model": "iris", "version": version}
    )
    for _ in range(1200):
        record = jupyter.request("GET", f"{deployments}/iris")
        if record["status"] in ("serving", "failed"):
            break
        time.sleep(0.1)
    assert record["status"] == "serving", (record, job)
    pid_file = Path(record["path"]).parent.parent / "serve.pid"
    memory = tree_rss_mib(json.loads(pid_file.read_text())["pid"])
    jupyter.request("DELETE", f"{deployments}/iris")
    return memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--model-mib", type=int, default=200)
    parser.add_argument("--only", choices=("hub", "production"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="scaling-") as scratch:
        if args.only in (None, "hub"):
            results["hub"] = hub_part(Path(scratch), args.users)
        if args.only in (None, "production"):
            results["production"] = production_part(Path(scratch), args.models, args.model_mib)
    print(json.dumps(results, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
