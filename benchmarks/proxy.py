"""A group's MLflow reached through the Jupyter server (the proxy) vs reached directly.

One run starts a real `mlflow server` (the light form: one worker, no job runner) bound to the
group `team` with `ui: proxy`, and a real `jupyter server` that also runs the managed group
`local` (whose MLflow listens only on a unix socket). Each figure is measured both ways in the
same run, the two sides interleaved (A B, then B A):

  REST calls    `experiments/search?max_results=1` and `registered-models/get`, one at a time,
                over one kept-alive connection and over a new connection per call: direct (TCP,
                or the managed server's unix socket) vs through the proxy with Jupyter's token
  downloads     a `--big-mib` artifact (GET .../mlflow-artifacts/artifacts/<path>) by curl to
                /dev/null: throughput, the CPU seconds the Jupyter server and MLflow spent per
                GiB, and the Jupyter server's peak memory (VmHWM) before and after
  responsiveness  Jupyter's own `GET /api/status`, one probe every `--pause` seconds: with
                nothing running, while `--concurrent` downloads of a `--each-mib` artifact run
                straight from MLflow (the same load on the machine, the proxy idle), and while
                as many run through the proxy (each restarted as it ends: a steady load)

Every client is either http.client (which requests and MLflow's own client use underneath;
TCP_NODELAY on) or curl, the same on both sides, so the differences are the servers'.

    python benchmarks/proxy.py [--calls 300] [--rounds 4] [--big-mib 1024] [--concurrent 20]
                               [--each-mib 256] [--probes 300] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.jupyter import JupyterServerProcess
from support.servers import MlflowServer, start_mlflow, wait_until_healthy

MIB = 1024 * 1024
API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
MODEL = "bench-model"
CALLS = {
    "experiments/search": f"{API}/experiments/search?max_results=1",
    "registered-models/get": f"{API}/registered-models/get?name={MODEL}",
}
BIG, PART = f"{ARTIFACTS}/bench/big.bin", f"{ARTIFACTS}/bench/part.bin"
EXTERNAL, MANAGED = "team", "local"
CLOCK_TICK = os.sysconf("SC_CLK_TCK")
WARM_UP_CALLS = 10
CURL_SAYS = "%{http_code} %{size_download} %{time_total}"


# -- where each side sends its requests ------------------------------------------------------


class UnixConnection(http.client.HTTPConnection):
    """http.client over a unix socket: how a process of this account reaches a managed MLflow
    without the proxy (the proxy itself connects so, with tornado)."""

    def __init__(self, path: str, host: str, timeout: float) -> None:
        super().__init__(host, timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


@dataclass(frozen=True)
class Endpoint:
    """One side of a comparison: an address (host:port, or the Host header sent over a unix
    socket), the path prefix, and the headers it needs (Jupyter's token for the proxy)."""

    host: str
    prefix: str = ""
    socket: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def connection(self) -> http.client.HTTPConnection:
        if self.socket:
            return UnixConnection(self.socket, self.host, timeout=120)
        return http.client.HTTPConnection(self.host, timeout=120)

    def curl(self, path: str) -> list[str]:
        """A curl command that downloads `path` to /dev/null and prints status, bytes, seconds."""
        command = ["curl", "-sS", "-o", "/dev/null", "-w", CURL_SAYS]
        if self.socket:
            command += ["--unix-socket", self.socket]
        for name, value in self.headers.items():
            command += ["-H", f"{name}: {value}"]
        return [*command, f"http://{self.host}{self.prefix}{path}"]


class Caller:
    """Times GETs one at a time: over one kept-alive connection (as a requests.Session or
    MLflow's client does) or over a new connection per call (connecting included)."""

    def __init__(self, endpoint: Endpoint, keep_alive: bool) -> None:
        self.endpoint = endpoint
        self.keep_alive = keep_alive
        self.kept: http.client.HTTPConnection | None = None

    def __call__(self, path: str) -> float:
        """Milliseconds of one successful call; a kept connection the server closed meanwhile
        is reopened and the call timed again (reconnecting is not what is measured)."""
        try:
            return self._timed(path)
        except (http.client.RemoteDisconnected, ConnectionError):
            self.close()
            return self._timed(path)

    def _timed(self, path: str) -> float:
        started = time.perf_counter()
        connection = self.kept or self.endpoint.connection()
        connection.request("GET", self.endpoint.prefix + path, headers=dict(self.endpoint.headers))
        response = connection.getresponse()
        body = response.read()
        taken = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
        if self.keep_alive:
            self.kept = connection
        else:
            connection.close()
        return taken

    def close(self) -> None:
        if self.kept is not None:
            self.kept.close()
            self.kept = None


def post_json(endpoint: Endpoint, path: str, body: dict[str, Any]) -> int:
    """One POST (seeding): the HTTP status."""
    connection = endpoint.connection()
    headers = {**endpoint.headers, "Content-Type": "application/json"}
    connection.request("POST", endpoint.prefix + path, json.dumps(body), headers)
    status = connection.getresponse().status
    connection.close()
    return status


# -- the servers -------------------------------------------------------------------------------


@dataclass
class Setup:
    """The servers of one run and, for each group, its direct and its proxied endpoint."""

    mlflow: MlflowServer
    jupyter: JupyterServerProcess
    pairs: dict[str, tuple[Endpoint, Endpoint]]
    mlflow_pids: dict[str, int]
    artifact_dirs: dict[str, Path]

    @property
    def jupyter_pid(self) -> int:
        assert self.jupyter.process is not None
        return self.jupyter.process.pid

    @property
    def status(self) -> Endpoint:
        """Jupyter's own API, with its token: what the probe calls."""
        return proxied_endpoint(self.jupyter, "")


def proxied_endpoint(jupyter: JupyterServerProcess, group: str) -> Endpoint:
    prefix = f"/mlflow-groups/groups/{group}/mlflow" if group else ""
    token = {"Authorization": f"token {jupyter.token}"}
    return Endpoint(f"127.0.0.1:{jupyter.port}", prefix, headers=token)


def start_servers(scratch: Path) -> Setup:
    """MLflow first (it takes longest), then Jupyter, whose managed MLflow starts with it."""
    mlflow = start_mlflow(scratch / "mlflow", workers=1)
    managed_root = scratch / "managed"
    bindings = scratch / "bindings.json"
    groups = {
        EXTERNAL: {"tracking_uri": mlflow.url, "ui": "proxy"},
        MANAGED: {"mode": "managed", "root": str(managed_root)},
    }
    bindings.write_text(json.dumps({"groups": groups}))
    jupyter = JupyterServerProcess(
        scratch / "home", env={"JUPYTER_MLFLOW_GROUPS_FILE": str(bindings)}
    ).start()
    try:
        wait_until_healthy(mlflow)
        record = managed_record(jupyter, managed_root)
    except BaseException:
        jupyter.stop()
        mlflow.stop()
        raise
    pairs = {
        EXTERNAL: (
            Endpoint(mlflow.url.removeprefix("http://")),
            proxied_endpoint(jupyter, EXTERNAL),
        ),
        MANAGED: (
            Endpoint("localhost", socket=record["socket"]),
            proxied_endpoint(jupyter, MANAGED),
        ),
    }
    return Setup(
        mlflow,
        jupyter,
        pairs,
        {EXTERNAL: mlflow.process.pid, MANAGED: int(record["pid"])},
        {EXTERNAL: mlflow.root / "artifacts", MANAGED: managed_root / "artifacts"},
    )


def managed_record(jupyter: JupyterServerProcess, root: Path, timeout: float = 180) -> dict:
    """The managed server's record (socket, pid) once the status endpoint says it runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = jupyter.request("GET", f"/mlflow-groups/api/groups/{MANAGED}/status")
        if status.get("ok") and (status.get("managed") or {}).get("state") == "running":
            return json.loads((root / "server.json").read_text())
        time.sleep(0.5)
    raise RuntimeError(f"the managed MLflow did not come up in {timeout} s")


def prepare_data(setup: Setup, scratch: Path, big_mib: int, each_mib: int) -> None:
    """A registered model in each MLflow, and the artifacts written once and hard-linked into
    each artifact directory (what an upload would leave there, without the upload's time)."""
    for group, (direct, _) in setup.pairs.items():
        status = post_json(direct, f"{API}/registered-models/create", {"name": MODEL})
        if status != 200:
            raise RuntimeError(f"could not create {MODEL} in {group}: {status}")
    sources = {"big.bin": big_mib, "part.bin": each_mib}
    for name, mib in sources.items():
        source = write_file(scratch / name, mib)
        for directory in setup.artifact_dirs.values():
            (directory / "bench").mkdir(parents=True, exist_ok=True)
            os.link(source, directory / "bench" / name)


def write_file(path: Path, mib: int) -> Path:
    """`mib` MiB of incompressible bytes (one random MiB repeated: writing is fast)."""
    block = os.urandom(MIB)
    with path.open("wb") as out:
        for _ in range(mib):
            out.write(block)
    return path


# -- process accounting ------------------------------------------------------------------------


def cpu_seconds(pid: int, tree: bool = False) -> float:
    """User + system CPU of a process (and, with `tree`, of its descendants that still run)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / CLOCK_TICK
    if tree:
        total += sum(cpu_seconds(child, tree=True) for child in children(pid))
    return total


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def written_bytes(pid: int) -> int:
    """Bytes the process passed to write calls (for curl -o /dev/null: what it received); 0
    once it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("wchar:"):
                return int(line.split()[1])
    return 0


def memory_mib(pid: int, field_name: str) -> float:
    """VmHWM (the peak resident memory) or VmRSS, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field_name} for {pid}")


# -- 1. REST calls -----------------------------------------------------------------------------


def rest_calls(setup: Setup, calls: int) -> dict[str, dict[str, Any]]:
    """results[group, connection]: the milliseconds of each call by call and side (the sides
    alternating), and the Jupyter server's CPU per proxied call (direct calls cost it nothing):
    on a busy machine, CPU is what the hop costs wherever it waits."""
    results: dict[str, dict[str, Any]] = {}
    for group, (direct, proxied) in setup.pairs.items():
        for keep_alive in (True, False):
            callers = {"direct": Caller(direct, keep_alive), "proxy": Caller(proxied, keep_alive)}
            label = f"{group}, {'kept-alive' if keep_alive else 'new connection per call'}"
            before = cpu_seconds(setup.jupyter_pid)
            samples = interleaved_calls(callers, calls)
            spent = cpu_seconds(setup.jupyter_pid) - before
            proxied_calls = len(CALLS) * (calls + WARM_UP_CALLS)
            results[label] = {"calls": samples, "jupyter_cpu_ms": spent * 1000 / proxied_calls}
            for caller in callers.values():
                caller.close()
    return results


def interleaved_calls(callers: dict[str, Caller], calls: int) -> dict[str, dict[str, list[float]]]:
    samples: dict[str, dict[str, list[float]]] = {
        call: {side: [] for side in callers} for call in CALLS
    }
    for path in CALLS.values():  # warm up: connections, MLflow's and Jupyter's code paths
        for caller in callers.values():
            for _ in range(WARM_UP_CALLS):
                caller(path)
    sides = list(callers)
    for index in range(calls):
        for call, path in CALLS.items():
            for side in sides if index % 2 == 0 else reversed(sides):
                samples[call][side].append(callers[side](path))
    return samples


# -- 2. big downloads ----------------------------------------------------------------------------


def download(endpoint: Endpoint, path: str, size: int, pids: Mapping[str, int]) -> dict:
    """One download by curl to /dev/null: MiB/s, and CPU seconds per GiB of each server."""
    before = {name: cpu_seconds(pid, tree=name == "mlflow") for name, pid in pids.items()}
    out = subprocess.run(endpoint.curl(path), capture_output=True, text=True, check=True)
    after = {name: cpu_seconds(pid, tree=name == "mlflow") for name, pid in pids.items()}
    status, got, seconds = out.stdout.split()
    if status != "200" or int(got) != size:
        raise RuntimeError(f"download of {path}: status {status}, {got} of {size} bytes")
    gib = size / (1024 * MIB)
    return {
        "seconds": float(seconds),
        "mib_s": size / MIB / float(seconds),
        **{f"{name}_cpu_s_per_gib": (after[name] - before[name]) / gib for name in pids},
    }


def big_downloads(
    setup: Setup, rounds: int, big_mib: int, warm_mib: int
) -> dict[str, dict[str, list[dict]]]:
    """results[group][side]: each timed download; one untimed download of the smaller file
    each first (code paths, connections), then the sides alternate, the order swapped every
    round. The files are in the page cache already (just written)."""
    results: dict[str, dict[str, list[dict]]] = {}
    for group, (direct, proxied) in setup.pairs.items():
        pids = {"jupyter": setup.jupyter_pid, "mlflow": setup.mlflow_pids[group]}
        sides = {"direct": direct, "proxy": proxied}
        for endpoint in sides.values():
            download(endpoint, PART, warm_mib * MIB, pids)
        results[group] = {side: [] for side in sides}
        for index in range(rounds):
            for side in list(sides) if index % 2 == 0 else list(reversed(sides)):
                results[group][side].append(download(sides[side], BIG, big_mib * MIB, pids))
    return results


# -- 3. Jupyter's responsiveness under proxied downloads ---------------------------------------


class SteadyDownloads:
    """`count` curl downloads of one artifact kept running at once, each restarted when it
    ends, until the block exits: a steady load for the probe. Their throughput is counted at
    the clients (the bytes curl wrote to /dev/null: a server's socket sends are not in its
    /proc/<pid>/io). Every process started here is ours, and ended by its own pid."""

    def __init__(self, endpoint: Endpoint, path: str, count: int) -> None:
        self.command = endpoint.curl(path)
        self.count = count
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._running: list[subprocess.Popen[str]] = []
        self._counted_from: dict[int, int] | None = None  # pid: bytes written when counting began
        self._ended_bytes = 0

    def __enter__(self) -> SteadyDownloads:
        self._running = [self._spawn() for _ in range(self.count)]
        self._keeper = threading.Thread(target=self._keep_running, daemon=True)
        self._keeper.start()
        return self

    def start_counting(self) -> None:
        """From now on (once every download streams), bytes received count towards mib_s."""
        with self._lock:
            self._counted_from = {p.pid: written_bytes(p.pid) for p in self._running}
            self._since = time.perf_counter()

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._keeper.join()
        seconds = time.perf_counter() - self._since
        counted_from = self._counted_from or {}
        received = self._ended_bytes + sum(
            written_bytes(p.pid) - counted_from.get(p.pid, 0) for p in self._running
        )
        self.mib_s = received / MIB / seconds
        for process in self._running:
            process.terminate()
            process.wait()

    def _spawn(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )

    def _keep_running(self) -> None:
        while not self._stop.wait(0.05):
            for index, process in enumerate(self._running):
                if process.poll() is None:
                    continue
                assert process.stdout is not None
                status, size, *_ = [*process.stdout.read().split(), "0", "0"]
                if status != "200":
                    self.failures.append(f"exit {process.returncode}")
                with self._lock:
                    self._running[index] = self._spawn()
                    if self._counted_from is not None:
                        self._ended_bytes += int(size) - self._counted_from.pop(process.pid, 0)
                        self._counted_from[self._running[index].pid] = 0


def probe(caller: Caller, samples: int, pause: float) -> list[float]:
    """Milliseconds of `samples` calls to /api/status, one every `pause` seconds (a browser
    tab polling, not a flood that would itself load the server)."""
    taken = []
    for _ in range(samples):
        taken.append(caller("/api/status"))
        time.sleep(pause)
    return taken


def responsiveness(
    setup: Setup, concurrent: int, each_mib: int, probes: int, pause: float, rounds: int
) -> dict[str, Any]:
    """/api/status latency with nothing running, under direct downloads, under proxied ones;
    `rounds` times each, alternating, so drift in the machine's load hits all three alike."""
    caller = Caller(setup.status, keep_alive=True)
    probe(caller, 20, pause)  # warm up
    direct, proxied = setup.pairs[EXTERNAL]
    samples: dict[str, list[float]] = {"nothing running": [], "direct": [], "proxy": []}
    loads: dict[str, list[float]] = {"direct": [], "proxy": []}
    per_round = max(1, probes // rounds)
    for _ in range(rounds):
        samples["nothing running"] += probe(caller, per_round, pause)
        for side, endpoint in (("direct", direct), ("proxy", proxied)):
            with SteadyDownloads(endpoint, PART, concurrent) as load:
                time.sleep(1.0)  # every download has connected and is streaming
                load.start_counting()
                samples[side] += probe(caller, per_round, pause)
            if load.failures:
                raise RuntimeError(f"{side} downloads failed: {load.failures[:5]}")
            loads[side].append(load.mib_s)
    caller.close()
    return {"samples": samples, "loads": loads}


# -- reporting ---------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[round(fraction * (len(ordered) - 1))]


def stats(values: list[float]) -> dict[str, float]:
    return {
        "min": min(values),
        "p50": statistics.median(values),
        "p95": percentile(values, 0.95),
        "n": len(values),
    }


def rest_table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| group, connection | call | direct min / p50 / p95 | proxy min / p50 / p95 "
        "| p50 overhead | median paired overhead | p50 ratio | Jupyter CPU per proxied call |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, result in results.items():
        for call, sides in result["calls"].items():
            direct, proxy = stats(sides["direct"]), stats(sides["proxy"])
            paired = statistics.median(
                p - d for d, p in zip(sides["direct"], sides["proxy"], strict=True)
            )
            cells = [
                f"{s['min']:.1f} / {s['p50']:.1f} / {s['p95']:.1f} ms" for s in (direct, proxy)
            ]
            lines.append(
                f"| {label} | `{call}` | {cells[0]} | {cells[1]} "
                f"| {proxy['p50'] - direct['p50']:+.1f} ms | {paired:+.1f} ms "
                f"| {proxy['p50'] / direct['p50']:.2f} | {result['jupyter_cpu_ms']:.1f} ms |"
            )
    return "\n".join(lines)


def download_table(results: dict[str, dict[str, list[dict]]], big_mib: int) -> str:
    lines = [
        f"| group ({big_mib} MiB) | side | MiB/s min / median / max "
        "| Jupyter CPU s per GiB | MLflow CPU s per GiB | median vs direct "
        "| median of paired ratios |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for group, sides in results.items():
        direct = [run["mib_s"] for run in sides["direct"]]
        for side, runs in sides.items():
            speeds = [run["mib_s"] for run in runs]
            jupyter = statistics.median(run["jupyter_cpu_s_per_gib"] for run in runs)
            mlflow = statistics.median(run["mlflow_cpu_s_per_gib"] for run in runs)
            paired = statistics.median(s / d for s, d in zip(speeds, direct, strict=True))
            lines.append(
                f"| {group} | {side} | {min(speeds):.0f} / {statistics.median(speeds):.0f} / "
                f"{max(speeds):.0f} | {jupyter:.2f} | {mlflow:.2f} "
                f"| {statistics.median(speeds) / statistics.median(direct):.2f}x | {paired:.2f}x |"
            )
    return "\n".join(lines)


def responsiveness_table(result: dict[str, Any], concurrent: int, each_mib: int) -> str:
    lines = [
        "| Jupyter `GET /api/status` while | samples | min | p50 | p95 | max "
        "| downloads' aggregate MiB/s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    names = {
        "nothing running": "nothing runs",
        "direct": f"{concurrent} downloads of {each_mib} MiB straight from MLflow",
        "proxy": f"{concurrent} downloads of {each_mib} MiB through the proxy",
    }
    for key, values in result["samples"].items():
        s = stats(values)
        loads = result["loads"].get(key)
        speed = f"{statistics.median(loads):.0f}" if loads else "-"
        lines.append(
            f"| {names[key]} | {s['n']} | {s['min']:.1f} ms | {s['p50']:.1f} ms "
            f"| {s['p95']:.1f} ms | {max(values):.1f} ms | {speed} |"
        )
    return "\n".join(lines)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# -- main --------------------------------------------------------------------------------------


def measure(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    setup = start_servers(scratch)
    try:
        prepare_data(setup, scratch, args.big_mib, args.each_mib)
        output: dict[str, Any] = {"load_average_start": load_average()}
        output["memory_mib"] = {"start": memory_mib(setup.jupyter_pid, "VmHWM")}
        output["rest"] = rest_calls(setup, args.calls)
        print("REST calls done", file=sys.stderr)
        output["memory_mib"]["before downloads"] = memory_mib(setup.jupyter_pid, "VmHWM")
        output["downloads"] = big_downloads(setup, args.rounds, args.big_mib, args.each_mib)
        output["memory_mib"]["after big downloads"] = memory_mib(setup.jupyter_pid, "VmHWM")
        print("downloads done", file=sys.stderr)
        output["responsiveness"] = responsiveness(
            setup, args.concurrent, args.each_mib, args.probes, args.pause, args.probe_rounds
        )
        output["memory_mib"][f"after {args.concurrent} concurrent downloads"] = memory_mib(
            setup.jupyter_pid, "VmHWM"
        )
        output["memory_mib"]["rss at the end"] = memory_mib(setup.jupyter_pid, "VmRSS")
        output["load_average_end"] = load_average()
        return output
    finally:
        setup.jupyter.stop()
        setup.mlflow.stop()


def goals(output: dict[str, Any]) -> str:
    """The three goals, each with the worst case measured (a goal holds for every case)."""
    overheads = [
        stats(sides["proxy"])["p50"] - stats(sides["direct"])["p50"]
        for result in output["rest"].values()
        for sides in result["calls"].values()
    ]
    ratios = [
        statistics.median(run["mib_s"] for run in sides["proxy"])
        / statistics.median(run["mib_s"] for run in sides["direct"])
        for sides in output["downloads"].values()
    ]
    p95 = stats(output["responsiveness"]["samples"]["proxy"])["p95"]
    verdicts = [
        ("REST p50 overhead at most 5 ms", f"worst {max(overheads):+.1f} ms", max(overheads) <= 5),
        ("download at least 0.8x direct", f"worst {min(ratios):.2f}x", min(ratios) >= 0.8),
        ("/api/status p95 under 100 ms while proxying", f"{p95:.1f} ms", p95 < 100),
    ]
    return "\n".join(
        f"- {goal}: {figure}, {'met' if met else 'MISSED'}" for goal, figure, met in verdicts
    )


def report(output: dict[str, Any], args: argparse.Namespace) -> str:
    memory = " | ".join(f"{key}: {value:.0f} MiB" for key, value in output["memory_mib"].items())
    return "\n\n".join(
        [
            f"load average at start {output['load_average_start']}, "
            f"at end {output['load_average_end']} ({os.cpu_count()} cores)",
            f"### REST calls ({args.calls} each, interleaved)",
            rest_table(output["rest"]),
            f"### Downloads ({args.rounds} rounds each, alternating, curl to /dev/null)",
            download_table(output["downloads"], args.big_mib),
            f"Jupyter server's peak memory (VmHWM) | {memory}",
            "### Jupyter's responsiveness",
            responsiveness_table(output["responsiveness"], args.concurrent, args.each_mib),
            "### Goals",
            goals(output),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="REST calls per side and case")
    parser.add_argument("--rounds", type=int, default=4, help="timed big downloads per side")
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--each-mib", type=int, default=256)
    parser.add_argument("--probes", type=int, default=300, help="/api/status samples per case")
    parser.add_argument("--probe-rounds", type=int, default=2)
    parser.add_argument("--pause", type=float, default=0.01, help="seconds between probes")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-proxy-") as scratch:
        output = measure(args, Path(scratch))
    output["seconds"] = time.perf_counter() - started
    print(report(output, args))
    print(f"\n(the whole run took {output['seconds']:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args), **output}, default=str, indent=2))


if __name__ == "__main__":
    main()
