"""Kernel start-to-ready with and without the MLflow groups provisioner, in one server.

One real `jupyter server` (configured only by what `pip install` ships) serves two kernelspecs
running the same ipykernel: `python3` (our provisioner, the default: it injects the group's
environment and starts ipykernel with `--ext=jupyter_mlflow_groups`, so the `%mlflow_group`
magics are loaded) and `python3-plain` (pinned to jupyter_client's `local-provisioner`:
neither). Starts alternate between the two so drift hits both alike. Time is measured from
`POST /api/kernels` to the kernel's first `kernel_info_reply` over its websocket: what a user
waits for.

What the magics alone add is measured twice more: each plain kernel, once ready, times loading
the extension (and checks that it imported neither MLflow nor requests nor pandas); and
kernels started directly with jupyter_client, alternately with and without `--ext`, give the
difference in wall time and in the kernel's CPU time until ready (Linux /proc), which other
load on the machine inflates much less.

Python bytecode is cached (in a temporary PYTHONPYCACHEPREFIX) as it is for any installed
package, even where PYTHONDONTWRITEBYTECODE is set for the source tree.

    python benchmarks/kernel_start.py [--runs 30] [--json results.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.jupyter import JupyterServerProcess

EXTENSION = "--ext=jupyter_mlflow_groups"
HEAVY = ("mlflow", "requests", "pandas")
LOADED_CODE = "print('jupyter_mlflow_groups' in get_ipython().extension_manager.loaded)"
LOAD_CODE = f"""
import json, sys, time
started = time.perf_counter()
get_ipython().extension_manager.load_extension("jupyter_mlflow_groups")
elapsed = time.perf_counter() - started
print(elapsed, json.dumps([name for name in {HEAVY!r} if name in sys.modules]))
"""


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


def bytecode_cache(scratch: Path) -> dict[str, str]:
    """Environment that caches bytecode outside the source tree, as an installed package has."""
    return {"PYTHONPYCACHEPREFIX": str(scratch / "pycache"), "PYTHONDONTWRITEBYTECODE": ""}


async def time_start(
    server: JupyterServerProcess, spec: str, then: str | None = None
) -> tuple[float, str]:
    """Seconds from POST to ready; and what `then` printed in the kernel, once ready."""
    started = time.perf_counter()
    kernel = server.start_kernel(spec)
    await server.wait_ready(kernel)
    elapsed = time.perf_counter() - started
    output = await server.execute(kernel, then) if then else ""
    server.request("DELETE", f"/api/kernels/{kernel}")
    return elapsed, output


async def measure(runs: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        write_plain_kernelspec(home / "data")
        write_bindings(home / "bindings.json", home / "secret")
        server = JupyterServerProcess(
            home,
            env={"JUPYTER_MLFLOW_GROUPS_FILE": str(home / "bindings.json"), **bytecode_cache(home)},
        )
        server.start()
        try:
            timings: dict[str, list[float]] = {"python3": [], "python3-plain": [], "load": []}
            # Warm-up (imports, disk caches, bytecode), and which kernels load the magics.
            loaded = [
                (await time_start(server, spec, LOADED_CODE))[1].strip()
                for spec in ("python3", "python3-plain")
            ]
            if loaded != ["True", "False"]:
                raise RuntimeError(f"magics loaded at start (ours, plain): {loaded}")
            heavy: set[str] = set()
            for index in range(runs):
                order = ["python3", "python3-plain"]
                for spec in order if index % 2 == 0 else reversed(order):
                    then = LOAD_CODE if spec == "python3-plain" else None
                    elapsed, output = await time_start(server, spec, then)
                    timings[spec].append(elapsed)
                    if then:
                        seconds, imported = output.strip().split(" ", 1)
                        timings["load"].append(float(seconds))
                        heavy |= set(json.loads(imported))
            if heavy:
                raise RuntimeError(f"loading the extension imported {sorted(heavy)}")
            return timings
        finally:
            server.stop()


def extension_start_cost(runs: int) -> dict[str, dict[str, list[float]]]:
    """Kernels started directly (jupyter_client, no server, no provisioner of ours), in turn
    without and with `--ext`: wall seconds to ready and the kernel's CPU seconds by then."""
    from jupyter_client.manager import KernelManager

    samples: dict[str, dict[str, list[float]]] = {
        variant: {"wall": [], "cpu": []} for variant in ("plain", "ext")
    }
    with tempfile.TemporaryDirectory() as scratch:
        saved = dict(os.environ)
        os.environ.update(bytecode_cache(Path(scratch)))
        try:
            for index in range(runs + 1):  # the first round warms up
                order = ["plain", "ext"] if index % 2 == 0 else ["ext", "plain"]
                for variant in order:
                    manager = KernelManager(kernel_name="python3")
                    started = time.perf_counter()
                    manager.start_kernel(
                        extra_arguments=[EXTENSION] if variant == "ext" else [],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    client = manager.client()
                    client.start_channels()
                    client.wait_for_ready(timeout=60)
                    wall = time.perf_counter() - started
                    cpu = process_cpu_seconds(manager.provisioner.pid)
                    client.stop_channels()
                    manager.shutdown_kernel(now=True)
                    if index:
                        samples[variant]["wall"].append(wall)
                        samples[variant]["cpu"].append(cpu)
        finally:
            os.environ.clear()
            os.environ.update(saved)
    return samples


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux; clock ticks, 10 ms each)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def injection_cost(bindings: Path, calls: int = 2000) -> float:
    """Seconds per call of the provisioner's own work (the `--ext` decision; strip, resolve
    and set the binding), in process."""
    import logging

    from jupyter_client.kernelspec import KernelSpec

    from jupyter_mlflow_groups.binding_store import BindingStore
    from jupyter_mlflow_groups.groups import ActiveGroupFile, ConfigMemberships, GroupResolver
    from jupyter_mlflow_groups.provisioner import runs_ipykernel, with_extension
    from jupyter_mlflow_groups.service import MlflowGroupsService
    from jupyter_mlflow_groups.settings import Settings

    log = logging.getLogger("benchmark")
    log.setLevel(logging.WARNING)
    store = BindingStore({}, None, str(bindings), log)
    resolver = GroupResolver(
        store, ConfigMemberships(), ActiveGroupFile(bindings.parent / "state.json", log)
    )
    settings = Settings(user="bench", groups_root=bindings.parent / "groups", cache_ttl=0)
    service = MlflowGroupsService(store, resolver, settings, log)
    spec = KernelSpec(
        argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        language="python",
    )
    started = time.perf_counter()
    for _ in range(calls):
        if runs_ipykernel(spec):
            with_extension([])
        service.apply_to_kernel_env(dict(os.environ), "benchmark-kernel")
    return (time.perf_counter() - started) / calls


