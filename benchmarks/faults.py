"""Is Jupyter still responsive while a group's MLflow hangs? Latency of Jupyter's own
`GET /api/status` and of our `GET /mlflow-groups/api/groups`, with and without hung requests.

A real `jupyter server` process with one group bound to a port that accepts connections and
never answers (tests/support/servers.py SilentServer). In one run:

  quiet   the two endpoints measured, one request after another, nothing else going on
  hung    the same, while `--concurrent` browse requests (`GET .../groups/hung/models`, each
          with its own page size so none shares another's MLflow call) wait on the silent
          MLflow until the request timeout

and then how the hung requests ended (status, seconds): bounded by the timeout, not a hang.

    python benchmarks/faults.py [--concurrent 20] [--requests 200] [--timeout 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.error
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.jupyter import JupyterServerProcess
from support.servers import SilentServer

ENDPOINTS = {"Jupyter /api/status": "/api/status", "our /groups": "/mlflow-groups/api/groups"}


def latencies(server: JupyterServerProcess, path: str, count: int) -> list[float]:
    """Milliseconds of `count` requests, one after another."""
    taken = []
    for _ in range(count):
        started = time.perf_counter()
        server.request("GET", path)
        taken.append((time.perf_counter() - started) * 1000)
    return taken


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
        "max": round(ordered[-1], 2),
    }


def hung_request(server: JupyterServerProcess, page_size: int) -> tuple[int, float]:
    """A browse request against the silent MLflow: (HTTP status, seconds until it ended)."""
    started = time.perf_counter()
    try:
        server.request("GET", f"/mlflow-groups/api/groups/hung/models?max_results={page_size}")
        status = 200
    except urllib.error.HTTPError as error:
        status = error.code
    return status, round(time.perf_counter() - started, 2)


def measure(concurrent: int, requests: int, timeout: float) -> dict:
    silent = SilentServer()
    with tempfile.TemporaryDirectory() as scratch:
        bindings = Path(scratch) / "bindings.json"
        bindings.write_text(json.dumps({"groups": {"hung": {"tracking_uri": silent.url}}}))
        server = JupyterServerProcess(
            Path(scratch) / "home",
            env={"JUPYTER_MLFLOW_GROUPS_FILE": str(bindings)},
            args=[f"--MlflowGroupsApp.request_timeout={timeout}"],
        ).start()
        try:
            for path in ENDPOINTS.values():
                latencies(server, path, 20)  # warm up
            quiet = {name: latencies(server, path, requests) for name, path in ENDPOINTS.items()}
            with ThreadPoolExecutor(concurrent) as pool:
                hung: list[Future[tuple[int, float]]] = [
                    pool.submit(hung_request, server, size + 1) for size in range(concurrent)
                ]
                time.sleep(0.5)  # every hung request has reached the silent MLflow
                loaded = {
                    name: latencies(server, path, requests) for name, path in ENDPOINTS.items()
                }
                still_hanging = sum(not future.done() for future in hung)
                ended = [future.result() for future in hung]
        finally:
            server.stop()
            silent.close()
    return {
        "concurrent_hung_requests": concurrent,
        "requests_per_endpoint": requests,
        "request_timeout_s": timeout,
        "still_hanging_after_measuring": still_hanging,
        "endpoints": {
            name: {
                "quiet_ms": summary(quiet[name]),
                "hung_ms": summary(loaded[name]),
                "ratio_p50": round(
                    statistics.median(loaded[name]) / statistics.median(quiet[name]), 2
                ),
                "ratio_p95": round(summary(loaded[name])["p95"] / summary(quiet[name])["p95"], 2),
            }
            for name in ENDPOINTS
        },
        "hung_requests_ended": {
            "statuses": sorted({status for status, _ in ended}),
            "seconds_min": min(seconds for _, seconds in ended),
            "seconds_max": max(seconds for _, seconds in ended),
        },
    }


def print_table(result: dict) -> None:
    print(
        f"{result['concurrent_hung_requests']} browse requests hung on a silent MLflow; "
        f"{result['requests_per_endpoint']} requests per endpoint (ms)"
    )
    print(f"{'endpoint':<22}{'':>8}{'p50':>9}{'p95':>9}{'max':>9}")
    for name, figures in result["endpoints"].items():
        for label in ("quiet", "hung"):
            row = figures[f"{label}_ms"]
            print(f"{name:<22}{label:>8}{row['p50']:>9}{row['p95']:>9}{row['max']:>9}")
        print(f"{'':<22}{'ratio':>8}{figures['ratio_p50']:>9}{figures['ratio_p95']:>9}")
    ended = result["hung_requests_ended"]
    print(
        f"still hanging when measuring ended: {result['still_hanging_after_measuring']}; "
        f"they ended with {ended['statuses']} after {ended['seconds_min']}-"
        f"{ended['seconds_max']} s (timeout {result['request_timeout_s']} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args()
    result = measure(arguments.concurrent, arguments.requests, arguments.timeout)
    print_table(result)
    if arguments.json:
        arguments.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
