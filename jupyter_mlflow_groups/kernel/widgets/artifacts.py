"""ArtifactsPanel: a run's artifacts, one directory level at a time, and a preview of the file
chosen (an image, text, pretty-printed JSON, or the first rows of a CSV/TSV as a table).

Everything is read through the server's API; every text shown is HTML-escaped here.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from typing import Any

import ipywidgets as widgets

from ..client import ServerClient
from ..formatting import format_bytes
from .common import Panel, button, esc, link

MAX_ROWS = 50
_PRE = "max-height: 320px; overflow: auto; margin: 2px 0; white-space: pre-wrap"
_IMAGE_FORMATS = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "gif": "gif", "webp": "webp"}


class ArtifactsPanel(Panel):
    """`ArtifactsPanel(group, run_id)`: the run's artifacts (buttons open directories and
    preview files), with the run's page in the MLflow UI for what cannot be previewed."""

    def __init__(
        self,
        group: str,
        run_id: str,
        *,
        client: ServerClient | None = None,
        path: str = "",
    ) -> None:
        super().__init__(client, layout=widgets.Layout(width="100%"))
        self.group = group
        self.run_id = run_id
        self.path = path
        self.listing: dict[str, Any] | None = None
        self.selected: str | None = None
        self.where = widgets.HTML()
        self.entries = widgets.VBox()
        self.preview = widgets.VBox()
        self.children = [self.where, self.problem, self.entries, self.preview]
        self.attempt(self.load)

    def load(self, refresh: bool = False) -> None:
        self.listing = self.client.artifacts(self.group, self.run_id, self.path, refresh)
        shown = esc(self.path or "(the run's artifacts)")
        self.where.value = f"<b>Artifacts</b> · <code>{shown}</code>"
        rows: list[widgets.Widget] = []
        if self.path:
            parent = self.listing.get("parent") or ""
            rows.append(button(".. (up)", lambda: self.open_directory(parent), icon="level-up"))
        for entry in self.listing.get("files", []):
            rows.append(self._row(entry))
        if not self.listing.get("files"):
            rows.append(widgets.HTML("<i>No artifacts here.</i>"))
        self.entries.children = rows

    def _row(self, entry: dict[str, Any]) -> widgets.Widget:
        path = entry["path"]
        if entry["is_dir"]:
            return button(entry["name"] + "/", lambda: self.open_directory(path), icon="folder")
        size = widgets.HTML(f"<span>{esc(format_bytes(entry.get('file_size')))}</span>")
        chooser = button(
            entry["name"],
            lambda: self.attempt(lambda: self.show(path)),
            icon="file",
            tooltip=f"Preview {path}" if entry.get("preview") else f"{path}: no preview",
        )
        return widgets.HBox([chooser, size])

    def open_directory(self, path: str) -> None:
        """List another directory (the preview is cleared)."""
        self.path = path
        self.selected = None
        self.preview.children = []
        self.attempt(self.load)

    def show(self, path: str) -> None:
        """Preview a file of the current listing (a link to the run's page when it has none)."""
        entry = next(e for e in (self.listing or {}).get("files", []) if e["path"] == path)
        self.selected = path
        title = widgets.HTML(f"<b>{esc(path)}</b> · {esc(format_bytes(entry.get('file_size')))}")
        if not entry.get("preview"):
            ui = (self.listing or {}).get("ui_url")
            self.preview.children = [
                title,
                widgets.HTML(
                    "No preview for this kind of file. " + link(ui, "Open the run in the MLflow UI")
                ),
            ]
            return
        kind, body = self.client.artifact(self.group, self.run_id, path)
        self.preview.children = [title, preview_widget(path, kind, body)]


def preview_widget(path: str, kind: str, body: bytes) -> widgets.Widget:
    """The widget that shows a preview: an Image, or escaped HTML (text, JSON, a table)."""
    if kind == "image":
        extension = path.rpartition(".")[2].lower()
        return widgets.Image(
            value=body,
            format=_IMAGE_FORMATS.get(extension, "png"),
            layout=widgets.Layout(max_width="480px"),
        )
    text = body.decode("utf-8", errors="replace")
    if kind == "json":
        with contextlib.suppress(ValueError):  # else shown as it is
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    if kind in ("csv", "tsv"):
        return widgets.HTML(csv_table(text, "\t" if kind == "tsv" else ","))
    return widgets.HTML(f"<pre style='{_PRE}'>{esc(text)}</pre>")


def csv_table(text: str, delimiter: str = ",", max_rows: int = MAX_ROWS) -> str:
    """The first `max_rows` rows of a CSV as an HTML table of escaped cells (the first row as
    its header), saying how many more there are."""
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        return "<i>An empty table.</i>"
    header, body = rows[0], rows[1:]
    shown = body[:max_rows]
    head = "".join(f"<th style='text-align: left; padding: 0 8px'>{esc(c)}</th>" for c in header)
    lines = "".join(
        "<tr>" + "".join(f"<td style='padding: 0 8px'>{esc(c)}</td>" for c in row) + "</tr>"
        for row in shown
    )
    more = (
        f"<div><i>First {max_rows} of {len(body)} rows.</i></div>" if len(body) > max_rows else ""
    )
    return (
        f"<div style='max-height: 320px; overflow: auto'><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{lines}</tbody></table></div>{more}"
    )