def quartiles(samples: list[float], digits: int = 0) -> str:
    low, _, high = statistics.quantiles(samples, n=4)
    return f"{low * 1000:.{digits}f}-{high * 1000:.{digits}f} ms"


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
    load = statistics.median(timings["load"])
    direct = extension_start_cost(args.runs)
    wall = {variant: statistics.median(direct[variant]["wall"]) for variant in direct}
    # CPU time comes in 10 ms clock ticks: the mean over many starts resolves finer.
    cpu = {variant: statistics.fmean(direct[variant]["cpu"]) for variant in direct}
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
        "extension_load_median_s": load,
        "direct_start_median_s": wall,
        "direct_start_cpu_mean_s": cpu,
        "samples_s": {**timings, "direct": direct},
    }
    print(f"| kernel start-to-ready ({args.runs} runs each) | median | interquartile range |")
    print("| --- | --- | --- |")
    for label, spec, median in (
        ("plain `local-provisioner`", "python3-plain", plain),
        ("with the provisioner and the magics (`--ext`)", "python3", ours),
    ):
        print(f"| {label} | {median * 1000:.0f} ms | {quartiles(timings[spec])} |")
    print(f"| ratio of medians | {ours / plain:.3f} | |")
    print(f"| median of paired ratios | {paired:.3f} | |")
    print(
        f"\nThe provisioner's own work (strip, resolve 2 file references, set, add --ext): "
        f"{per_call * 1e6:.0f} µs per kernel start."
    )
    print(
        f"Loading the extension in a ready kernel: median {load * 1000:.1f} ms "
        f"(IQR {quartiles(timings['load'], 1)}); it imported none of {', '.join(HEAVY)}."
    )
    print(
        f"Kernels started directly, without / with --ext ({args.runs} each): median "
        f"{wall['plain'] * 1000:.0f} / {wall['ext'] * 1000:.0f} ms to ready "
        f"(ratio {wall['ext'] / wall['plain']:.3f}); mean CPU {cpu['plain'] * 1000:.0f} / "
        f"{cpu['ext'] * 1000:.0f} ms ({(cpu['ext'] - cpu['plain']) * 1000:+.0f} ms)."
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
