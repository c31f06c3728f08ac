"""Stop means stop: Jupyter servers started and stopped quickly, many times, in this process (as
an embedded server or Jupyter's own test suites run them), each with the extension enabled as
`pip install` enables it. After every stop nothing of ours survives: no process started by this
one, no thread, no file open under the server's state folder, no lock held, and nothing starts
later either.

Real parts throughout: Jupyter Server's `ServerApp` (initialized and cleaned up as
pytest-jupyter does it), managed MLflow servers, a real MLflow for the copy, and the copy worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jupyter_server.serverapp import ServerApp
from support.deploying import register_version
from support.extension import service_of
from support.leftovers import descendants, eventually, files_open_under, lock_is_free, our_threads
from support.servers import MlflowServer, ThrottledProxy
from traitlets.config import Config

from jupyter_mlflow_groups.contract import EXTENSION_NAME

#: How long after a stop a late start would have shown itself (the bug this guards against
#: started a managed server a second or more after the stop, from a task nobody cancelled).
LATE_START_WINDOW = 2.0

Pause = Callable[[ServerApp, Path], Awaitable[None]]


def after(seconds: float) -> Pause:
    async def pause(app: ServerApp, state: Path) -> None:
        await asyncio.sleep(seconds)

    return pause


async def managed_running(app: ServerApp, state: Path) -> None:
    """Until the zero-config group's managed MLflow answers."""
    managed = service_of(app).managed
    running = await eventually(
        lambda: getattr(managed.state("default"), "state", "") == "running", 180
    )
    assert running, managed.state("default")


def start_server(root: Path, bindings: dict | None, **settings: Any) -> ServerApp:
    """A Jupyter server with the extension, its state under `root`; no HTTP server (the
    extension's life cycle does not depend on one)."""
    state = root / "state"
    extension: dict[str, Any] = {"state_dir": str(state), "user": "ann", **settings}
    if bindings is not None:
        path = root / "bindings.yaml"
        path.write_text(yaml.safe_dump(bindings), encoding="utf-8")
        extension["bindings_file"] = str(path)
    config = Config(
        {
            "ServerApp": {"jpserver_extensions": {EXTENSION_NAME: True}},
            "MlflowGroupsApp": extension,
        }
    )
    ServerApp.clear_instance()
    app = ServerApp.instance(config=config, root_dir=str(root), open_browser=False, allow_root=True)
    app.init_signal = lambda: None  # type: ignore[method-assign]  # the test process's signals
    app.initialize(argv=[], new_httpserver=False)
    app.start_app()
    return app


async def stop_server(app: ServerApp) -> None:
    """What Jupyter runs on stop (pytest-jupyter stops its servers the same way)."""
    await app._cleanup()
    ServerApp.clear_instance()


async def start_and_stop(root: Path, bindings: dict | None, pause: Pause) -> list[str]:
    """One start and stop; what survived it."""
    root.mkdir()
    processes_before, threads_before = descendants(), our_threads()
    app = start_server(root, bindings)
    try:
        await pause(app, root / "state")
    finally:
        await stop_server(app)
    return await leftovers(root / "state", processes_before, threads_before)


async def leftovers(state: Path, processes_before: dict, threads_before: set[str]) -> list[str]:
    problems: list[str] = []
    await eventually(lambda: not files_open_under(state))  # threads of cancelled calls finish
    problems += [f"open: {path}" for path in files_open_under(state)]
    await eventually(lambda: our_threads() <= threads_before)  # a child's waitpid thread ends
    problems += [f"thread: {name}" for name in our_threads() - threads_before]
    problems += [f"lock held: {lock}" for lock in state.rglob("*.lock") if not lock_is_free(lock)]
    await asyncio.sleep(LATE_START_WINDOW)
    problems += [
        f"process {pid}: {command}"
        for pid, command in descendants().items()
        if pid not in processes_before
    ]
    return problems


SCENARIOS = {
    # the zero-config default: a managed group, stopped before, while and after its start
    "managed default, at once": (None, after(0)),
    "managed default, 10 ms": (None, after(0.01)),
    "managed default, 100 ms": (None, after(0.1)),
    "managed default, 500 ms": (None, after(0.5)),
    "managed default, 2 s": (None, after(2)),
    "managed default, running": (None, managed_running),
    "two managed groups, 300 ms": (
        {"groups": {"default": {"mode": "managed"}, "other": {"mode": "managed"}}},
        after(0.3),
    ),
    "an external group only, at once": (
        {"groups": {"team": {"tracking_uri": "http://127.0.0.1:9"}}},
        after(0),
    ),
    "an external group only, 300 ms": (
        {"groups": {"team": {"tracking_uri": "http://127.0.0.1:9"}}},
        after(0.3),
    ),
    "an empty bindings file": ({"groups": {}}, after(0.1)),
}


async def test_quick_starts_and_stops_leave_nothing_behind(jp_environ, tmp_path: Path) -> None:
    """Each scenario twice in a row, as a restarting or embedded server would."""
    problems = {}
    for index, (name, (bindings, pause)) in enumerate(list(SCENARIOS.items()) * 2):
        found = await start_and_stop(tmp_path / f"run-{index}", bindings, pause)
        if found:
            problems[f"{index}: {name}"] = found
    assert problems == {}


@pytest.fixture
def slow_link(deploy_server: MlflowServer):
    """The deploy server behind a slow link: a copy takes seconds, so a stop lands in it."""
    link = ThrottledProxy(int(deploy_server.url.rsplit(":", 1)[1]), bytes_per_second=5_000_000)
    yield link
    link.close()


@pytest.mark.parametrize("moment", ["copying", "queued behind a copy"])
async def test_a_stop_during_a_copy_leaves_nothing_behind(
    moment: str, jp_environ, deploy_server, slow_link, sklearn_model, tmp_path
) -> None:
    model_dir, _, _ = sklearn_model
    version, _ = register_version(
        deploy_server, "stopped-mid-copy", model_dir, {"weights.bin": b"w" * 40_000_000}
    )
    bindings = {"groups": {"team": {"tracking_uri": slow_link.url}}}
    state = tmp_path / "state"
    processes_before, threads_before = descendants(), our_threads()
    app = start_server(tmp_path, bindings, max_copies=1)
    deployments = service_of(app).deployments
    try:
        first = await deployments.deploy("team", "first", "stopped-mid-copy", version)
        jobs = [first]
        if moment == "queued behind a copy":
            jobs.append(await deployments.deploy("team", "second", "stopped-mid-copy", version))
        copying = await eventually(lambda: first.state == "copying" and first.bytes_done > 0, 60)
        assert copying, first.state
        assert jobs[-1].state == ("copying" if len(jobs) == 1 else "queued")
    finally:
        await stop_server(app)
    assert [job.state for job in jobs if job.state == "done"] == []
    assert list((state / "groups" / "team" / "deployments").glob("*/current")) == [], (
        "a stopped copy must not become a deployment"
    )
    assert await leftovers(state, processes_before, threads_before) == []
