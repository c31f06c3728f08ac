"""AliasEditor: set, move and remove a version's aliases from a notebook, through the server and
by the group's policy: an alias the group protects, moved by a member, becomes a request that
one of the group's admins approves (the sidebar's Requests tab, `%mlflow_group approve`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets

from ..client import ServerClient
from .common import NotSent, Panel, button, esc


class AliasEditor(Panel):
    def __init__(
        self, *, client: ServerClient | None = None, on_changed: Callable[[], Any] = lambda: None
    ) -> None:
        super().__init__(client)
        self.on_changed = on_changed
        self.group = self.model = self.version = ""
        self.alias = widgets.Text(description="Alias", placeholder="e.g. champion")
        self.reason = widgets.Text(description="Reason", placeholder="kept in the group's history")
        self.set_button = button("Set alias", lambda: self.attempt(self.set_alias), icon="tag")
        self.removals = widgets.HBox()
        self.outcome = widgets.HTML()
        self.children = [
            widgets.HBox([self.alias, self.reason, self.set_button]),
            self.removals,
            self.problem,
            self.outcome,
        ]

    def show(self, group: str, model: str, version: str, aliases: Sequence[str]) -> None:
        """Edit the aliases of `model` version `version` (a number), which has `aliases`."""
        self.group, self.model, self.version = group, model, version
        self.set_button.tooltip = f"Point the alias at version {version} (or move it here)"
        self.removals.children = [
            button(
                f"Remove @{alias}",
                lambda alias=alias: self.attempt(lambda: self.remove(alias)),
                icon="times",
            )
            for alias in aliases
        ]

    def set_alias(self) -> None:
        alias = self.alias.value.strip().removeprefix("@")
        if not alias:
            raise NotSent("Name the alias to set.", "For example champion or staging.")
        self._said(
            self.client.set_alias(self.group, self.model, alias, self.version, self.reason.value)
        )

    def remove(self, alias: str) -> None:
        self._said(self.client.remove_alias(self.group, self.model, alias, self.reason.value))

    def _said(self, answer: dict[str, Any]) -> None:
        record = answer.get("record") or answer.get("request") or {}
        what = _summary(record)
        if answer.get("applied"):
            self.outcome.value = f"<b>Done:</b> {esc(what)}."
            self.on_changed()
        else:
            self.outcome.value = (
                f"<b>Requested:</b> {esc(what)} waits for a group admin "
                f"(request {esc(record.get('id'))})."
            )


def _summary(record: dict[str, Any]) -> str:
    was = f" (was v{record['previous']})" if record.get("previous") else ""
    if record.get("action") == "remove":
        return f"remove @{record.get('alias')} of {record.get('model')}{was}"
    return f"point @{record.get('alias')} of {record.get('model')} at v{record.get('version')}{was}"
