"""Jupyter Server's and jupyter_client's own test suites, run from their sdists with and
without this extension (tests/test_upstream_suites.py says what is checked and why).

The runs are started as soon as pytest has collected the session (tests/conftest.py), so that
they go on beside the rest of the suite: they mostly wait on kernels and timers, and the suite
mostly waits on servers, so the machine has room for both. The test module then collects
their results, looking again at the tests in question (see `in_question`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

PROJECT = Path(__file__).resolve().parents[2]
UPSTREAM = PROJECT / "tests" / "upstream"
PLUGIN = "mlflow_groups_upstream_plugin"
KNOWN_FAILURES = UPSTREAM / "known_failures.txt"
SDIST_CACHE = PROJECT / ".venv" / "upstream-sdists"
RUN_TIMEOUT = 25 * 60  # one upstream run; about 4 minutes alone, more beside the suite
LEFTOVER_GRACE = 15.0  # seconds a run's processes get to go away after its pytest exits
MODES = ("baseline", "extension")


@dataclass(frozen=True)
class Suite:
    distribution: str
    paths: tuple[str, ...]
    #: its kernels have no Jupyter server (kernel managers only): our provisioner is made the
    #: default with JUPYTER_DEFAULT_PROVISIONER_NAME; otherwise by enabling the extension
    default_by_env: bool


SUITES = {
    "jupyter_server": Suite(
        "jupyter_server", ("tests/services/kernels", "tests/services/sessions"), False
    ),
    "jupyter_client": Suite(
        "jupyter_client",
        ("tests/test_provisioning.py", "tests/test_kernelmanager.py", "tests/test_restarter.py"),
        True,
    ),
}


@dataclass
class Outcome:
    outcome: str  # passed, failed, skipped
    reason: str = ""
    details: str = ""
    flaky: str = ""  # passed on the second look; the first look's error


@dataclass
class Run:
    suite: str
    mode: str
    workdir: Path
    scratch: Path  # basetemp and HOME of the run: every process it starts has it in view
    junit: Path
    launches_file: Path
    log: Path
    selection: tuple[str, ...] = ()  # node ids to run; the suite's paths when empty
    again: Run | None = None  # the second look at the tests in question, when there were any
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    seconds: float = 0.0
    returncode: int | None = None
    timed_out: bool = False
    leftovers: list[str] = field(default_factory=list)

    def outcomes(self) -> dict[str, Outcome]:
        """Each test's outcome, a failure that passed on the second look counting as passed
        (marked flaky, with the first error)."""
        outcomes = read_junit(self.junit)
        if self.again is not None and self.again.junit.exists():
            for nodeid, second in read_junit(self.again.junit).items():
                first = outcomes.get(nodeid)
                if first is not None and first.outcome == "failed" and second.outcome == "passed":
                    outcomes[nodeid] = Outcome("passed", flaky=first.reason)
        return outcomes

    def launches(self) -> list[dict[str, Any]]:
        runs = [self, self.again] if self.again is not None else [self]
        launches: list[dict[str, Any]] = []
        for run in runs:
            if run.launches_file.exists():
                with run.launches_file.open(encoding="utf-8") as lines:
                    launches += [json.loads(line) for line in lines if line.strip()]
        return launches

    def all_leftovers(self) -> list[str]:
        return self.leftovers + (self.again.leftovers if self.again is not None else [])

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


# ---------------------------------------------------------------------------------------------
# sdists


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _cached_sdist(distribution: str, wanted: str) -> Path | None:
    for candidate in SDIST_CACHE.glob("*.tar.gz"):
        name, _, found = candidate.name.removesuffix(".tar.gz").rpartition("-")
        if _normalized(name) == _normalized(distribution) and found == wanted:
            return candidate
    return None


def fetch_sdist(distribution: str) -> Path:
    """The sdist of the installed version, downloaded with pip once into .venv/."""
    wanted = version(distribution)
    cached = _cached_sdist(distribution, wanted)
    if cached is not None:
        return cached
    SDIST_CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=SDIST_CACHE) as download:
        command = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--no-binary", ":all:", "--dest", download, f"{distribution}=={wanted}",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=900)
        archives = list(Path(download).glob("*.tar.gz"))
        if result.returncode != 0 or len(archives) != 1:
            raise UpstreamUnavailable(
                f"could not download the sdist of {distribution}=={wanted} with pip "
                f"({' '.join(command)}):\n{result.stdout}\n{result.stderr}"
            )
        target = SDIST_CACHE / archives[0].name
        os.replace(archives[0], target)  # atomic: a concurrent run finds it whole or not
    return target


def extract_tests(archive: Path, into: Path) -> Path:
    """The sdist's pyproject.toml (its pytest settings) and tests/ (with its conftest files),
    without its source package: the tests import the installed one."""
    with tarfile.open(archive) as tar:
        top = tar.getmembers()[0].name.split("/", 1)[0]
        members = [
            member
            for member in tar.getmembers()
            if member.name == f"{top}/pyproject.toml" or member.name.startswith(f"{top}/tests/")
        ]
        options: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(into, members=members, **options)
    return into / top


# ---------------------------------------------------------------------------------------------
# running


def _environment(run: Run, suite: Suite) -> dict[str, str]:
    """This process's environment without pytest's, Jupyter's, JupyterHub's and MLflow's
    variables (ours, or a developer's, would change what is tested), plus the run's own."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST", "JUPYTER", "JPY_", "MLFLOW", "COV_CORE"))
    }
    home = run.scratch / "home"
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        PYTHONPATH=str(UPSTREAM),
        MLFLOW_GROUPS_UPSTREAM_MODE=run.mode,
        MLFLOW_GROUPS_UPSTREAM_LAUNCHES=str(run.launches_file),
    )
    if run.mode == "extension" and suite.default_by_env:
        env["MLFLOW_GROUPS_UPSTREAM_DEFAULT_PROVISIONER"] = "1"
    return env


