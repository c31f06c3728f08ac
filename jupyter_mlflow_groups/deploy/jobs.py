"""A deployment job as the REST API shows it: state, bytes and files, rate and ETA."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..errors import HINTS
from .records import now

STATES = (
    "queued",
    "planning",
    "copying",
    "verifying",
    "swapping",
    "serving",
    "done",
    "failed",
    "cancelled",
)
FINISHED = ("done", "failed", "cancelled")
#: Where a cancel still works: before the switch-over begins (DeploymentManager.cancel).
CANCELLABLE = ("queued", "planning", "copying", "verifying")
_RATE_WINDOW = 3.0  # seconds of progress the rate is measured over


@dataclass
class Job:
    group: str
    deployment: str
    model: str
    requested: str
    created_by: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    state: str = "queued"
    version: str | None = None
    source: str | None = None
    bytes_done: int = 0
    bytes_total: int | None = None
    files_done: int = 0
    files_total: int | None = None
    rate_bytes_per_s: float | None = None
    eta_s: float | None = None
    error: dict[str, str] | None = None
    endpoint: str | None = None
    invocations_url: str | None = None
    created_at: str = field(default_factory=now)
    finished_at: str | None = None
    follow: bool = False  # the deployment follows `requested` (an @alias) from now on
    following: str | None = None  # started by the alias moving (to this version), not a person
    # not part of the API
    process: asyncio.subprocess.Process | None = field(default=None, repr=False)
    cancel_requested: bool = field(default=False, repr=False)
    _samples: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=64), repr=False)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def cancellable(self) -> bool:
        return self.state in CANCELLABLE

    def planned(self, version: str, source: str, files: int, total: int) -> None:
        self.version, self.source = version, source
        self.files_total, self.bytes_total = files, total
        self.state = "copying"
        self._samples.append((time.monotonic(), 0))

    def progressed(self, done: int, files: int) -> None:
        moment = time.monotonic()
        self.bytes_done, self.files_done = max(self.bytes_done, done), max(self.files_done, files)
        self._samples.append((moment, self.bytes_done))
        while len(self._samples) > 2 and moment - self._samples[0][0] > _RATE_WINDOW:
            self._samples.popleft()
        first_moment, first_bytes = self._samples[0]
        if moment - first_moment > 0.05:
            self.rate_bytes_per_s = (self.bytes_done - first_bytes) / (moment - first_moment)
        if self.rate_bytes_per_s and self.bytes_total is not None:
            self.eta_s = max(0.0, (self.bytes_total - self.bytes_done) / self.rate_bytes_per_s)

    def fail(self, code: str, message: str) -> None:
        self.state = "failed"
        self.error = {"code": code, "message": message}
        self.finished_at = now()

    def end(self, state: str) -> None:
        self.state = state
        self.finished_at = now()
        if state == "done":
            self.eta_s = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "group": self.group,
            "deployment": self.deployment,
            "model": self.model,
            "requested": self.requested,
            "version": self.version,
            "source": self.source,
            "state": self.state,
            "cancellable": self.cancellable,
            "bytes_done": self.bytes_done,
            "bytes_total": self.bytes_total,
            "files_done": self.files_done,
            "files_total": self.files_total,
            "rate_bytes_per_s": self.rate_bytes_per_s,
            "eta_s": self.eta_s,
            "error": self.error and {**self.error, "hint": HINTS.get(self.error["code"], "")},
            "endpoint": self.endpoint,
            "invocations_url": self.invocations_url,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "follow": self.follow,
            "followed": self.following is not None,
        }
