"""What the service and its parts are tuned by, in one object: the server extension's traitlets
(read once, at start) and what only the Jupyter server knows (its URL for kernels, its token,
its base URL). Parts take the one object instead of a chain of scalars."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .links import Links


@dataclass(frozen=True)
class Settings:
    user: str  # the server's owner: whose groups apply to its kernels
    groups_root: Path  # where each group's files live unless its binding says otherwise
    status_timeout: float = 5.0
    request_timeout: float = 30.0  # a registry read, and each MLflow call of a copy
    cache_ttl: float = 10.0
    preview_max_bytes: int = 2 * 1024 * 1024  # the largest artifact a preview reads
    copy_threads: int = 16
    max_copies: int = 4
    serve_timeout: float = 180.0
    follow_interval: float = 30.0  # seconds between checks of followed aliases (0: never)
    poll_interval: float = 30.0  # seconds between looks for others' changes (0: never)
    #: where the groups' MLflow servers reach this server, for registry webhooks (None: only
    #: groups whose MLflow runs on this machine call back, at `server_url`)
    webhook_base_url: str | None = None
    registry_webhooks: bool = True  # ask groups' MLflow servers to call back at all
    links: Links = field(default_factory=lambda: Links("/"))
    #: how kernels on this machine reach the server's API (None: they cannot, over HTTP);
    #: a callable, read at each kernel start, because the port is only final once bound
    server_url: Callable[[], str | None] = lambda: None
    #: Jupyter's own tokens, which no kernel may inherit
    server_tokens: Callable[[], list[str]] = list
