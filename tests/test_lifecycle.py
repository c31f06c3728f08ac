"""The extension's life cycle, in process: lookups start nothing, a stop stops everything the
service started and waits for it, and after the stop nothing starts. Real managed MLflow
servers; the service is built as the server extension builds it, without a Jupyter server
around it, so that threads and open files of this process can be counted."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from pathlib import Path

import pytest
from support.leftovers import (
    eventually,
    files_open_under,
    lock_is_free,
    our_threads,
    processes_naming,
)

from jupyter_mlflow_groups.binding_store import BindingStore
from jupyter_mlflow_groups.errors import ApiError, MlflowError, Stopping
from jupyter_mlflow_groups.groups import ActiveGroupFile, ConfigMemberships, GroupResolver
from jupyter_mlflow_groups.service import MlflowGroupsService
from jupyter_mlflow_groups.settings import Settings
from jupyter_mlflow_groups.threads import owned_result

USER = "ann"


def service_for(tmp_path: Path, groups: dict) -> MlflowGroupsService:
    log = logging.getLogger("test_lifecycle")
    store = BindingStore(groups, None, None, log)
    active = ActiveGroupFile(tmp_path / "active_groups.json", log)
    resolver = GroupResolver(store, ConfigMemberships(), active)
    return MlflowGroupsService(
        store, resolver, Settings(user=USER, groups_root=tmp_path / "groups"), log
    )


async def test_lookups_start_nothing_an_explicit_switch_does(tmp_path):
    service = service_for(tmp_path, {"team": {"mode": "managed"}})
    root = tmp_path / "groups" / "team"
    try:
        listed = service.groups()
        assert [group["name"] for group in listed["groups"]] == ["team"]
        assert service.binding("team").mode == "managed"
        status = await service.status("team")
        assert (status["ok"], status["code"]) == (False, "stopped")
        assert "Switch to the group" in status["hint"]
        with pytest.raises(MlflowError, match="no MLflow server running"):
            service.connection("team")
        with pytest.raises(MlflowError, match="no MLflow server running"):
            service.proxy_upstream("team")
        assert service.managed.state("team") is None
        assert processes_naming(str(root)) == []

        service.set_active("team")  # explicit: the group the user works in from now on
        assert service.managed.state("team").state == "starting"
    finally:
        await service.close()
    assert service.managed.state("team").state == "stopped"
    assert processes_naming(str(root)) == []


async def test_a_newly_bound_group_starts_when_the_service_catches_up_not_on_a_lookup(tmp_path):
    """What applies to the user changed (here: the configured groups at start): the managed
    server starts then, as at the extension's start; asking again changes nothing."""
    service = service_for(tmp_path, {"team": {"mode": "managed"}})
    try:
        await service.bring_up_to_date()
        started = service.managed.state("team")
        assert started is not None and started.state in ("starting", "running")
        await service.bring_up_to_date()
        assert service.managed.state("team") is started
    finally:
        await service.close()


async def test_after_close_nothing_starts(tmp_path):
    service = service_for(tmp_path, {"team": {"mode": "managed"}, "other": {"mode": "managed"}})
    root = tmp_path / "groups"
    await service.startup()
    await service.close()

    with pytest.raises(Stopping, match="stopping") as refused:
        service.set_active("other")
    assert (refused.value.status, refused.value.code) == (503, "stopping")
    with pytest.raises(ApiError, match="stopping"):
        await service.deployments.deploy("team", "prod", "model", "1")
    await service.bring_up_to_date()  # a request arriving late: catches up, starts nothing
    env = dict(os.environ)
    assert service.apply_to_kernel_env(env, "late-kernel") == "team"  # a kernel still starts
    assert {state.state for state in service.managed._states.values()} == {"stopped"}
    assert processes_naming(str(root)) == []


@pytest.mark.parametrize("delay", [0.0, 0.0, 0.01, 0.05, 0.2, 1.0, "running"])
async def test_a_stop_at_any_moment_leaves_nothing_behind(tmp_path, delay):
    """As Jupyter does it: the start-up task is cancelled and awaited, then the service closed,
    at moments from before the supervisor took its lock to after the server answered."""
    before = our_threads()
    service = service_for(tmp_path, {"team": {"mode": "managed"}})
    root = tmp_path / "groups" / "team"
    startup = asyncio.ensure_future(service.startup())
    if delay == "running":
        assert await eventually(
            lambda: getattr(service.managed.state("team"), "state", "") == "running", 120
        )
    else:
        await asyncio.sleep(delay)
    startup.cancel()
    await asyncio.gather(startup, return_exceptions=True)
    await service.close()

    assert processes_naming(str(root)) == []
    assert lock_is_free(root / "server.lock")
    assert await eventually(lambda: not files_open_under(tmp_path)), files_open_under(tmp_path)
    assert our_threads() <= before


async def test_what_a_thread_acquires_after_its_caller_was_cancelled_is_released():
    """The server.lock leak: the awaiting task is cancelled while the thread still opens."""
    may_finish, released = threading.Event(), []

    def acquire() -> str:
        may_finish.wait(5)
        return "handle"

    task = asyncio.ensure_future(owned_result(acquire, released.append))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert released == []  # the thread has not acquired yet
    may_finish.set()
    assert await eventually(lambda: released == ["handle"])


async def test_what_a_thread_acquires_is_the_callers_when_not_cancelled():
    released = []
    assert await owned_result(lambda: "handle", released.append) == "handle"
    assert released == []
