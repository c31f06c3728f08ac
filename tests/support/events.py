"""Jupyter Server's event stream as JupyterLab receives it: the websocket at
/api/events/subscribe, authenticated with the server's token."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from jupyter_mlflow_groups.events import SCHEMA_ID

from .jupyter import JupyterClient


class EventStream:
    """The `changed` events of this extension a server emits, from when it was opened."""

    def __init__(self, connection: WebSocketClientConnection) -> None:
        self.connection = connection
        self.seen: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, server: JupyterClient) -> EventStream:
        url = f"ws{server.url.removeprefix('http')}/api/events/subscribe"
        request = HTTPRequest(url, headers={"Authorization": f"token {server.token}"})
        return cls(await websocket_connect(request))

    async def next(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = 30.0
    ) -> dict[str, Any]:
        """The first event (of ours, seen or still to come) that `match`es."""
        for event in self.seen:
            if match(event):
                return event
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching event in {timeout} s; seen: {self.seen}")
            try:
                raw = await asyncio.wait_for(self.connection.read_message(), left)
            except asyncio.TimeoutError:
                continue
            if raw is None:
                raise ConnectionError("the event stream closed")
            event = json.loads(raw)
            if event.get("schema_id") != SCHEMA_ID:
                continue
            self.seen.append(event)
            if match(event):
                return event

    def close(self) -> None:
        self.connection.close()
