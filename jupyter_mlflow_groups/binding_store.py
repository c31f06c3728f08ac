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
#: Limits far above any real bindings file, so a hostile or broken one is refused quickly and
#: without eating memory: its size, how deep it nests, how many values it holds once YAML
#: aliases are expanded (a "billion laughs" file is a few hundred bytes).
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 32
MAX_VALUES = 200_000


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


class _StrictYamlLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing duplicate keys (YAML would keep the last silently) and
    nesting deeper than MAX_DEPTH (PyYAML recurses, and crawls, on deep nesting)."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nests deeper than {MAX_DEPTH} levels", self.peek_event().start_mark
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue  # an unhashable key: the safe loader itself refuses it
            key = self.construct_object(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise BindingFileError(f"has duplicate key(s) {', '.join(map(repr, duplicates))}")
    return dict(pairs)


def _check_expansion(document: Any) -> None:
    """Count values as code walking the document would meet them (shared YAML aliases once per
    use), stopping at MAX_VALUES: an alias bomb is refused before anything expands it."""
    pending, count = [document], 0
    while pending:
        value = pending.pop()
        count += 1
        if count > MAX_VALUES:
            raise BindingFileError(
                f"holds more than {MAX_VALUES:,} values once YAML aliases are expanded "
                "(an alias bomb?)"
            )
        if isinstance(value, Mapping):
            pending += [*value.keys(), *value.values()]
        elif isinstance(value, list):
            pending += value


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise BindingFileError(f"cannot be read ({error.__class__.__name__})") from None
    if len(data) > MAX_FILE_BYTES:
        raise BindingFileError(f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BindingFileError(
            f"is not UTF-8 text (byte {error.start}): is it the right file?"
        ) from None


def _read_file(path: Path) -> _FileContents:
    text = _read_text(path)
    try:
        if path.suffix.lower() == ".json":
            document = json.loads(text, object_pairs_hook=_unique_keys) if text.strip() else None
        else:
            document = yaml.load(text, Loader=_StrictYamlLoader)  # a SafeLoader
    except RecursionError:
        raise BindingFileError(f"nests deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as error:
        raise BindingFileError(
            f"is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        reason = getattr(error, "problem", None) or "syntax error"
        raise BindingFileError(f"is not valid YAML{where}: {reason}") from None
    _check_expansion(document)
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
