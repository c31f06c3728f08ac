"""CompareVersions: versions of one model side by side, to pick the better one: metrics with the
best value marked, parameters, tags, signatures, model sizes, and one metric's histories
overlaid and its value across all the model's versions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets

from ..client import ServerClient
from ..formatting import column_label, format_model_size
from .charts import AcrossVersionsChart, MetricChart
from .common import NOTHING, Panel, button, esc, link, table

#: The sections of the comparison: (title, key in the REST answer).
SECTIONS = (("Metrics", "metrics"), ("Parameters", "params"), ("Version tags", "tags"))
SECTIONS += (("Run tags", "run_tags"),)


class CompareVersions(Panel):
    """`CompareVersions("fraud-detector", ["3", "@challenger"])` for the kernel's group."""

    def __init__(
        self,
        name: str,
        versions: Sequence[str],
        group: str | None = None,
        *,
        client: ServerClient | None = None,
        differences_only: bool = False,
    ) -> None:
        super().__init__(client, layout=widgets.Layout(width="100%"))
        self.name = name
        self.versions = [str(version) for version in versions]
        self.group = group
        self.data: dict[str, Any] | None = None
        self.differences_only = widgets.Checkbox(
            value=differences_only, description="Differences only", indent=False
        )
        self.differences_only.observe(lambda _: self._show(), names="value")
        self.metric_choice = widgets.Dropdown(description="Metric", options=[])
        self._chart_follows_choice = True
        self.metric_choice.observe(self._on_metric_chosen, names="value")
        self.chart = MetricChart(layout=widgets.Layout(max_width="680px"))
        self.across = AcrossVersionsChart(layout=widgets.Layout(max_width="680px"))
        refresh = button("Refresh", lambda: self.attempt(lambda: self.load(True)), icon="refresh")
        self.toolbar = widgets.HBox([refresh, self.differences_only])
        self.content = widgets.VBox()
        self.children = [
            self.toolbar, self.problem, self.content, self.metric_choice, self.chart,
            widgets.HTML("<b>Across all versions</b>"), self.across,
        ]  # fmt: skip
        self.attempt(self.load)

    def redraw(self) -> None:
        self.load()

    def load(self, refresh: bool = False) -> None:
        self.group = self.group or self.client.default_group()
        self.follow_changes(self.group, ("models", "aliases"))
        self.data = self.client.compare(self.group, self.name, self.versions, refresh=refresh)
        self._show()
        metrics, kept = list(self.data["metrics"]), self.metric_choice.value
        self._chart_follows_choice = False  # one drawing below, not one per change
        self.metric_choice.options = metrics
        self.metric_choice.value = kept if kept in metrics else (metrics or [None])[0]
        self._chart_follows_choice = True
        self._draw_chart()

    def _on_metric_chosen(self, _change: Any) -> None:
        if self._chart_follows_choice:
            self.attempt(self._draw_chart)

    def _show(self) -> None:
        if self.data is not None:
            self.content.children = self._render(self.data)

    def _render(self, data: Mapping[str, Any]) -> list[widgets.Widget]:
        labels = {v["version"]: column_label(v) for v in data["versions"]}
        header = widgets.HTML(
            f"<h3 style='margin: 4px 0'>{esc(data['name'])} · "
            f"{esc(' vs '.join(labels.values()))}</h3>"
            + " · ".join(link(v.get("ui_url"), labels[v["version"]]) for v in data["versions"])
        )
        runs = table(
            ["", *labels.values()],
            [
                ["Source run", *(_run_cell(v.get("run")) for v in data["versions"])],
                ["Deployed By", *(", ".join(v.get("deployed_by") or []) or NOTHING
                                  for v in data["versions"])],
                ["Model size", *(esc(format_model_size(data["sizes"].get(v["version"])))
                                 for v in data["versions"])],
            ],
            f"max-content repeat({len(labels)}, minmax(80px, max-content))",
        )  # fmt: skip
        parts: list[widgets.Widget] = [header, runs]
        only = self.differences_only.value
        for title, key in SECTIONS:
            rows = data[key]
            keys = [k for k in rows if not only or k in data["differences"][key]]
            parts.append(widgets.HTML(f"<b>{title}</b>"))
            if not keys:
                what = "differs" if only and rows else "is recorded"
                parts.append(widgets.HTML(f"<i>No {title.lower()} {what}.</i>"))
                continue
            best = data["best"] if key == "metrics" else {}
            parts.append(
                table(
                    [title[:-1] if title.endswith("s") else title, *labels.values()],
                    [
                        [k, *(_value_cell(rows[k].get(v), v in best.get(k, [])) for v in labels)]
                        for k in keys
                    ],
                    f"minmax(120px, max-content) repeat({len(labels)}, minmax(80px, max-content))",
                )
            )
        same = "differ" if data["differences"]["signature"] else "are the same"
        parts.append(widgets.HTML(f"<div><b>Signatures</b> {same}.</div>"))
        return parts

    def _draw_chart(self) -> None:
        key, data = self.metric_choice.value, self.data or {}
        series: dict[str, list[dict[str, Any]]] = {}
        for version in data.get("versions", []) if key and self.group else ():
            run = version.get("run") or {}
            if run.get("missing") or data["metrics"][key].get(version["version"]) is None:
                continue  # no run, or its run has no such metric
            history = self.client.metric_history(self.group, run["run_id"], key)["history"]
            series[column_label(version)] = history
        self.chart.show(key or "", series)
        self.across.across = (
            self.client.metric_across_versions(
                self.group, self.name, key, data["directions"].get(key)
            )
            if key and self.group
            else None
        )


def _run_cell(run: Mapping[str, Any] | None) -> widgets.HTML:
    if not run:
        return widgets.HTML(NOTHING)
    if run.get("missing"):
        return widgets.HTML(esc(f"{run['run_id']} (gone)"))
    return widgets.HTML(link(run.get("ui_url"), run.get("run_name") or run.get("run_id") or ""))


def _value_cell(value: Any, best: bool) -> widgets.HTML:
    if value is None:
        return widgets.HTML(NOTHING)
    shown = f"{value:.6g}" if isinstance(value, float) else str(value)
    if best:
        return widgets.HTML(f'<b title="the best of these versions">★ {esc(shown)}</b>')
    return widgets.HTML(esc(shown))
