"""Where bindings come from: traitlets config and the bindings file, reloaded when it changes.

The file is re-read when its stat signature changes, so an admin's edit is picked up at the next
request or kernel start, without restarting the server. A file that no longer parses keeps the
last good version in force and the error is reported; a deleted file drops its groups.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .bindings import FILE_VARIABLE as FILE_ENVIRONMENT_VARIABLE
from .bindings import GroupBinding, parse_binding

#: With nothing configured, one managed group: MLflow works out of the box.
ZERO_CONFIG_GROUP = "default"
_TOP_LEVEL_KEYS = ("default_group", "groups")


@dataclass(frozen=True)
class BindingSet:
    """One consistent view of every configured group, valid or not, in config order."""

    groups: Mapping[str, GroupBinding] = field(default_factory=dict)
    default_group: str | None = None
    errors: tuple[str, ...] = ()  # problems of the config as a whole (file syntax, shape)

    def managed_variables(self) -> set[str]:
        """Every variable some binding sets: removed before any kernel gets its own."""
        names: set[str] = set()
        for binding in self.groups.values():
            names |= binding.variable_names()
        return names


@dataclass(frozen=True)
class _FileContents:
    groups: Mapping[str, GroupBinding]
    default_group: str | None


class BindingFileError(ValueError):
    """The bindings file as a whole cannot be used (syntax or shape)."""


class BindingStore:
    """Merges configured groups with the bindings file's (the file wins on a name clash)."""

    def __init__(
        self,
        configured_groups: Mapping[str, Any],
        configured_default: str | None,
        path: str | None,
        log: logging.Logger,
    ) -> None:
        self.path = Path(path).expanduser() if path else None
        self.log = log
        self._configured = _parse_groups(configured_groups)
        self._configured_default = configured_default or None
        self._lock = threading.Lock()
        self._signature: tuple[int, int, int] | None = None
        self._file: _FileContents | None = None
        self._file_error: str | None = None
        self._current: BindingSet | None = None

    def current(self) -> BindingSet:
        """The bindings in force now, re-reading the file first if it changed."""
        with self._lock:
            signature = self._stat()
            if self._current is None or signature != self._signature:
                self._signature = signature
                self._reload(signature is not None)
                self._current = self._merge()
                self._report(self._current)
            return self._current

    def _stat(self) -> tuple[int, int, int] | None:
        if self.path is None:
            return None
        try:
            info = self.path.stat()
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size, info.st_ino)

    def _reload(self, exists: bool) -> None:
        if self.path is None:
            return
        if not exists:
            self._file = None
            self._file_error = f"bindings file {self.path} does not exist or cannot be read"
            return
        try:
            self._file = _read_file(self.path)
            self._file_error = None
        except BindingFileError as error:
            kept = " (its last good version stays in force)" if self._file else ""
            self._file_error = f"bindings file {self.path}: {error}{kept}"

    def _merge(self) -> BindingSet:
        groups = dict(self._configured)
        default = self._configured_default
        if self._file is not None:
            for name in self._file.groups.keys() & groups.keys():
                self.log.warning(
                    "MLflow group '%s' is defined in the config and in %s: the file's wins",
                    name,
                    self.path,
                )
            groups.update(self._file.groups)
            default = self._file.default_group or default
        errors = (self._file_error,) if self._file_error else ()
        if not groups and not errors:
            groups = {ZERO_CONFIG_GROUP: GroupBinding(name=ZERO_CONFIG_GROUP, mode="managed")}
            default = ZERO_CONFIG_GROUP
        if default is not None and default not in groups:
            errors += (f"default_group '{default}' is not a configured group",)
            default = None
        return BindingSet(groups=groups, default_group=default, errors=errors)

    def _report(self, bindings: BindingSet) -> None:
        for error in bindings.errors:
            self.log.error("MLflow groups: %s", error)
        for binding in bindings.groups.values():
            for problem in binding.problems:
                self.log.warning("MLflow groups: %s", problem)
        valid = sum(binding.valid for binding in bindings.groups.values())
        self.log.info(
            "MLflow groups: %d group(s) bound, %d with problems",
            valid,
            len(bindings.groups) - valid,
        )


def _parse_groups(raw: Any) -> dict[str, GroupBinding]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise BindingFileError("'groups' must be a mapping of group names to bindings")
    return {str(name): parse_binding(str(name), value) for name, value in raw.items()}


def _read_file(path: Path) -> _FileContents:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BindingFileError(f"cannot be read ({error.__class__.__name__})") from None
    try:
        if path.suffix.lower() == ".json":
            document = json.loads(text) if text.strip() else None
        else:
            document = yaml.safe_load(text)
    except json.JSONDecodeError as error:
        raise BindingFileError(
            f"is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        reason = getattr(error, "problem", None) or "syntax error"
        raise BindingFileError(f"is not valid YAML{where}: {reason}") from None
    if document is None:
        return _FileContents(groups={}, default_group=None)
    if not isinstance(document, Mapping):
        raise BindingFileError("must hold a mapping with 'groups' (and optionally 'default_group')")
    unknown = [str(key) for key in document if key not in _TOP_LEVEL_KEYS]
    if unknown:
        raise BindingFileError(
            f"unknown top-level key(s) {', '.join(unknown)}: expected {', '.join(_TOP_LEVEL_KEYS)}"
        )
    default = document.get("default_group")
    if default is not None and not isinstance(default, str):
        raise BindingFileError("'default_group' must be a group name")
    return _FileContents(groups=_parse_groups(document.get("groups")), default_group=default)


def default_bindings_file() -> str:
    """The bindings file named by the environment, if any."""
    return os.environ.get(FILE_ENVIRONMENT_VARIABLE, "")
