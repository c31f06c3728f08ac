"""Secret references in binding values, and masking for anything shown to people.

A value may hold `${env:NAME}` or `${file:/abs/path}` references so that secrets live in the
server's environment or in mounted files, not in config files. `$${` writes a literal `${`.
References are resolved when a kernel starts, so a rotated secret file is picked up without a
restart of the server.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

_REFERENCE = re.compile(r"\$(\$?)\{(env|file):([^}]*)\}")

#: Variables whose values are safe to show in REST responses, widgets and logs.
#: Every other variable of a binding is treated as a secret and only reported as set.
PUBLIC_VARIABLES = frozenset(
    {
        "MLFLOW_TRACKING_USERNAME",
        "MLFLOW_TRACKING_INSECURE_TLS",
        "MLFLOW_TRACKING_SERVER_CERT_PATH",
        "MLFLOW_TRACKING_CLIENT_CERT_PATH",
        "MLFLOW_S3_ENDPOINT_URL",
        "MLFLOW_S3_IGNORE_TLS",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "MLFLOW_HTTP_REQUEST_TIMEOUT",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
    }
)


class SecretReferenceError(ValueError):
    """A `${env:...}` or `${file:...}` reference that cannot be resolved."""


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
        raise SecretReferenceError("${env:} names no environment variable")
    try:
        return os.environ[name]
    except KeyError:
        raise SecretReferenceError(
            f"${{env:{name}}}: the server's environment has no variable {name}"
        ) from None


def _read_file(path: str) -> str:
    target = Path(path).expanduser()
    if not target.is_absolute():
        raise SecretReferenceError(f"${{file:{path}}}: the path must be absolute")
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SecretReferenceError(f"${{file:{path}}}: no such file") from None
    except IsADirectoryError:
        raise SecretReferenceError(f"${{file:{path}}}: is a directory, not a file") from None
    except PermissionError:
        raise SecretReferenceError(f"${{file:{path}}}: the server may not read it") from None
    except UnicodeDecodeError:
        raise SecretReferenceError(f"${{file:{path}}}: is not UTF-8 text") from None
    # Secret files (Kubernetes secrets, `echo x > file`) usually end with one newline.
    return text.removesuffix("\n").removesuffix("\r")


def is_public(variable: str) -> bool:
    """Whether a variable's value may be shown (see PUBLIC_VARIABLES)."""
    return variable in PUBLIC_VARIABLES


def mask_uri(uri: str | None) -> str | None:
    """`uri` without the password of its user-info part (`https://u:***@host`)."""
    if not uri:
        return uri
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "***"
    if parts.password is None and "@" not in parts.netloc:
        return uri
    user_info, _, host = parts.netloc.rpartition("@")
    user = user_info.split(":", 1)[0]
    masked_netloc = f"{user}:***@{host}" if ":" in user_info else f"***@{host}"
    return urlunsplit(parts._replace(netloc=masked_netloc))


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value replaced by ***: for messages that come from elsewhere
    (a worker process, a library's exception) before anyone sees them."""
    for value in sorted(secrets, key=len, reverse=True):
        if len(value) >= 4 and value in text:
            text = text.replace(value, "***")
    return text
