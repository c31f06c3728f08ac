"""Secret references in binding values, and masking for anything shown to people.

A value may hold `${env:NAME}` or `${file:/abs/path}` references so that secrets live in the
server's environment or in mounted files, not in config files. `$${` writes a literal `${`.
References are resolved when a kernel starts, so a rotated secret file is picked up without a
restart of the server.
Secret files are read as trusted_files.py reads every file an admin names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from .contract import PUBLIC_VARIABLES
from .trusted_files import FileRefused, read_trusted_file

_REFERENCE = re.compile(r"\$(\$?)\{(env|file):([^}]*)\}")
#: Largest secret file read: secrets are passwords, tokens and keys, not megabytes.
MAX_SECRET_BYTES = 64 * 1024


class SecretReferenceError(ValueError):
    """A `${env:...}` or `${file:...}` reference that cannot be resolved. The message names the
    reference and what to do, never a secret's value."""


def resolve(value: str) -> str:
    """Replace every reference in `value` by what it points at; `$${` stays a literal `${`."""

    def substitute(match: re.Match[str]) -> str:
        escaped, kind, target = match.groups()
        if escaped:
            return match.group(0)[1:]
        if kind == "env":
            return _read_env(target)
        return _read_file(target)

    return _REFERENCE.sub(substitute, value)


def _read_env(name: str) -> str:
    if not name:
        raise SecretReferenceError("${env:} names no environment variable: write ${env:NAME}")
    try:
        return os.environ[name]
    except KeyError:
        raise SecretReferenceError(
            f"${{env:{name}}}: the server's environment has no variable {name}: set it where the "
            "server starts (then restart it), or change the reference"
        ) from None


def _read_file(path: str) -> str:
    reference = f"${{file:{path}}}"
    target = Path(path).expanduser()
    if not target.is_absolute():
        raise SecretReferenceError(
            f"{reference}: the path must be absolute: write ${{file:/absolute/path}}"
        )
    try:
        data = read_trusted_file(str(target), MAX_SECRET_BYTES)
    except FileRefused as error:
        raise SecretReferenceError(f"{reference}: {error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretReferenceError(
            f"{reference}: is not UTF-8 text: is it the right file?"
        ) from None
    # Secret files (Kubernetes secrets, `echo x > file`) usually end with one newline.
    return text.removesuffix("\n").removesuffix("\r")


def is_public(variable: str) -> bool:
    """Whether a variable's value may be shown (see PUBLIC_VARIABLES)."""
    return variable in PUBLIC_VARIABLES


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value replaced by ***: for messages that come from elsewhere
    (a worker process, a library's exception) before anyone sees them."""
    for value in sorted(secrets, key=len, reverse=True):
        if len(value) >= 4 and value in text:
            text = text.replace(value, "***")
    return text


def referenced_variables(value: str) -> set[str]:
    """The environment variables `value` refers to (`${env:NAME}`; `$${` is no reference)."""
    return {
        target
        for escaped, kind, target in _REFERENCE.findall(value)
        if not escaped and kind == "env" and target
    }


def has_references(value: str) -> bool:
    """Whether `value` holds a reference (what it resolves to may be a secret)."""
    return any(not escaped for escaped, _, _ in _REFERENCE.findall(value))


def resolved_references(value: str) -> list[str]:
    """What each reference in `value` resolves to now (unresolvable ones left out): whatever
    it is, it may be a secret, so messages from elsewhere are redacted of it."""
    found = []
    for match in _REFERENCE.finditer(value):
        if not match.group(1):
            try:
                found.append(resolve(match.group(0)))
            except SecretReferenceError:
                continue
    return found
