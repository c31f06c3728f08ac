"""Read widget trees as a person sees them, and find what they would click."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ipywidgets as widgets

#: Kernel code that makes `visible_text` importable in a kernel the tests started.
IMPORT_IN_KERNEL = (
    f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})\n"
    "from support.widget_text import visible_text\n"
)


def leaves(node: Any) -> Iterator[widgets.Widget]:
    """Every widget in a tree, depth first, hidden ones (display: none) left out."""
    layout = getattr(node, "layout", None)
    if layout is not None and layout.display == "none":
        return
    yield node
    for child in getattr(node, "children", ()):
        yield from leaves(child)


def text_of(node: widgets.Widget) -> str:
    if isinstance(node, widgets.Button):
        return node.description
    if isinstance(node, (widgets.HTML, widgets.Label)):
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", node.value)).split())
    if isinstance(node, (widgets.Text, widgets.Dropdown)):
        return f"{node.description} {node.value}".strip()
    return ""


def grid_lines(grid: widgets.GridBox) -> list[str]:
    """A table as a person reads it: one line per row, cells separated by ' | '. The header
    row is the leading run of bold cells."""
    cells = list(grid.children)
    width = next(
        (i for i, c in enumerate(cells) if not getattr(c, "value", "").startswith("<b>")),
        len(cells),
    )
    width = width or 1
    return [
        " | ".join(text_of(c) for c in cells[i : i + width]) for i in range(0, len(cells), width)
    ]


def visible_text(root: widgets.Widget) -> str:
    lines: list[str] = []

    def walk(node: widgets.Widget) -> None:
        layout = getattr(node, "layout", None)
        if layout is not None and layout.display == "none":
            return
        if isinstance(node, widgets.GridBox):
            lines.extend(grid_lines(node))
            return
        if isinstance(node, widgets.Tab):
            lines.append(" | ".join(node.get_title(i) for i in range(len(node.children))))
        lines.append(text_of(node))
        for child in getattr(node, "children", ()):
            walk(child)

    walk(root)
    return "\n".join(line for line in lines if line)


def buttons(root: widgets.Widget) -> dict[str, widgets.Button]:
    return {node.description: node for node in leaves(root) if isinstance(node, widgets.Button)}


def button(root: widgets.Widget, description: str) -> widgets.Button:
    found = buttons(root)
    assert description in found, f"no button {description!r} among {sorted(found)}"
    return found[description]
