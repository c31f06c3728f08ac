"""Jupyter Server's kernel and session API tests and jupyter_client's provisioning, kernel
manager and restarter tests, from their sdists at the installed versions, pass with this
extension as they pass without it.

Each suite runs twice, side by side, in a subprocess from its extracted sdist (its
`pyproject.toml` and `tests/`, so the installed packages are what is tested), under the
project's own pytest settings and conftest files (`filterwarnings = error`: a ResourceWarning
fails a test there):

- baseline: nothing of ours is enabled (pytest-jupyter gives every test an environment of its
  own, without the files pip installed into `{sys.prefix}/etc/jupyter`);
- extension: the file pip installed into `{sys.prefix}/etc/jupyter/jupyter_server_config.d/`
  is put at the same place of each test's environment, so every Jupyter server a test starts
  enables the extension as for a user, and linking it makes our provisioner the default.
  jupyter_client's tests start kernels without any Jupyter server: there our provisioner is
  made the default with jupyter_client's own `JUPYTER_DEFAULT_PROVISIONER_NAME`.

tests/upstream/mlflow_groups_upstream_plugin.py does both and records every kernel launch,
so this also checks that each kernel that got the default provisioner got ours (with our
`--ext` for ipykernel), and that no process started by a run is left running after it.

Per-test outcomes come from the junit XML of each run. Every test that passed in the baseline
must pass with the extension. These suites time websocket closes and kernel restarts in fractions
of a second, and on a loaded 2-core machine a few of them fail now and then, without the
extension as with it. So every test whose outcome is in question (it failed with the extension
only, or failed without it and is not listed) runs once more in both modes, and counts as
flaky, not failed, when it passes then: a defect of ours fails both times. The one setting
changed from the projects' own is pytest-timeout's method: `signal` fails the one test that
hangs, where their `thread` ends the whole run without its junit XML.

Tests that fail without the extension, and the few that fail with it for a reason that is
not a defect of ours, are listed with the reason in tests/upstream/known_failures.txt; the
lists must match the runs exactly, so nothing is skipped silently. The sdists are downloaded
once (with pip, from its configured index) into .venv/upstream-sdists/.
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
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

PROJECT = Path(__file__).resolve().parent.parent
UPSTREAM = Path(__file__).resolve().parent / "upstream"
PLUGIN = "mlflow_groups_upstream_plugin"
KNOWN_FAILURES = UPSTREAM / "known_failures.txt"
SDIST_CACHE = PROJECT / ".venv" / "upstream-sdists"
RUN_TIMEOUT = 20 * 60  # one upstream run; they take about 4 minutes each, side by side
LEFTOVER_GRACE = 15.0  # seconds a run's processes get to go away after its pytest exits
MODES = ("baseline", "extension")

pytestmark = pytest.mark.timeout(RUN_TIMEOUT + 300)


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
            pytest.fail(
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


@pytest.fixture(scope="module")
def upstream_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Run]]]:
    """Both suites, baseline and extension, all four runs side by side (they mostly wait on
    kernels and timers: about 4 minutes in all on 2 cores, against 8 one after the other), then
    the tests in question once more, in both modes."""
    base = tmp_path_factory.mktemp("upstream")
    archives = {name: fetch_sdist(suite.distribution) for name, suite in SUITES.items()}
    # a short folder of its own (unix socket paths under it must stay short)
    scratch_root = Path(tempfile.mkdtemp(prefix="jmg-upstream-"))
    runs = {
        name: {mode: _new_run(base, scratch_root, archives[name], name, mode) for mode in MODES}
        for name in SUITES
    }
    started: list[Run] = []
    try:
        first = [run for by_mode in runs.values() for run in by_mode.values()]
        started += first
        for run in first:
            start(run)
        wait_all(first)
        second: list[Run] = []
        for name, by_mode in runs.items():
            selection = in_question(name, by_mode)
            for mode, run in by_mode.items() if selection else ():
                run.again = _new_run(base, scratch_root, archives[name], name, mode, "-again")
                run.again.selection = selection
                second.append(run.again)
        started += second
        for run in second:
            start(run)
        wait_all(second)
        summary = "\n".join(
            f"{run.suite} {version(SUITES[run.suite].distribution)} {run.mode}"
            f"{f' (again: {len(run.selection)} tests)' if run.selection else ''}: "
            f"{run.seconds:.0f} s, exit {run.returncode}, log {run.log}"
            for run in started
        )
        (base / "summary.txt").write_text(summary + "\n")
        print(summary)
        yield runs
    finally:
        for run in started:
            if run.process is not None and run.process.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(run.process.pid, signal.SIGKILL)
                run.process.wait()
        shutil.rmtree(scratch_root, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# reading the results


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


def _short(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def compare_outcomes(
    suite: str,
    baseline: dict[str, Outcome],
    extension: dict[str, Outcome],
    known: dict[tuple[str, str], dict[str, str]],
) -> list[str]:
    """What is wrong, one line per test: a test that passed without the extension and not with
    it (unless listed, with the reason, as failing with it for a reason not ours), a baseline
    failure that is not listed, a listed failure that no longer happens."""
    problems: list[str] = []
    absent = Outcome("absent", "not in the run's junit XML")
    listed = KNOWN_FAILURES.relative_to(PROJECT)
    for nodeid in sorted(set(baseline) - set(extension)):
        problems.append(f"{nodeid}: ran without the extension, not with it")
    for nodeid in sorted(set(extension) - set(baseline)):
        problems.append(f"{nodeid}: ran with the extension, not without it")

    failing_upstream = {t for t, o in baseline.items() if o.outcome == "failed"}
    known_upstream = known.get((suite, "upstream"), {})
    for nodeid in sorted(failing_upstream - set(known_upstream)):
        problems.append(
            f"{nodeid}: fails WITHOUT the extension too, and is not in {listed}: list it "
            f"there with the reason. Error: {_short(baseline[nodeid].reason)}"
        )
    for nodeid in sorted(set(known_upstream) - failing_upstream):
        outcome = baseline.get(nodeid, absent).outcome
        problems.append(
            f"{nodeid}: listed in {listed} as failing upstream ({known_upstream[nodeid]}), "
            f"but it {outcome} without the extension: take it off the list"
        )

    regressions = {
        t
        for t, o in baseline.items()
        if o.outcome == "passed" and extension.get(t, absent).outcome != "passed"
    }
    known_extension = known.get((suite, "extension"), {})
    for nodeid in sorted(regressions - set(known_extension)):
        outcome = extension.get(nodeid, absent)
        problems.append(
            f"{nodeid}: passes without the extension, {outcome.outcome} with it. "
            f"Error: {_short(outcome.reason)}"
        )
    for nodeid in sorted(set(known_extension) - regressions):
        problems.append(
            f"{nodeid}: listed in {listed} as failing only with the extension "
            f"({known_extension[nodeid]}), but it {extension.get(nodeid, absent).outcome} with "
            f"it and {baseline.get(nodeid, absent).outcome} without: take it off the list"
        )
    return problems


def _ours(launch: dict[str, Any]) -> bool:
    return str(launch["provisioner"]).startswith("jupyter_mlflow_groups.")


def _ipykernel(launch: dict[str, Any]) -> bool:
    return any(
        Path(part).name.removesuffix(".py") in ("ipykernel", "ipykernel_launcher")
        for part in launch["cmd"]
    )


def check_launches(
    suite: Suite,
    baseline: list[dict[str, Any]],
    extension: list[dict[str, Any]],
    passed_in_both: set[str],
) -> list[str]:
    """Every kernel that got the default provisioner with the extension got ours (and, for
    ipykernel, our --ext); without the extension, nothing of ours ran."""
    problems: list[str] = []

    def defaulted(launch: dict[str, Any]) -> bool:
        # the kernelspec named no provisioner, and the extension is in play: a Jupyter server
        # started the kernel (it enables the extension), or JUPYTER_DEFAULT_PROVISIONER_NAME
        return launch["spec_provisioner"] is None and (suite.default_by_env or launch["server"])

    for launch in baseline:
        if _ours(launch) or launch.get("our_extension"):
            problems.append(f"{launch['test']}: our code ran in the baseline run: {launch}")
    for launch in extension:
        where = launch["test"] or "(outside any test)"
        if defaulted(launch) and not _ours(launch):
            problems.append(
                f"{where}: kernel {launch['kernel_name']!r} got {launch['provisioner']}, "
                "not our provisioner, as the default"
            )
        if launch["server"] and not launch.get("our_extension"):
            problems.append(f"{where}: a Jupyter server without our extension started a kernel")
        if _ours(launch) and launch["server"] and not launch.get("service"):
            problems.append(f"{where}: our provisioner did not find the extension's service")
        if (
            _ours(launch)
            and _ipykernel(launch)
            and "--ext=jupyter_mlflow_groups" not in launch["cmd"]
        ):
            problems.append(f"{where}: ipykernel started without --ext: {launch['cmd']}")
    through_default = {launch["test"] for launch in baseline if defaulted(launch)}
    through_ours = {launch["test"] for launch in extension if _ours(launch)}
    for test in sorted((through_default - through_ours) & passed_in_both):
        problems.append(
            f"{test}: started a kernel with the default provisioner without the "
            "extension, none through ours with it"
        )
    if not through_ours:
        problems.append("no kernel was started through our provisioner")
    return problems


# ---------------------------------------------------------------------------------------------
# the tests


def test_known_failures_file_is_well_formed() -> None:
    known = read_known_failures()
    for (suite, when), entries in known.items():
        for nodeid, reason in entries.items():
            assert reason, f"{suite} {when} {nodeid}: no reason given"


def _junit(path: Path, outcomes: dict[str, str]) -> Path:
    """A junit XML file as pytest writes it, with our plugin's nodeid property."""
    cases = "".join(
        f'<testcase classname="c" name="{nodeid}"><properties>'
        f'<property name="nodeid" value="{nodeid}"/></properties>'
        + ('<failure message="assert 1 == 0">trace</failure>' if outcome == "failed" else "")
        + "</testcase>"
        for nodeid, outcome in outcomes.items()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<testsuites><testsuite>{cases}</testsuite></testsuites>")
    return path


def _read_run(folder: Path, mode: str, outcomes: dict[str, str]) -> Run:
    junit = _junit(folder / mode / "junit.xml", outcomes)
    return Run("jupyter_server", mode, folder, folder, junit, folder / "none.jsonl", folder / "log")


def test_only_tests_in_question_are_looked_at_again_and_a_second_failure_stands(
    tmp_path: Path,
) -> None:
    listed = next(iter(read_known_failures()[("jupyter_server", "upstream")]))
    first = {
        "baseline": _read_run(
            tmp_path,
            "baseline",
            {"t::ok": "passed", "t::ours": "passed", "t::theirs": "failed", listed: "failed"},
        ),
        "extension": _read_run(
            tmp_path,
            "extension",
            {"t::ok": "passed", "t::ours": "failed", "t::theirs": "failed", listed: "failed"},
        ),
    }
    selection = in_question("jupyter_server", first)
    assert selection == ("t::ours", "t::theirs")  # not the passing one, not the listed one

    first["baseline"].again = _read_run(
        tmp_path / "again", "baseline", {"t::ours": "passed", "t::theirs": "passed"}
    )
    first["extension"].again = _read_run(
        tmp_path / "again", "extension", {"t::ours": "failed", "t::theirs": "passed"}
    )
    baseline, extension = first["baseline"].outcomes(), first["extension"].outcomes()
    assert baseline["t::theirs"].outcome == "passed" and baseline["t::theirs"].flaky
    assert extension["t::theirs"].outcome == "passed" and extension["t::theirs"].flaky
    assert extension["t::ours"].outcome == "failed"  # failed twice with the extension: ours
    problems = compare_outcomes("jupyter_server", baseline, extension, read_known_failures())
    assert [p for p in problems if "t::" in p] == [
        "t::ours: passes without the extension, failed with it. Error: assert 1 == 0"
    ]


@pytest.mark.parametrize("suite", list(SUITES))
def test_upstream_suite_passes_with_the_extension(
    suite: str, upstream_runs: dict[str, dict[str, Run]]
) -> None:
    baseline, extension = upstream_runs[suite]["baseline"], upstream_runs[suite]["extension"]
    installed = f"{suite}=={version(SUITES[suite].distribution)}"
    header = (
        f"{installed}: {' '.join(SUITES[suite].paths)}; baseline {baseline.seconds:.0f} s, "
        f"with the extension {extension.seconds:.0f} s (logs: {baseline.log}, {extension.log})"
    )
    for run in (baseline, extension):
        if run.timed_out or not run.junit.exists():
            pytest.fail(
                f"{header}\nthe {run.mode} run "
                f"{'timed out' if run.timed_out else f'exited {run.returncode} without results'}"
                f":\n{run.tail()}"
            )
    base_outcomes, ext_outcomes = baseline.outcomes(), extension.outcomes()
    problems = compare_outcomes(suite, base_outcomes, ext_outcomes, read_known_failures())
    passed_in_both = {
        t for t, o in base_outcomes.items()
        if o.outcome == "passed" and ext_outcomes.get(t, Outcome("absent")).outcome == "passed"
    }  # fmt: skip
    problems += check_launches(
        SUITES[suite], baseline.launches(), extension.launches(), passed_in_both
    )
    problems += [
        f"left running by the run with the extension: {p}" for p in extension.all_leftovers()
    ]
    if baseline.all_leftovers():  # upstream's own: said, not failed on
        print(f"left running by the baseline run: {baseline.all_leftovers()}")
    for mode, outcomes in (("without", base_outcomes), ("with", ext_outcomes)):
        for nodeid, outcome in sorted(outcomes.items()):
            if outcome.flaky:
                print(
                    f"flaky {mode} the extension (passed the second time): {nodeid}: "
                    f"{_short(outcome.flaky)}"
                )
    counts = {
        mode: {
            outcome: sum(1 for o in outcomes.values() if o.outcome == outcome)
            for outcome in ("passed", "failed", "skipped")
        }
        for mode, outcomes in (("baseline", base_outcomes), ("extension", ext_outcomes))
    }
    print(f"{header}\n{counts}")
    assert not problems, f"{header}\n{counts}\n" + "\n".join(f"- {p}" for p in problems)
