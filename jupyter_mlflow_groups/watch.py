"""What changed in the user's groups that this server neither did nor heard of from a webhook:
promotion requests other members made on their own servers (for the groups the user is an
admin of: someone waits for their review), and, where the group's MLflow has no webhook to this
server, its registry's most recently changed models (versions registered, aliases moved in the
MLflow UI or by a plain client). Each check is one or two cheap calls per group, every
`interval` seconds; a difference becomes a live update (`changed`, origin `poll`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, MlflowError
from .events import Topic

#: The most recently changed models compared at each check (one page of MLflow's search).
WATCHED_MODELS = 100


@dataclass(frozen=True)
class Watched:
    """A group as the poller sees it: whether its requests and its registry are polled."""

    group: str
    requests: bool  # the user reviews its requests
    registry: bool  # no webhook tells this server of its registry's changes


#: What a check reads of a group: a value that differs when what it stands for changed.
Reading = Callable[[str], Awaitable[Any]]


class ChangePoller:
    def __init__(
        self,
        watched: Callable[[], list[Watched]],
        pending: Reading,
        registry: Reading,
        changed: Callable[[str, Topic], None],
        interval: float,
        log: logging.Logger,
    ) -> None:
        self.watched = watched
        self.readings: dict[Topic, Reading] = {"requests": pending, "models": registry}
        self.changed = changed
        self.interval = interval
        self.log = log
        self._last: dict[tuple[str, Topic], Any] = {}

    async def run(self) -> None:
        """Check, then wait `interval`, until cancelled (with the extension's stop)."""
        while True:
            try:
                await self.check()
            except Exception:  # a bad pass must not end watching: log it, look next time
                self.log.exception("MLflow groups: looking for changes failed this time")
            await asyncio.sleep(self.interval)

    async def check(self) -> list[tuple[str, Topic]]:
        """One pass: each watched group's readings against the last ones; what changed."""
        found: list[tuple[str, Topic]] = []
        for watched in self.watched():
            wanted = {"requests": watched.requests, "models": watched.registry}
            for topic, reading in self.readings.items():
                key = (watched.group, topic)
                if not wanted[topic]:
                    self._last.pop(key, None)
                    continue
                try:
                    now = await reading(watched.group)
                except (ApiError, MlflowError) as error:
                    self.log.debug("MLflow groups: cannot look at %s now: %s", key, error)
                    continue
                if key in self._last and self._last[key] != now:
                    found.append(key)
                    self.changed(*key)
                self._last[key] = now
        return found


def registry_reading(search: dict[str, Any]) -> Any:
    """What the sidebar shows of the most recently changed models, from MLflow's search answer:
    their names, update times, aliases and latest versions."""
    return [
        (
            model.get("name"),
            model.get("last_updated_timestamp"),
            sorted((a.get("alias"), a.get("version")) for a in model.get("aliases") or []),
            sorted(str(v.get("version")) for v in model.get("latest_versions") or []),
        )
        for model in search.get("registered_models") or []
    ]
