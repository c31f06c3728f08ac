"""A short-lived cache of MLflow reads, with explicit refresh and in-flight coalescing.

Screens are read again and again (back, forward, two tabs); MLflow answers in tens of ms at
best and 400 ms behind basic-auth. Entries live a few seconds; identical reads that arrive while
one is in flight share its result instead of hitting MLflow again. Failures are never cached.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


class TtlCache:
    def __init__(self, ttl: float, max_entries: int = 2048) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._in_flight: dict[Hashable, asyncio.Future[Any]] = {}

    async def get(
        self, key: Hashable, fetch: Callable[[], Awaitable[Any]], refresh: bool = False
    ) -> Any:
        """The cached value of `key`, else what `fetch()` returns (then cached)."""
        if not refresh:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > time.monotonic():
                self._entries.move_to_end(key)
                return entry[1]
            pending = self._in_flight.get(key)
            if pending is not None:
                return await asyncio.shield(pending)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            value = await fetch()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        else:
            future.set_result(value)
            self._store(key, value)
            return value
        finally:
            if self._in_flight.get(key) is future:
                del self._in_flight[key]

    def invalidate(self, match: Callable[[Hashable], bool]) -> None:
        """Drop every entry whose key matches (e.g. after a deployment changed)."""
        for key in [key for key in self._entries if match(key)]:
            del self._entries[key]

    def _store(self, key: Hashable, value: Any) -> None:
        if self.ttl <= 0:
            return
        self._entries[key] = (time.monotonic() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
