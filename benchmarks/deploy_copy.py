"""The deployment copy vs `mlflow artifacts download` vs `cp -r`, in one run.

Two trees, each a model directory (an MLmodel file plus the payload):
  (a) one 1 GiB file            (b) 2,000 files of 50 KiB
each registered twice in a real MLflow server (uvicorn's default 4 workers, proxied artifacts):
  local store   a version whose artifacts are a `file://` directory the server can read
  proxied       a version under `mlflow-artifacts:/`, served by the tracking server over HTTP

and copied three ways, interleaved, each timed from process start to exit:
  ours          the copy job's worker process (python -m jupyter_mlflow_groups.deploy.worker):
                resolve the version, plan, copy concurrently, verify
  mlflow        `mlflow artifacts download -u <artifact uri> -d <dir>`, what a user would run
  cp -r         of the same files on local disk (for proxied: the server's artifact directory)

    python benchmarks/deploy_copy.py [--runs 3] [--big-mib 1024] [--json out.json]

Every copy reads from the page cache (the source is read once before timing), so the figures
compare the copying, not the disk.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.deploying import local_experiment, register_version
from support.servers import MlflowServer, start_mlflow, wait_until_healthy

MLMODEL = "artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.pyfunc\n"
KIB, MIB = 1024, 1024 * 1024


def make_tree(root: Path, big_mib: int) -> dict[str, Path]:
    """The two model directories: one big file, many small ones."""
    big, small = root / "big", root / "small"
    for tree in (big, small):
        tree.mkdir(parents=True)
        (tree / "MLmodel").write_text(MLMODEL)
    block = os.urandom(min(64, big_mib) * MIB)
    with (big / "weights.bin").open("wb") as sink:
        for _ in range(max(1, big_mib // 64)):
            sink.write(block)
    for index in range(2000):
        (small / f"part-{index:04d}.bin").write_bytes(os.urandom(50 * KIB))
    return {f"one {big_mib} MiB file": big, "2,000 x 50 KiB": small}


def read_through(tree: Path) -> None:
    """Bring a tree into the page cache, so no method pays for the disk first."""
    for path in tree.rglob("*"):
        if path.is_file():
            with path.open("rb") as source:
                while source.read(16 * MIB):
                    pass


def timed(command: list[str], env: dict[str, str], stdin: str | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, input=stdin, text=True, check=True, capture_output=True)
    return time.perf_counter() - started


def measure(server: MlflowServer, trees: dict[str, Path], scratch: Path, runs: int) -> dict:
    env = {**os.environ, "MLFLOW_TRACKING_URI": server.url}
    local_store = local_experiment(server, scratch / "file-store")
    results: dict[str, dict[str, float]] = {}
    for label, tree in trees.items():
        for store, experiment in (("local store", local_store), ("proxied server", "0")):
            model = f"bench-{tree.name}-{store.split()[0]}"
            version, source = register_version(server, model, tree, experiment=experiment)
            uri = server.request(
                "GET",
                f"/api/2.0/mlflow/model-versions/get-download-uri?name={model}&version={version}",
            )["artifact_uri"]
            read_through(source)
            samples: dict[str, list[float]] = {
                "ours": [],
                "mlflow artifacts download": [],
                "cp -r": [],
            }
            for run in range(runs):
                target = scratch / f"copy-{run}"
                staging = str(target / "ours")
                spec = json.dumps({"model": model, "requested": version, "staging": staging})
                commands = {
                    "ours": ([sys.executable, "-m", "jupyter_mlflow_groups.deploy.worker"], spec),
                    "mlflow artifacts download": (
                        [
                            sys.executable,
                            "-m",
                            "mlflow",
                            "artifacts",
                            "download",
                            "-u",
                            uri,
                            "-d",
                            str(target / "mlflow"),
                        ],
                        None,
                    ),
                    "cp -r": (["cp", "-r", str(source), str(target / "cp")], None),
                }
                for method, (command, stdin) in commands.items():
                    samples[method].append(timed(command, env, stdin))
                shutil.rmtree(target)
            medians = {method: statistics.median(values) for method, values in samples.items()}
            results[f"{label}, {store}"] = medians
            shown = ", ".join(f"{method} {value:.2f} s" for method, value in medians.items())
            print(f"{label}, {store}: {shown}", file=sys.stderr)
    return results


def report(results: dict, runs: int) -> str:
    lines = [
        f"| tree, store ({runs} runs, medians) | ours | `mlflow artifacts download` | `cp -r` "
        "| speed vs mlflow | speed vs cp -r |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for case, timing in results.items():
        ours, mlflow, cp = timing["ours"], timing["mlflow artifacts download"], timing["cp -r"]
        lines.append(
            f"| {case} | {ours:.2f} s | {mlflow:.2f} s | {cp:.2f} s "
            f"| {mlflow / ours:.1f}x | {cp / ours:.2f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        scratch = Path(directory)
        trees = make_tree(scratch / "trees", args.big_mib)
        server = start_mlflow(scratch / "mlflow", workers=4)
        try:
            wait_until_healthy(server)
            results = measure(server, trees, scratch, args.runs)
        finally:
            server.stop()
    print(report(results, args.runs))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
