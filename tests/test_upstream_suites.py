"""Jupyter Server's kernel and session API tests and jupyter_client's provisioning, kernel
manager and restarter tests, from their sdists at the installed versions, pass with this
extension as they pass without it.

Each suite runs twice, side by side and beside the rest of the suite (started once pytest has
collected the session: tests/support/upstream.py), in a subprocess from its extracted sdist (its
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

from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from support.upstream import (
    KNOWN_FAILURES,
    PROJECT,
    RUN_TIMEOUT,
    SUITES,
    UPSTREAM_RUNS,
    Outcome,
    Run,
    Suite,
    UpstreamUnavailable,
    begin_early,
    in_question,
    read_known_failures,
)

pytestmark = pytest.mark.timeout(RUN_TIMEOUT + 300)


@pytest.fixture(scope="module")
def upstream_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Run]]:
    """The runs begun when the session was collected (or now, when they were not)."""
    if UPSTREAM_RUNS not in request.config.stash:
        begin_early(request.config, tmp_path_factory.mktemp("upstream"))
    try:
        return request.config.stash[UPSTREAM_RUNS].results()
    except UpstreamUnavailable as error:
        pytest.fail(str(error))


# ---------------------------------------------------------------------------------------------
# reading the results


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
