"""Metric histories as a chart for the panels: one line per run or version, readable on
JupyterLab's light and dark themes alike (a transparent background, mid-grey ink)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

#: The chart's text, axes and grid: a mid grey, readable on white and on JupyterLab's dark theme.
CHART_INK = "#8a8a8a"
#: Line colours readable on a light and on a dark background alike.
CHART_COLOURS = ("#3d8fd6", "#d9782d", "#43a047", "#d65db1", "#a88a1c")


def plot_histories(key: str, series: Mapping[str, Sequence[Mapping[str, Any]]]) -> Any:
    """A matplotlib Figure of `key` by step, a line per entry of `series` (label: history),
    with a legend when there are several."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no stray display

    figure = Figure(figsize=(6.4, 2.8))
    figure.patch.set_alpha(0.0)  # the notebook's background shows through, light or dark
    axes = figure.subplots()
    axes.set_facecolor("none")
    axes.set_prop_cycle(color=list(CHART_COLOURS))
    for label, history in series.items():
        steps = [point["step"] for point in history]
        values = [point["value"] for point in history]
        axes.plot(
            steps, values, marker="o" if len(history) == 1 else None, linewidth=1.5, label=label
        )
    axes.set_xlabel("step", color=CHART_INK)
    axes.set_ylabel(key, color=CHART_INK)
    if len(series) == 1:
        (history,) = series.values()
        axes.set_title(f"{key} ({len(history)} steps)", color=CHART_INK)
    else:
        axes.set_title(key, color=CHART_INK)
        legend = axes.legend(frameon=False)
        for text in legend.get_texts():
            text.set_color(CHART_INK)
    axes.tick_params(colors=CHART_INK)
    for spine in axes.spines.values():
        spine.set_color(CHART_INK)
    axes.grid(True, color=CHART_INK, alpha=0.3)
    return figure


def png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight", transparent=True)
    return buffer.getvalue()