def start(run: Run) -> None:
    suite = SUITES[run.suite]
    command = [
        sys.executable, "-m", "pytest", "-p", PLUGIN, "-p", "no:cacheprovider",
        "-c", "pyproject.toml", "--rootdir", ".", "-o", "timeout_method=signal",
        f"--basetemp={run.scratch / 'tmp'}", f"--junitxml={run.junit}",
        *(run.selection or suite.paths),
    ]  # fmt: skip
    with run.log.open("wb") as log:
        log.write(("$ " + " ".join(command) + "\n").encode())
        log.flush()
        run.process = subprocess.Popen(
            command,
            cwd=run.workdir,
            env=_environment(run, suite),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    run.started = time.monotonic()


def _processes_of(scratch: Path) -> dict[int, str]:
    """Processes (other than this one) whose command line or environment names the run's
    scratch folder: its kernels, and any server the extension started for its tests."""
    marker = str(scratch).encode()
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if cmdline and (marker in cmdline or marker in environ):
            found[int(entry.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace")
    return found


def finish(run: Run) -> None:
    """After the run's pytest exits: what it left running, given a grace period, is noted and
    then ended (each by its pid: all of them were started by this run)."""
    run.seconds = time.monotonic() - run.started
    if not Path("/proc/self/environ").exists():
        return
    deadline = time.monotonic() + LEFTOVER_GRACE
    left = _processes_of(run.scratch)
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = _processes_of(run.scratch)
    run.leftovers = [f"pid {pid}: {cmdline}" for pid, cmdline in sorted(left.items())]
    for pid in left:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def wait_all(runs: list[Run]) -> None:
    pending = list(runs)
    while pending:
        time.sleep(1)
        for run in list(pending):
            assert run.process is not None
            if run.process.poll() is None and time.monotonic() - run.started > RUN_TIMEOUT:
                run.timed_out = True
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(run.process.pid, signal.SIGKILL)  # the run's own session
                run.process.wait()
            if run.process.poll() is not None:
                run.returncode = run.process.returncode
                finish(run)
                pending.remove(run)


def _new_run(
    base: Path, scratch_root: Path, archive: Path, suite: str, mode: str, look: str = ""
) -> Run:
    folder = base / f"{suite}-{mode}{look}"
    folder.mkdir()
    scratch = scratch_root / f"{suite[8:]}-{mode[:3]}{look[:2]}"  # jupyter_server -> server
    scratch.mkdir()
    return Run(
        suite=suite,
        mode=mode,
        workdir=extract_tests(archive, folder),
        scratch=scratch,
        junit=folder / "junit.xml",
        launches_file=folder / "launches.jsonl",
        log=folder / "pytest.log",
    )


def in_question(suite: str, runs: dict[str, Run]) -> tuple[str, ...]:
    """Tests to look at again: failed with the extension only, or failed without it and not
    listed as failing upstream (nothing, when a run left no results to read)."""
    if not all(run.junit.exists() for run in runs.values()):
        return ()
    baseline, extension = runs["baseline"].outcomes(), runs["extension"].outcomes()
    known = read_known_failures()
    listed = set(known.get((suite, "upstream"), {})) | set(known.get((suite, "extension"), {}))
    return tuple(
        sorted(
            nodeid
            for nodeid, outcome in baseline.items()
            if nodeid not in listed
            and (
                outcome.outcome == "failed"
                or (
                    outcome.outcome == "passed"
                    and extension.get(nodeid, outcome).outcome == "failed"
                )
            )
        )
    )


def read_junit(path: Path) -> dict[str, Outcome]:
    """Each test's outcome: failed (a failure or an error, in any phase), skipped or passed."""
    results: dict[str, Outcome] = {}
    rank = {"passed": 0, "skipped": 1, "failed": 2}
    for case in ET.parse(path).getroot().iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        nodeid = properties.get("nodeid") or f"{case.get('classname')}::{case.get('name')}"
        outcome = Outcome("passed")
        for child in case:
            if child.tag in ("failure", "error"):
                if outcome.outcome != "failed":
                    outcome = Outcome("failed", child.get("message") or "", child.text or "")
            elif child.tag == "skipped" and outcome.outcome == "passed":
                outcome = Outcome("skipped", child.get("message") or "")
        earlier = results.get(nodeid)
        if earlier is None or rank[outcome.outcome] > rank[earlier.outcome]:
            results[nodeid] = outcome
    return results


def read_known_failures(path: Path = KNOWN_FAILURES) -> dict[tuple[str, str], dict[str, str]]:
    """`SUITE WHEN NODEID -- REASON` lines (indented lines continue the reason); WHEN is
    `upstream` (fails without the extension too) or `extension` (only with it)."""
    known: dict[tuple[str, str], dict[str, str]] = {}
    last: tuple[tuple[str, str], str] | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if raw[0].isspace():
            if last is None:
                raise ValueError(f"{path.name}:{number}: a continuation line with no entry")
            key, nodeid = last
            known[key][nodeid] += " " + raw.strip()
            continue
        head, separator, reason = raw.partition(" -- ")
        parts = head.split(None, 2)
        if not separator or len(parts) != 3 or parts[0] not in SUITES:
            raise ValueError(f"{path.name}:{number}: expected 'SUITE WHEN NODEID -- REASON'")
        if parts[1] not in ("upstream", "extension"):
            raise ValueError(f"{path.name}:{number}: WHEN is 'upstream' or 'extension'")
        key = (parts[0], parts[1])
        known.setdefault(key, {})[parts[2].strip()] = reason.strip()
        last = (key, parts[2].strip())
    return known


class UpstreamUnavailable(Exception):
    """An sdist could not be had (no index, no such version): the runs cannot be made."""


class UpstreamRuns:
    """Both suites, baseline and extension: four runs side by side, started by `begin`; then
    `results` waits for them and looks again at the tests in question, in both modes."""

    def __init__(self, base: Path) -> None:
        self.base = base  # logs, junit XML and the extracted tests of each run
        self.scratch_root = Path(tempfile.mkdtemp(prefix="jmg-upstream-"))  # short socket paths
        self.runs: dict[str, dict[str, Run]] = {}
        self.started: list[Run] = []
        self.problem: Exception | None = None
        self._archives: dict[str, Path] = {}
        self._done = False

    def begin(self) -> None:
        try:
            self._archives = {n: fetch_sdist(s.distribution) for n, s in SUITES.items()}
        except UpstreamUnavailable as error:
            self.problem = error
            return
        self.runs = {name: {mode: self._new_run(name, mode) for mode in MODES} for name in SUITES}
        for by_mode in self.runs.values():
            for run in by_mode.values():
                self._start(run)

    def results(self) -> dict[str, dict[str, Run]]:
        if self.problem is not None:
            raise self.problem
        if not self._done:
            wait_all(self.started)
            second = []
            for name, by_mode in self.runs.items():
                selection = in_question(name, by_mode)
                for mode, run in by_mode.items() if selection else ():
                    run.again = self._new_run(name, mode, "-again")
                    run.again.selection = selection
                    second.append(run.again)
            for run in second:
                self._start(run)
            wait_all(second)
            self._done = True
            print(self.summary())
        return self.runs

    def summary(self) -> str:
        return "\n".join(
            f"{run.suite} {version(SUITES[run.suite].distribution)} {run.mode}"
            f"{f' (again: {len(run.selection)} tests)' if run.selection else ''}: "
            f"{run.seconds:.0f} s, exit {run.returncode}, log {run.log}"
            for run in self.started
        )

    def stop(self) -> None:
        """End what still runs (an interrupted session) and remove the scratch folders."""
        for run in self.started:
            if run.process is not None and run.process.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(run.process.pid, signal.SIGKILL)
                run.process.wait()
        shutil.rmtree(self.scratch_root, ignore_errors=True)

    def _new_run(self, suite: str, mode: str, look: str = "") -> Run:
        return _new_run(self.base, self.scratch_root, self._archives[suite], suite, mode, look)

    def _start(self, run: Run) -> None:
        self.started.append(run)
        start(run)


UPSTREAM_RUNS = pytest.StashKey[UpstreamRuns]()
#: The test that reads the runs' results: when it is collected, the runs begin at once.
RESULTS_TEST = "tests/test_upstream_suites.py::test_upstream_suite_passes_with_the_extension"


def begin_early(config: pytest.Config, base: Path) -> None:
    """Start the runs now: at the end of collection (tests/conftest.py), or at first use."""
    runs = UpstreamRuns(base)
    runs.begin()
    config.stash[UPSTREAM_RUNS] = runs
