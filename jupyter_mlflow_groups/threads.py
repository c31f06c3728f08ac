"""Blocking calls that acquire something (an open file, a lock), run off the event loop.

`asyncio.to_thread` leaves its thread running when the awaiting task is cancelled (a Jupyter
server stopping moments after it started): whatever the call then acquires would be dropped,
still open. `owned_result` hands it to its release function instead, in the thread itself, so
this holds even when the event loop is already gone.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def owned_result(acquire: Callable[[], T], release: Callable[[T], None]) -> T:
    """`await asyncio.to_thread(acquire)`; if the awaiting task is cancelled, what `acquire`
    returns (now or later) is released, never left to the garbage collector."""
    guard = threading.Lock()
    abandoned = False
    delivered: list[T] = []

    def call() -> T:
        value = acquire()
        with guard:
            if abandoned:
                release(value)
            else:
                delivered.append(value)
        return value

    try:
        return await asyncio.to_thread(call)
    except asyncio.CancelledError:
        with guard:
            abandoned = True
            for value in delivered:  # acquired, but the task was cancelled before it resumed
                release(value)
        raise
