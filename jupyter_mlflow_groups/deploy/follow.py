"""Deployments that follow an alias: when `@champion` moves (by anyone, anywhere: the MLflow UI,
`MlflowClient`, our sidebar), the deployment redeploys the version it now names by itself:
copy, verify, swap, recorded as "followed @champion from v3 to v4".

Moves are found by polling: every `interval` seconds, one cheap MLflow call (the alias) per
followed model and alias of each of the user's groups; at once when a group's registry webhook
says an alias moved (`wake`). A follow that fails leaves the previous
version serving (as every deployment job does) and says why in the deployment's record; that
version is not tried again until the alias moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ..errors import ApiError, MlflowError

if TYPE_CHECKING:
    from .jobs import Job
    from .manager import DeploymentManager

#: `(group, model, alias)` -> the version the alias names now (None: it names none).
AliasVersion = Callable[[str, str, str], Awaitable[str | None]]


class AliasFollower:
    def __init__(
        self,
        manager: DeploymentManager,
        alias_version: AliasVersion,
        interval: float,
        log: logging.Logger,
    ) -> None:
        self.manager = manager
        self.alias_version = alias_version
        self.interval = interval
        self.log = log
        #: each deployment's last follow: the version it went for, and its job
        self._jobs: dict[tuple[str, str], tuple[str, Job]] = {}
        self._failed: dict[tuple[str, str], str] = {}  # the version a follow failed to serve
        self._woken = asyncio.Event()

    def wake(self) -> None:
        """Check now, not at the end of the interval (an alias moved)."""
        self._woken.set()

    async def run(self) -> None:
        """Check, then wait `interval` or a wake-up, until cancelled (with the extension's
        stop)."""
        while True:
            self._woken.clear()
            try:
                await self.check()
            except Exception:  # a bad pass must not end following: log it, try next time
                self.log.exception("MLflow groups: following aliases failed this time")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self.interval)

    async def check(self) -> list[Job]:
        """One pass: a deployment job for each followed deployment whose alias moved."""
        started: list[Job] = []
        targets: dict[tuple[str, str, str], str | None] = {}
        for group, record in await self.manager.followed():
            key = (group, record.name)
            self._note_outcome(key)
            alias = record.requested.removeprefix("@")
            where = (group, record.model, alias)
            if where not in targets:
                try:
                    targets[where] = await self.alias_version(*where)
                except (ApiError, MlflowError) as error:
                    self.log.warning(
                        "MLflow groups: cannot read @%s of %s in group %s: %s",
                        alias, record.model, group, error,
                    )  # fmt: skip
                    targets[where] = record.version  # unknown: leave it as it is
            target = targets[where]
            if target is None or target == record.version:
                self._failed.pop(key, None)
                continue
            if self._failed.get(key) == target or key in self.manager.busy_deployments():
                continue
            job = await self.manager.deploy(
                group, record.name, record.model, record.requested, follow=True, following=target
            )
            self._jobs[key] = (target, job)
            self._failed.pop(key, None)
            self.log.info(
                "MLflow groups: %s/%s follows %s of %s from v%s to v%s (job %s)",
                group, record.name, record.requested, record.model, record.version, target, job.id,
            )  # fmt: skip
            started.append(job)
        return started

    def _note_outcome(self, key: tuple[str, str]) -> None:
        """A follow that failed: its version is not tried again until the alias moves on."""
        target, job = self._jobs.get(key, (None, None))
        if target is not None and job is not None and job.finished:
            del self._jobs[key]
            if job.state == "failed":
                self._failed[key] = target
