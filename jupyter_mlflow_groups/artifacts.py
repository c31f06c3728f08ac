"""A run's artifacts, one directory level at a time, and previews of the files people look at to
decide (images, text, JSON, small tables), read through the group's MLflow tracking server.

What a preview is served as is decided here, from the file's extension, never from the store:
images as their image type (never SVG, which can carry script: it is shown as text), everything
else as plain text. Paths are checked before MLflow is asked; a file is read only up to the
preview limit (stopping as soon as more arrives).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .errors import ApiError, MlflowError
from .links import ui_page
from .mlflow_http import MlflowHttp, TooLarge

DEFAULT_PREVIEW_MAX_BYTES = 2 * 1024 * 1024
_MAX_PATH = 1024

#: Image kinds served as images (SVG is not one: it can carry script).
IMAGE_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}
TEXT_TYPE = "text/plain; charset=utf-8"
#: Text kinds, all served as plain text; the value is how a front shows them.
TEXT_KINDS = {
    "txt": "text",
    "log": "text",
    "md": "text",
    "yaml": "text",
    "yml": "text",
    "html": "text",
    "htm": "text",
    "svg": "text",
    "json": "json",
    "csv": "csv",
    "tsv": "tsv",
}


@dataclass(frozen=True)
class Preview:
    """A file's bytes for a preview and what they are served as."""

    path: str
    kind: str  # image, text, json, csv or tsv
    content_type: str
    body: bytes

    @property
    def filename(self) -> str:
        return self.path.rpartition("/")[2]


def preview_kind(path: str) -> str | None:
    """How a file is previewed, by its extension: image, text, json, csv, tsv, or None."""
    name = path.rpartition("/")[2]
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension in IMAGE_TYPES:
        return "image"
    return TEXT_KINDS.get(extension)


def content_type(path: str) -> str:
    extension = path.rpartition(".")[2].lower()
    return IMAGE_TYPES.get(extension, TEXT_TYPE)


def artifact_path(raw: str | None, *, file: bool) -> str:
    """A path relative to a run's artifact root, checked before MLflow sees it: no absolute
    path, no `.` or `..` segment, no backslash, NUL or other control character (400 naming
    what is wrong). A directory may be the root (empty); a file must be named."""
    if raw is None or raw.strip("/") == "":
        if file:
            raise ApiError(
                400,
                "bad_request",
                "Name the artifact to preview: ?path=<its path in the run>.",
                "The run's artifact listing gives each file's path.",
            )
        if raw and raw.startswith("/"):
            raise _bad_path(raw, "it is absolute")
        return ""
    if len(raw) > _MAX_PATH:
        raise _bad_path(raw[:80] + "...", f"it is longer than {_MAX_PATH} characters")
    if "\x00" in raw:
        raise _bad_path(raw.replace("\x00", "\\0"), "it holds a NUL character")
    if "\\" in raw:
        raise _bad_path(raw, "it holds a backslash (artifact paths use /)")
    if not raw.isprintable():
        raise _bad_path(raw.encode("unicode_escape").decode(), "it holds a control character")
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        raise _bad_path(raw, "it is absolute")
    parts = raw.rstrip("/").split("/")
    if any(part in (".", "..") for part in parts):
        raise _bad_path(raw, "it has a '.' or '..' segment")
    if any(part == "" for part in parts):
        raise _bad_path(raw, "it has an empty segment ('//')")
    return "/".join(parts)


def _bad_path(shown: str, why: str) -> ApiError:
    return ApiError(
        400,
        "bad_request",
        f"The artifact path '{shown}' is refused: {why}.",
        "Give a path relative to the run's artifacts, as the listing shows it "
        "(like plots/roc.png).",
    )


def unknown_artifact(group: str, run_id: str, path: str) -> ApiError:
    return ApiError(
        404,
        "not_found",
        f"Run '{run_id}' of group '{group}' has no artifact '{path}'.",
        "List the run's artifacts to see what it logged.",
    )


