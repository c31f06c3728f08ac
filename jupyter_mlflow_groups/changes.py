"""Live updates in one place. Every change of a group is announced through `changed`: what was
read of the group is forgotten (the registry cache) and a `changed` event is emitted
(events.py). This server's own changes call it directly; changes made elsewhere arrive by the
group's registry webhook (webhooks.py) or are found by looking every `poll_interval` seconds
(watch.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from .bindings import GroupBinding
from .events import ChangeEvents, Origin, Topic
from .watch import WATCHED_MODELS, ChangePoller, Watched, registry_reading
from .webhooks import HOOKS_PATH, RegistryWebhooks

if TYPE_CHECKING:
    from .service import MlflowGroupsService

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class GroupChanges:
    def __init__(self, service: MlflowGroupsService, log: logging.Logger) -> None:
        self.service = service
        self.events = ChangeEvents(log)
        self.webhooks = RegistryWebhooks(service.registry, service.user, log)
        self.poller = ChangePoller(
            self._watched,
            self._pending_requests,
            self._latest_models,
            lambda group, topic: self.changed(group, topic, "poll"),
            service.settings.poll_interval,
            log,
        )
        self._polling: asyncio.Task[None] | None = None

    def changed(self, group: str, topic: Topic, origin: Origin = "jupyter") -> None:
        """Something of `group` changed: what was read of it is stale, and the frontends are
        told (they read it again)."""
        self.service.registry.invalidate(group)
        self.events.emit(group, topic, origin)

    # -- changes made elsewhere --------------------------------------------------------------------

    def call_back(self, binding: GroupBinding) -> None:
        """Ask the group's MLflow to call this server back on registry changes, when it can
        reach it (see webhooks.py)."""
        settings = self.service.settings
        if not settings.registry_webhooks:
            return
        base = settings.webhook_base_url
        if base is None and (binding.mode == "managed" or _on_this_machine(binding)):
            base = settings.server_url()
        if base is None or not binding.valid:
            return
        url = f"{base.rstrip('/')}/{HOOKS_PATH}/{quote(binding.name, safe='')}"
        self.webhooks.ensure(
            binding.name,
            url,
            lambda: self.service.writer(binding.name)[0],
            patient=binding.mode == "managed",
        )

    def delivered(self, group: str, headers: Mapping[str, str], body: bytes) -> None:
        """A webhook delivery (401 unless MLflow signed it): forget what was read, tell the
        frontends, and let following deployments look at their aliases now."""
        delivery = self.webhooks.verify(group, headers, body)
        moved = delivery.get("entity") == "model_version_alias"
        self.changed(group, "aliases" if moved else "models", "webhook")
        if moved:
            self.service.deployments.follower.wake()

    def start(self) -> None:
        """Look for others' changes from now on (every poll_interval; none when 0)."""
        if self.service.settings.poll_interval > 0 and self._polling is None:
            self._polling = asyncio.get_running_loop().create_task(self.poller.run())

    async def close(self) -> None:
        """Stop looking, remove the webhooks (while the managed servers still answer) and let
        kernels waiting for changes go."""
        if self._polling is not None:
            self._polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._polling
        await self.webhooks.close()
        self.events.close()

    # -- what the poller reads ---------------------------------------------------------------------

    def _watched(self) -> list[Watched]:
        """The user's usable groups: requests looked at where the user reviews them, the
        registry where no webhook calls back."""
        bindings = self.service.store.latest()
        user = self.service.user
        return [
            Watched(
                name,
                requests=user in bindings.groups[name].admins,
                registry=not self.webhooks.active(name),
            )
            for name in self.service.resolver.groups_of(user, bindings)
            if bindings.groups[name].valid
        ]

    async def _pending_requests(self, group: str) -> list[str]:
        pending = await self.service.promotions.requests(group, everything=False)
        return [record["id"] for record in pending["requests"]]

    async def _latest_models(self, group: str) -> Any:
        query = {"max_results": WATCHED_MODELS, "order_by": ["last_updated_timestamp DESC"]}
        search = await self.service.registry.call(
            self.service.connection(group), "GET", "/registered-models/search", query
        )
        return registry_reading(search)


def _on_this_machine(binding: GroupBinding) -> bool:
    return urlsplit(binding.tracking_uri or "").hostname in LOOPBACK_HOSTS
