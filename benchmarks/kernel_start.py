"""Kernel start-to-ready with and without the MLflow groups provisioner, in one server.

One real `jupyter server` (configured only by what `pip install` ships) serves two kernelspecs
running the same ipykernel: `python3` (our provisioner, the default) and `python3-plain`
(pinned to jupyter_client's `local-provisioner`). Starts alternate between the two so drift
hits both alike. Time is measured from `POST /api/kernels` to the kernel's first
`kernel_info_reply` over its websocket: what a user waits for.

    python benchmarks/kernel_start.py [--runs 30] [--json results.json]
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from jupyter_process import JupyterServerProcess


def write_plain_kernelspec(data_dir: Path) -> None:
    spec = data_dir / "kernels" / "python3-plain"
    spec.mkdir(parents=True)
    spec.joinpath("kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (plain provisioner)",
                "language": "python",
                "metadata": {"kernel_provisioner": {"provisioner_name": "local-provisioner"}},
            }
        )
    )


def write_bindings(path: Path, secret: Path) -> None:
    secret.write_text("benchmark-secret\n")
    path.write_text(
        json.dumps(
            {
                "groups": {
                    "bench": {
                        "tracking_uri": "http://127.0.0.1:5000",
                        "tracking_env": {
                            "MLFLOW_TRACKING_USERNAME": "bench",
                            "MLFLOW_TRACKING_PASSWORD": f"${{file:{secret}}}",
                        },
                        "artifact_env": {
                            "AWS_ACCESS_KEY_ID": "id",
                            "AWS_SECRET_ACCESS_KEY": f"${{file:{secret}}}",
                            "MLFLOW_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
                        },
                    }
                }
            }
        )
    )


async def time_start(server: JupyterServerProcess, spec: str) -> float:
    started = time.perf_counter()
    kernel = server.start_kernel(spec)
    await server.wait_ready(kernel)
    elapsed = time.perf_counter() - started
    server.request("DELETE", f"/api/kernels/{kernel}")
    return elapsed


async def measure(runs: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        write_plain_kernelspec(home / "data")
        write_bindings(home / "bindings.json", home / "secret")
        server = JupyterServerProcess(
            home, env={"JUPYTER_MLFLOW_GROUPS_FILE": str(home / "bindings.json")}
        )
        server.start()
        try:
            timings: dict[str, list[float]] = {"python3": [], "python3-plain": []}
            for spec in timings:  # warm-up: imports and disk caches
                await time_start(server, spec)
            for index in range(runs):
                order = list(timings) if index % 2 == 0 else list(reversed(timings))
                for spec in order:
                    timings[spec].append(await time_start(server, spec))
            return timings
        finally:
            server.stop()


def injection_cost(bindings: Path, calls: int = 2000) -> float:
    """Seconds per call of the provisioner's own work (strip + resolve + set), in process."""
    import logging
    import os

    from jupyter_mlflow_groups.binding_store import BindingStore
    from jupyter_mlflow_groups.groups import ActiveGroupFile, ConfigMemberships, GroupResolver
    from jupyter_mlflow_groups.service import MlflowGroupsService

    log = logging.getLogger("benchmark")
    log.setLevel(logging.WARNING)
    store = BindingStore({}, None, str(bindings), log)
    resolver = GroupResolver(
        store, ConfigMemberships(), ActiveGroupFile(bindings.parent / "state.json", log)
    )
    service = MlflowGroupsService(
        store, resolver, "bench", status_timeout=5.0, request_timeout=5.0, cache_ttl=0, log=log
    )
    started = time.perf_counter()
    for _ in range(calls):
        service.apply_to_kernel_env(dict(os.environ))
    return (time.perf_counter() - started) / calls


def quartiles(samples: list[float]) -> str:
    low, _, high = statistics.quantiles(samples, n=4)
    return f"{low * 1000:.0f}-{high * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    timings = asyncio.run(measure(args.runs))
    ours = statistics.median(timings["python3"])
    plain = statistics.median(timings["python3-plain"])
    # Each run starts one kernel of each kind back to back: their ratio cancels slow drift.
    pairs = zip(timings["python3"], timings["python3-plain"], strict=True)
    paired = statistics.median(ours_s / plain_s for ours_s, plain_s in pairs)
    with tempfile.TemporaryDirectory() as scratch:
        bindings = Path(scratch) / "bindings.json"
        write_bindings(bindings, Path(scratch) / "secret")
        per_call = injection_cost(bindings)
    result = {
        "runs": args.runs,
        "median_s": {"with_provisioner": ours, "plain_provisioner": plain},
        "ratio": ours / plain,
        "median_paired_ratio": paired,
        "injection_s_per_call": per_call,
        "samples_s": timings,
    }
    print(f"| kernel start-to-ready ({args.runs} runs each) | median | interquartile range |")
    print("| --- | --- | --- |")
    for label, spec, median in (
        ("plain `local-provisioner`", "python3-plain", plain),
        ("with the MLflow groups provisioner", "python3", ours),
    ):
        print(f"| {label} | {median * 1000:.0f} ms | {quartiles(timings[spec])} |")
    print(f"| ratio of medians | {ours / plain:.3f} | |")
    print(f"| median of paired ratios | {paired:.3f} | |")
    print(
        f"\nThe provisioner's own work (strip, resolve 2 file references, set): "
        f"{per_call * 1e6:.0f} µs per kernel start."
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
