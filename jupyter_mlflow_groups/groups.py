"""Who is in which group, and which group is a user's active one.

Memberships come from a `MembershipSource`: the bindings' `members` lists here, or the Hub
(hub.py) when the server runs under JupyterHub. The active group is remembered per user in
a small JSON file, so it survives a server restart.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Protocol

from .binding_store import BindingSet, BindingStore
from .bindings import GroupBinding
from .errors import ApiError


class GroupAccessError(ApiError):
    """A group that does not exist (404) or that the user is not in (403)."""


class MembershipSource(Protocol):
    """Answers which of the configured groups a user belongs to."""

    problem: str | None  # why memberships may be out of date, if they may be

    def groups_of(self, user: str, bindings: BindingSet) -> list[str]: ...

    async def refresh(self, *, force: bool = False) -> None: ...


class ConfigMemberships:
    """Memberships from the bindings: a group without `members` is open to everyone."""

    problem = None

    def groups_of(self, user: str, bindings: BindingSet) -> list[str]:
        return [name for name, binding in bindings.groups.items() if binding.admits(user)]

    async def refresh(self, *, force: bool = False) -> None:
        """Nothing to fetch: the bindings are the memberships."""


class ActiveGroupFile:
    """`{user: group}` in a JSON file, written atomically, read once and then kept in memory."""

    def __init__(self, path: Path, log: logging.Logger) -> None:
        self.path = path
        self.log = log
        self._lock = threading.Lock()
        self._choices = self._read()

    def get(self, user: str) -> str | None:
        return self._choices.get(user)

    def set(self, user: str, group: str) -> None:
        with self._lock:
            choices = {**self._read(), user: group}  # keep other servers' users' choices
            self._write(choices)
            self._choices = choices

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            self.log.warning(
                "MLflow groups: ignoring unreadable state file %s: %s", self.path, error
            )
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(user): group for user, group in data.items() if isinstance(group, str)}

    def _write(self, choices: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".active-")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(choices, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


class GroupResolver:
    """Resolves a user's groups and active group against the bindings in force."""

    def __init__(
        self, store: BindingStore, memberships: MembershipSource, active: ActiveGroupFile
    ) -> None:
        self.store = store
        self.memberships = memberships
        self.active = active

    def groups_of(self, user: str, bindings: BindingSet | None = None) -> list[str]:
        bindings = bindings or self.store.latest()
        return self.memberships.groups_of(user, bindings)

    def active_group(self, user: str, bindings: BindingSet | None = None) -> str | None:
        """The user's choice if still allowed, else the default group, else their first."""
        bindings = bindings or self.store.latest()
        mine = self.groups_of(user, bindings)
        for candidate in (self.active.get(user), bindings.default_group):
            if candidate in mine:
                return candidate
        return mine[0] if mine else None

    def binding(self, user: str, group: str, bindings: BindingSet | None = None) -> GroupBinding:
        """The binding of a group the user is in; GroupAccessError otherwise."""
        bindings = bindings or self.store.latest()
        if group not in bindings.groups:
            raise GroupAccessError(404, "not_found", f"There is no MLflow group named '{group}'.")
        if group not in self.groups_of(user, bindings):
            raise GroupAccessError(
                403,
                "forbidden",
                f"You ({user}) are not a member of the group '{group}': ask its admin to add you.",
            )
        return bindings.groups[group]

    def set_active(self, user: str, group: str) -> GroupBinding:
        binding = self.binding(user, group)
        self.active.set(user, group)
        return binding
