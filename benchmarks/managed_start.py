"""From `jupyter lab` to a working managed group, against starting MLflow by hand.

With no configuration, `jupyter lab` (configured only by what `pip install` ships) gets the
group `default`, whose MLflow server the extension starts. Measured from the moment the
`jupyter lab` process is spawned:

- **lab**: `/api/status` answers (JupyterLab is usable; the extension must not hold it up);
- **mlflow**: the group's status endpoint says the managed MLflow answers;
- **kernel**: a kernel, requested as soon as JupyterLab answers, has run code that sees the
  group's `MLFLOW_TRACKING_URI` (the first kernel with the group's environment);
- **kernel+mlflow**: that kernel's `MlflowClient().search_registered_models()` succeeded: MLflow
  usable from the notebook.

Each round is either **cold** (a fresh Jupyter data directory: the sqlite database is created and
migrated) or **warm** (the same directory again: a restart of JupyterLab). The peer, in the same
run, is what a user does otherwise: `mlflow server` with the same sqlite backend and artifact
directory, started by hand, timed to its first `/health` answer (cold: new database; warm: the
existing one).

    python benchmarks/managed_start.py [--rounds 5] [--json results.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.jupyter import JupyterServerProcess
from support.processes import free_port

LAB = [sys.executable, "-m", "jupyter", "lab"]
STATUS = "/mlflow-groups/api/groups/default/status"
SEES_GROUP = "import os; print(os.environ.get('MLFLOW_TRACKING_URI', ''))"
USES_MLFLOW = "import mlflow; print(len(mlflow.MlflowClient().search_registered_models()))"


async def lab_round(home: Path) -> dict[str, float]:
    """Seconds from spawning `jupyter lab` to each milestone."""
    server = JupyterServerProcess(home, env={"JUPYTER_MLFLOW_GROUPS_FILE": ""}, launcher=LAB)
    spawned = time.perf_counter()
    server.start(timeout=120)
    timings = {"lab": time.perf_counter() - spawned}
    try:
        kernel = server.start_kernel()
        mlflow_ready = asyncio.create_task(until_mlflow_answers(server, spawned))
        await server.wait_ready(kernel)
        uri = (await server.execute(kernel, SEES_GROUP)).strip()
        if not uri.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the first kernel did not get the group's tracking URI: {uri!r}")
        timings["kernel"] = time.perf_counter() - spawned
        timings["mlflow"] = await mlflow_ready
        await server.execute(kernel, USES_MLFLOW, timeout=120)
        timings["kernel+mlflow"] = time.perf_counter() - spawned
    finally:
        server.stop()
    return timings


async def until_mlflow_answers(server: JupyterServerProcess, spawned: float) -> float:
    while True:
        status = await asyncio.to_thread(server.request, "GET", STATUS)
        if status["ok"]:
            return time.perf_counter() - spawned
        await asyncio.sleep(0.05)


def by_hand_round(root: Path) -> float:
    """Seconds from spawning `mlflow server` (as the managed one is run) to its first /health."""
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
        "--artifacts-destination", str(root / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    spawned = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError("mlflow server exited")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                return time.perf_counter() - spawned
            except OSError:
                time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=30)


async def measure(rounds: int) -> dict[str, dict[str, list[float]]]:
    results: dict[str, dict[str, list[float]]] = {"cold": {}, "warm": {}}
    with tempfile.TemporaryDirectory() as scratch:
        for index in range(rounds):
            home, by_hand = Path(scratch) / "lab", Path(scratch) / "by-hand"
            for directory in (home, by_hand):
                shutil.rmtree(directory, ignore_errors=True)
            for kind in ("cold", "warm"):  # the warm round reuses the cold round's directories
                timings = await lab_round(home)
                timings["mlflow by hand"] = by_hand_round(by_hand)
                for key, value in timings.items():
                    results[kind].setdefault(key, []).append(value)
            print(f"round {index + 1}/{rounds} done", file=sys.stderr)
    return results


def report(results: dict[str, dict[str, list[float]]]) -> str:
    lines = [
        "| start | JupyterLab answers | managed MLflow answers | first kernel with the "
        "group's env | MLflow used from that kernel | `mlflow server` by hand answers "
        "| managed / by hand |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind, timings in results.items():
        median = {key: statistics.median(values) for key, values in timings.items()}
        ratio = median["mlflow"] / median["mlflow by hand"]
        lines.append(
            f"| {kind} | {median['lab']:.2f} s | {median['mlflow']:.2f} s | "
            f"{median['kernel']:.2f} s | {median['kernel+mlflow']:.2f} s | "
            f"{median['mlflow by hand']:.2f} s | {ratio:.2f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = asyncio.run(measure(args.rounds))
    print(f"medians of {args.rounds} rounds, seconds from spawning the process\n")
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