class RunArtifacts:
    """Lists a run's artifacts and reads previews, through one group's MLflow REST API."""

    def __init__(self, http: MlflowHttp, api: str, timeout: float) -> None:
        self.http = http
        self.api = api
        self.timeout = timeout

    async def listing(self, group: str, run_id: str, path: str) -> list[dict[str, Any]]:
        """One directory level: dirs first, then files, each by name."""
        body, _ = await self.http.get_json(
            f"{self.api}/artifacts/list",
            {"run_id": run_id, **({"path": path} if path else {})},
            timeout=self.timeout,
        )
        if not isinstance(body, dict):
            raise TypeError("the listing is not an object")
        entries = [listing_entry(path, raw) for raw in body.get("files", []) or []]
        entries = [entry for entry in entries if entry is not None]
        entries.sort(key=lambda entry: (not entry["is_dir"], entry["name"]))
        return entries

    async def read(self, group: str, run_id: str, path: str, limit: int) -> Preview:
        """The file's bytes, when it is previewable and at most `limit` bytes (413 otherwise,
        saying its size and the limit; 404 naming it when the run has no such file)."""
        kind = preview_kind(path)
        if kind is None:
            raise ApiError(
                415,
                "not_previewable",
                f"'{path}' is not a kind of file this extension previews.",
                "Previews show images (png, jpg, gif, webp) and text (txt, log, md, yaml, json, "
                "csv, tsv, html and svg as text); open other files in the MLflow UI.",
            )
        parent, _, name = path.rpartition("/")
        entries = await self.listing(group, run_id, parent)
        entry = next((e for e in entries if e["name"] == name), None)
        if entry is None:
            raise unknown_artifact(group, run_id, path)
        if entry["is_dir"]:
            raise ApiError(
                400,
                "bad_request",
                f"'{path}' is a directory of run '{run_id}', not a file.",
                "List it with the artifacts route instead.",
            )
        size = entry["file_size"]
        if size is not None and size > limit:
            raise too_large(path, size, limit)
        try:
            body = await self.http.get_at_most(
                "/get-artifact", {"run_id": run_id, "path": path}, limit, timeout=self.timeout
            )
        except TooLarge as error:
            raise too_large(path, error.size, limit) from None
        except MlflowError as error:
            if error.code == "not_found":
                raise unknown_artifact(group, run_id, path) from None
            raise
        return Preview(path, kind, content_type(path), body)


def too_large(path: str, size: int | None, limit: int) -> ApiError:
    said = f"{size:,} bytes" if size is not None else f"more than {limit:,} bytes"
    return ApiError(
        413,
        "too_large",
        f"'{path}' is {said}: previews show files of at most {limit:,} bytes.",
        "Open it in the MLflow UI, or download it with mlflow.artifacts.download_artifacts.",
    )


def listing_entry(directory: str, raw: Any) -> dict[str, Any] | None:
    """A listing entry as `{path, name, is_dir, file_size, preview}`; MLflow gives paths
    relative to the listing's root, a run's or a logged model's (`plots/roc.png`); anything
    outside `directory` is dropped."""
    listed = str(raw.get("path", ""))
    parent, _, name = listed.rpartition("/")
    if not name or name in (".", "..") or "\\" in name or parent not in ("", directory):
        return None
    full = f"{directory}/{name}" if directory else name
    is_dir = bool(raw.get("is_dir"))
    size = raw.get("file_size")
    size = int(size) if not is_dir and str(size).isdigit() else None
    return {
        "path": full,
        "name": name,
        "is_dir": is_dir,
        "file_size": size,
        "preview": None if is_dir else preview_kind(name),
    }


async def run_artifacts(
    artifacts: RunArtifacts,
    run: Any,
    group: str,
    run_id: str,
    path: str,
    ui_url: str | None,
) -> dict[str, Any]:
    """The listing answer: the run's page in the MLflow UI, the directory and its entries."""
    raw_run, entries = await asyncio.gather(run, artifacts.listing(group, run_id, path))
    info: Mapping[str, Any] = raw_run.get("run", {}).get("info", {})
    experiment = str(info.get("experiment_id", ""))
    return {
        "group": group,
        "run_id": run_id,
        "path": path,
        "parent": path.rpartition("/")[0] if path else None,
        "ui_url": ui_page(ui_url, "experiments", experiment, "runs", run_id),
        "files": entries,
    }


def quoted_filename(name: str) -> str:
    """`inline` with the file's name made safe for a header (ASCII, no quotes), and its exact
    name in RFC 5987 form."""
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_"
                         for c in name) or "artifact"  # fmt: skip
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
