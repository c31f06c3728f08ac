"""Where bindings come from: traitlets config and the bindings file, reloaded when it changes.

The file is re-read when its stat signature changes, so an admin's edit is picked up at the next
request or kernel start, without restarting the server. A file that no longer parses, or that
another user could have changed (as ssh's StrictModes), keeps the last good version in force and
the error is reported; a deleted file drops its groups. The file is read outside the store's lock
and each access is bounded in time, so a hung file stalls no other request for long.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .bindings import GroupBinding, parse_binding
from .contract import FILE_VARIABLE as FILE_ENVIRONMENT_VARIABLE
from .trusted_files import FileNotAnswering, FileRefused, bounded_call, read_trusted_file

#: With nothing configured, one managed group: MLflow works out of the box.
ZERO_CONFIG_GROUP = "default"
_TOP_LEVEL_KEYS = ("default_group", "groups")
#: Limits far above any real bindings file, so a hostile or broken one is refused quickly and
#: without eating memory: its size, how deep it nests, how many values it holds once YAML
#: aliases are expanded (a "billion laughs" file is a few hundred bytes).
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 32
MAX_VALUES = 200_000
#: A version of the bindings file: its stat and the owner and mode of each directory above it
#: (see _signature_of); None when it does not exist; a str when it did not answer (why): never
#: equal to a stat, so the file is tried again at the next call.
_Signature = tuple[int, ...] | str | None


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
    """The bindings file as a whole cannot be used (syntax, shape, or not to be trusted)."""


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
        self._lock = threading.Lock()  # guards the state below; never held while reading
        self._signature: _Signature = None
        self._file: _FileContents | None = None
        self._file_error: str | None = None
        self._current: BindingSet | None = None

    def current(self) -> BindingSet:
        """The bindings in force now, re-reading the file first if it changed. Blocking but
        bounded (each file access waits at most trusted_files.READ_TIMEOUT): for the CLI and
        threads; code on the event loop awaits refresh()."""
        signature = self._signature_now()
        with self._lock:
            if self._current is not None and signature == self._signature:
                return self._current
        signature, loaded = self._load(signature)  # outside the lock: others are not held up
        with self._lock:
            if self._current is None or signature != self._signature:
                self._current = self._apply(signature, loaded)
            return self._current

    async def refresh(self) -> BindingSet:
        """current() without blocking the event loop: the file is checked (and read, when it
        changed) in a thread. Requests and kernel starts call it once, then use latest()."""
        return await asyncio.to_thread(self.current)

    def latest(self) -> BindingSet:
        """The bindings as last loaded (by refresh() or current()), without touching the file:
        for the rest of a request, which must not stat the file again and again."""
        return self._current if self._current is not None else self.current()

    def _signature_now(self) -> _Signature:
        if self.path is None:
            return None
        try:
            return bounded_call(_signature_of, str(self.path))
        except OSError:
            return None
        except FileNotAnswering as error:
            return str(error)

    def _load(
        self, signature: _Signature
    ) -> tuple[_Signature, _FileContents | BindingFileError | None]:
        """The file's groups, or why it cannot be used (None: there is no file), and the signature
        to record for them (the reason, when the file did not answer: to try again)."""
        if self.path is None or signature is None:
            return signature, None
        if isinstance(signature, str):
            return signature, BindingFileError(signature)
        try:
            return signature, _read_file(self.path)
        except FileNotAnswering as error:
            return str(error), BindingFileError(str(error))
        except BindingFileError as error:
            return signature, error

    def _apply(
        self, signature: _Signature, loaded: _FileContents | BindingFileError | None
    ) -> BindingSet:
        self._signature = signature
        if isinstance(loaded, BindingFileError):
            kept = " (its last good version stays in force)" if self._file else ""
            self._file_error = f"bindings file {self.path}: {loaded}{kept}"
        elif self.path is not None:
            self._file = loaded
            self._file_error = (
                None if loaded else f"bindings file {self.path} does not exist or cannot be read"
            )
        bindings = self._merge()
        self._report(bindings)
        return bindings

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


def _signature_of(path: str) -> tuple[int, ...]:
    """The file's stat, and the owner and mode of each directory above it: the chmod or chown that
    fixes a refused file or directory changes it, so the file is read again."""
    info = os.stat(path)
    parents = [os.stat(parent) for parent in Path(os.path.realpath(path)).parents]
    return (
        info.st_ino,
        info.st_mtime_ns,
        info.st_ctime_ns,  # changes with the file's own owner and mode
        info.st_size,
        *(value for parent in parents for value in (parent.st_uid, parent.st_mode)),
    )


def _read_text(path: Path) -> str:
    try:
        data = read_trusted_file(str(path), MAX_FILE_BYTES)
    except FileNotAnswering:
        raise  # not the file's fault: tried again at the next call
    except FileRefused as error:
        raise BindingFileError(str(error)) from None
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
