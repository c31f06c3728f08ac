"""Live updates: what changed in a group, as Jupyter Server events (`jupyter_events`), which
JupyterLab's event manager receives over Jupyter's own websocket, with its auth.

An event names the group and the kind of change only (event_schemas/changed/v1.yaml): Jupyter
Server sends every event to every subscriber of its stream, so what changed is read again
through the REST API, which checks membership.

Kernels cannot subscribe to that stream (their token is good for this extension's API only), so
the same changes are kept, numbered, for a while: a kernel's widgets wait for the next ones of
their group through the API (`GET .../changes?after=N&wait=S`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from jupyter_events import EventLogger

SCHEMA_ID = "https://events.jupyter.org/jupyter_mlflow_groups/changed/v1"
SCHEMA_FILE = Path(__file__).with_name("event_schemas") / "changed" / "v1.yaml"

Topic = Literal["models", "aliases", "deployments", "requests"]
Origin = Literal["jupyter", "webhook", "poll"]


KEPT = 1000  # the latest changes kept for kernels that wait for them
MAX_WAIT = 30.0  # seconds a kernel's request may wait for a change


@dataclass(frozen=True)
class Change:
    seq: int
    group: str
    topic: Topic
    origin: Origin

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class ChangeEvents:
    """Emits `changed` events once attached to the server's event logger (not before: the
    service also runs in command-line tools, which have none), and keeps the latest for the
    kernels."""

    def __init__(self, log: logging.Logger) -> None:
        self.log = log
        self._logger: EventLogger | None = None
        self._kept: deque[Change] = deque(maxlen=KEPT)
        self._last = 0
        self._waiting: set[asyncio.Future[None]] = set()
        self._closed = False

    def attach(self, logger: EventLogger) -> None:
        logger.register_event_schema(SCHEMA_FILE)
        self._logger = logger

    def emit(self, group: str, topic: Topic, origin: Origin = "jupyter") -> None:
        self._last += 1
        self._kept.append(Change(self._last, group, topic, origin))
        self._wake()
        if self._logger is None:
            return
        try:
            self._logger.emit(
                schema_id=SCHEMA_ID, data={"group": group, "topic": topic, "origin": origin}
            )
        except Exception:  # a listener's failure must not fail the change it reports
            self.log.exception("MLflow groups: could not emit a %s event of %s", topic, group)

    async def after(self, group: str, seq: int | None, wait: float) -> dict[str, Any]:
        """The group's changes numbered above `seq`, waiting up to `wait` seconds for one;
        `missed` when some may be gone (too many since, or the server restarted): read all
        again. Without `seq`: none, and the number to wait from."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(wait, 0.0), MAX_WAIT)
        while True:
            if seq is None:
                return {"group": group, "changes": [], "last": self._last, "missed": False}
            oldest = self._kept[0].seq if self._kept else self._last + 1
            missed = seq > self._last or seq < oldest - 1
            found = [c.to_json() for c in self._kept if c.seq > seq and c.group == group]
            left = deadline - loop.time()
            if found or missed or left <= 0 or self._closed:
                return {"group": group, "changes": found, "last": self._last, "missed": missed}
            arrived = loop.create_future()
            self._waiting.add(arrived)
            try:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(arrived, left)
            finally:
                self._waiting.discard(arrived)

    def close(self) -> None:
        """Let every waiting request answer now, and later ones at once (the server stops)."""
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        for arrived in list(self._waiting):
            if not arrived.done():
                arrived.set_result(None)
