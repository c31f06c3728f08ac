"""Bindings files as an administrator writes them: replaced atomically, so a server never reads
half a file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml


class BindingsFile:
    """The bindings file a test's server reads; `write` replaces it atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, document: dict[str, Any] | str) -> None:
        text = (
            document
            if isinstance(document, str)
            else yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
        )
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.path)


class EditableBindings(BindingsFile):
    """A bindings file of `groups` (team-a the default) that tests add groups to and remove
    groups from while a server reads it."""

    def __init__(self, path: Path, groups: dict[str, dict]) -> None:
        super().__init__(path)
        self.groups = groups
        self.save()

    def save(self) -> None:
        self.write({"default_group": "team-a", "groups": self.groups})

    def add(self, name: str, binding: dict) -> None:
        self.groups[name] = binding
        self.save()

    def remove(self, name: str) -> None:
        self.groups.pop(name, None)
        self.save()
