"""Panels that update by themselves: while a panel is open, one thread per group waits for the
group's next changes through the API (`GET .../changes`, a long poll: kernels cannot join
Jupyter's event stream) and has the panels that care about them read again.

Panels are held weakly, and a closed panel (`panel.close()`, or its output cleared) stops
listening: the thread ends with the last one. It also ends when the server refuses the
kernel's token or cannot be reached for a while (it stopped); a panel's next read starts it
again.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Collection
from typing import Any

from .client import ApiFailure, NotConnected, ServerClient

WAIT = 25  # seconds each request waits for a change
PAUSE = 5.0  # seconds before asking again after a failure (the server restarting)
TRIES = 3  # failures in a row after which the server is taken to be gone

Redraw = Callable[[], Any]


class _GroupFeed:
    def __init__(self, client: ServerClient, group: str) -> None:
        self.client = client
        self.group = group
        self._listeners: list[tuple[weakref.WeakMethod[Redraw], frozenset[str]]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, redraw: Redraw, topics: Collection[str]) -> None:
        """Listen (once per panel), and make sure someone is waiting for changes."""
        listener = (weakref.WeakMethod(redraw), frozenset(topics))  # type: ignore[arg-type]
        with self._lock:
            if listener not in self._listeners:
                self._listeners.append(listener)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name=f"mlflow-groups changes of {self.group}", daemon=True
                )
                self._thread.start()

    def _alive(self) -> list[tuple[Redraw, frozenset[str]]]:
        """The listeners whose panel still exists (the others are forgotten)."""
        with self._lock:
            alive = [(ref, _open(ref()), topics) for ref, topics in self._listeners]
            self._listeners = [(ref, topics) for ref, method, topics in alive if method]
            if not self._listeners:
                self._thread = None  # the caller ends: a new listener starts another
            return [(method, topics) for _, method, topics in alive if method]

    def _run(self) -> None:
        after: int | None = None
        failures = 0
        while self._alive():
            try:
                answer = self.client.changes(self.group, after, WAIT if after is not None else 0)
            except (ApiFailure, NotConnected, ValueError) as error:
                failures += 1
                if getattr(error, "status", None) in (401, 403) or failures >= TRIES:
                    break  # the token is refused, or the server is gone: a new read restarts
                time.sleep(PAUSE)
                continue
            failures = 0
            if after is not None:
                topics = {change["topic"] for change in answer["changes"]}
                if answer["missed"] or topics:
                    self._notify(topics, everything=answer["missed"])
            after = answer["last"]
        with self._lock:
            if self._thread is threading.current_thread():
                self._thread = None

    def _notify(self, topics: set[str], everything: bool) -> None:
        for redraw, wanted in self._alive():
            if everything or wanted & topics:
                redraw()  # a panel's redraw shows its own failures (Panel.attempt)


def _open(redraw: Redraw | None) -> Redraw | None:
    """The redraw of a panel still shown: a closed widget has no comm any more."""
    panel = getattr(redraw, "__self__", None)
    return redraw if redraw is not None and getattr(panel, "comm", True) is not None else None


_feeds: dict[tuple[str, str], _GroupFeed] = {}
_feeds_lock = threading.Lock()


def follow(client: ServerClient, group: str, topics: Collection[str], redraw: Redraw) -> None:
    """Call `redraw` (a panel's bound method) when one of `topics` of `group` changes."""
    with _feeds_lock:
        feed = _feeds.setdefault((client.url, group), _GroupFeed(client, group))
    feed.add(redraw, topics)
