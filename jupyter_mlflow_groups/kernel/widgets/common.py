"""Building blocks of the panels: escaped HTML, tables of stock widgets, problem boxes.

Everything shown comes from the server's REST API, which never returns a secret, so no widget's
synced state can hold one. Every string that reaches an HTML widget is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import ipywidgets as widgets

from ..client import ApiFailure, NotConnected, ServerClient
from ..formatting import NOTHING, format_relative, format_time, full_time
from ..live import follow

#: What a registry view shows changes with: versions, aliases, and "Deployed By".
REGISTRY_TOPICS = ("models", "aliases", "deployments")


class NotSent(Exception):
    """A request a panel refuses before sending it (an empty name): what and what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def when(iso: str | None, relative: bool = False) -> widgets.HTML:
    """A moment from the API: `2026-12-02 08:39` (or `3 min ago` in lists people scan, with
    `relative`), the exact ISO moment on hover."""
    if not iso:
        return widgets.HTML(NOTHING)
    shown = format_relative(iso) if relative else format_time(iso)
    return widgets.HTML(f'<span title="{esc(full_time(iso))}">{esc(shown)}</span>')


def link(url: str | None, text: str) -> str:
    """An anchor that opens in a new tab, for http(s) URLs and paths on this Jupyter server
    (what the API gives for a group's MLflow and deployments) only."""
    if not url or not (
        url.startswith(("http://", "https://"))
        or (url.startswith("/") and not url.startswith("//"))
    ):
        return esc(text)
    return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{esc(text)} ↗</a>'


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], columns: str) -> widgets.GridBox:
    """A grid with a header row; string cells are escaped into HTML widgets."""
    cells: list[widgets.Widget] = [widgets.HTML(f"<b>{esc(header)}</b>") for header in headers]
    for row in rows:
        cells += [
            cell if isinstance(cell, widgets.Widget) else widgets.HTML(esc(cell)) for cell in row
        ]
    return widgets.GridBox(
        cells,
        layout=widgets.Layout(grid_template_columns=columns, grid_gap="2px 12px", width="100%"),
    )


def mapping_table(values: Mapping[str, Any], key_header: str, value_header: str) -> widgets.Widget:
    if not values:
        return widgets.HTML(f"<i>No {esc(key_header.lower())}s</i>")
    rows = [[key, _plain(value)] for key, value in sorted(values.items())]
    return table([key_header, value_header], rows, "minmax(120px, max-content) 1fr")


def _plain(value: Any) -> str:
    if isinstance(value, Mapping) and "value" in value:
        return f"{value['value']:g}" if isinstance(value["value"], float) else str(value["value"])
    return str(value)


def problem_html(error: Exception) -> str:
    """What went wrong and what to do, for a person (never a traceback)."""
    if isinstance(error, (ApiFailure, NotSent)):
        title, hint = error.message, error.hint
    else:
        title, hint = str(error), ""
    hint_html = f"<div>{esc(hint)}</div>" if hint else ""
    return (
        '<div style="border-left: 4px solid var(--jp-error-color1, #d32f2f); padding: 4px 10px;'
        ' background: var(--jp-layout-color2, #f5f5f5)">'
        f"<b>{esc(title)}</b>{hint_html}</div>"
    )


class Panel(widgets.VBox):
    """A panel over the REST API: a problem line, and actions that show failures in it."""

    def __init__(self, client: ServerClient | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.problem = widgets.HTML()
        self._client = client

    @property
    def client(self) -> ServerClient:
        if self._client is None:
            self._client = ServerClient.from_environment()
        return self._client

    def attempt(self, action: Callable[[], Any]) -> Any:
        """Run `action`; a failure the API explains is shown, not raised (None is returned)."""
        try:
            result = action()
        except (ApiFailure, NotConnected, NotSent) as error:
            self.show_problem(error)
            return None
        self.problem.value = ""
        return result

    def show_problem(self, error: Exception) -> None:
        self.problem.value = problem_html(error)

    def follow_changes(self, group: str, topics: Collection[str]) -> None:
        """Read again (`redraw`) whenever one of `topics` of `group` changes, anywhere, while
        this panel is alive (called at each read: it listens once)."""
        follow(self.client, group, topics, self._redraw_live)

    def _redraw_live(self) -> None:
        self.attempt(self.redraw)

    def redraw(self) -> None:
        """Read what the panel shows again (a panel that follows changes defines it)."""
        raise NotImplementedError


def button(description: str, on_click: Callable[[], Any], **kwargs: Any) -> widgets.Button:
    widget = widgets.Button(description=description, **kwargs)
    widget.on_click(lambda _: on_click())
    return widget
