"""VersionDetail: everything about one model version, with a chart of each metric's history,
its deployments, and a Deploy button."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..client import ServerClient
from .artifacts import ArtifactsPanel
from .charts import MetricChart
from .common import NOTHING, REGISTRY_TOPICS, Panel, button, esc, link, mapping_table, table, when
from .deploy import DeployPanel
from .deployments import DeploymentsPanel
from .promote import AliasEditor


class VersionDetail(Panel):
    """`VersionDetail("fraud-detector", "3")` (or `"@champion"`) for the kernel's group."""

    def __init__(
        self,
        name: str,
        version: str,
        group: str | None = None,
        *,
        client: ServerClient | None = None,
        on_back: Callable[[], Any] | None = None,
        back_label: str = "Back",
    ) -> None:
        super().__init__(client, layout=widgets.Layout(width="100%"))
        self.name = name
        self.version = str(version)
        self.group = group
        self.data: dict[str, Any] | None = None
        self.metric_choice = widgets.Dropdown(description="Metric", options=[])
        self.chart = MetricChart(layout=widgets.Layout(max_width="680px"))
        self._chart_follows_choice = False
        self.metric_choice.observe(self._on_metric_chosen, names="value")
        toolbar = [
            button("Refresh", lambda: self.attempt(lambda: self.load(True)), icon="refresh"),
            button(
                "Deploy",
                lambda: self.attempt(self.open_deploy),
                icon="rocket",
                button_style="primary",
                tooltip=f"Deploy {name} version {version}",
            ),
        ]
        if on_back is not None:
            toolbar.insert(0, button(back_label, on_back, icon="arrow-left"))
        self.toolbar = widgets.HBox(toolbar)
        self.content = widgets.VBox()
        self.aliases = AliasEditor(
            client=self._client, on_changed=lambda: self.attempt(lambda: self.load(refresh=True))
        )
        self.children = [self.toolbar, self.problem, self.content]
        self.attempt(self.load)

    def redraw(self) -> None:
        """The version as it is now, unless the deploy form is open in its place."""
        if self.content in self.children:
            self.load()

    def open_deploy(self) -> None:
        """The DeployPanel in place of the details; its Back returns to them, refreshed."""
        number = (self.data or {}).get("version") or self.version
        panel = DeployPanel(
            self.name, number, self.group, client=self.client, on_back=self.close_deploy
        )
        self.children = [panel]

    def close_deploy(self) -> None:
        self.children = [self.toolbar, self.problem, self.content]
        self.attempt(lambda: self.load(refresh=True))

    def load(self, refresh: bool = False) -> None:
        group = self.group or self.client.default_group()
        self.group = group
        self.follow_changes(group, REGISTRY_TOPICS)
        self.data = self.client.version(group, self.name, self.version, refresh=refresh)
        self.aliases.show(group, self.name, str(self.data["version"]), self.data["aliases"])
        self.content.children = [*self._render(self.data), self.aliases]
        metrics = sorted((self.data.get("run") or {}).get("metrics") or {})
        self._chart_follows_choice = False
        self.metric_choice.options = metrics
        self.metric_choice.value = metrics[0] if metrics else None
        self._chart_follows_choice = True
        self._draw_chart()

    def _on_metric_chosen(self, _change: Any) -> None:
        if self._chart_follows_choice:
            self.attempt(self._draw_chart)

    def _render(self, data: dict[str, Any]) -> list[widgets.Widget]:
        run = data.get("run") or {}
        aliases = ", ".join(data.get("aliases") or []) or NOTHING
        deployed = ", ".join(data.get("deployed_by") or []) or NOTHING
        header = widgets.HTML(
            f"<h3 style='margin: 4px 0'>{esc(data['name'])} · version {esc(data['version'])}</h3>"
            f"{link(data.get('ui_url'), 'Open in MLflow UI')}"
        )
        if run.get("missing"):
            source = esc(f"{run['run_id']} ({run['message']})")
        elif run:
            source = link(run.get("ui_url"), run.get("run_name") or run.get("run_id") or "")
        else:
            source = NOTHING
        facts = table(
            ["Status", "Registered At", "Last Modified", "Aliases", "Deployed By"],
            [
                [
                    data.get("status") or NOTHING,
                    when(data.get("registered_at")),
                    when(data.get("last_modified")),
                    aliases,
                    deployed,
                ]
            ],
            "repeat(5, max-content)",
        )
        about = widgets.HTML(
            f"<div><b>Source run:</b> {source}</div>"
            + (f"<div>{esc(data['description'])}</div>" if data.get("description") else "")
            + "<div><b>Load it:</b></div><pre style='user-select: all; margin: 2px 0'>"
            + f"import mlflow\n{esc(data['load_snippet'])}</pre>"
        )
        tabs = widgets.Tab(
            children=[
                mapping_table(run.get("params") or {}, "Parameter", "Value"),
                widgets.VBox(
                    [
                        mapping_table(run.get("metrics") or {}, "Metric", "Latest value"),
                        self.metric_choice,
                        self.chart,
                    ]
                ),
                mapping_table({**data.get("tags", {}), **(run.get("tags") or {})}, "Tag", "Value"),
                _signature_view(data.get("signature")),
            ]
        )
        for index, title in enumerate(["Parameters", "Metrics", "Tags", "Signature"]):
            tabs.set_title(index, title)
        number = str(data["version"])
        deployments = DeploymentsPanel(
            self.group,
            client=self.client,
            only=lambda d: d["model"] == data["name"] and d.get("version") == number,
            heading=False,
            empty="No deployment serves this version: Deploy above.",
        )
        parts = [header, facts, about, widgets.HTML("<b>Deployments</b>"), deployments, tabs]
        if run.get("run_id") and not run.get("missing"):
            parts.append(ArtifactsPanel(self.group, run["run_id"], client=self.client))
        return parts

    def _draw_chart(self) -> None:
        key = self.metric_choice.value
        run_id = ((self.data or {}).get("run") or {}).get("run_id")
        if not key or not run_id or self.group is None:
            self.chart.show("", {})
            return
        history = self.client.metric_history(self.group, run_id, key)["history"]
        self.chart.show(key, {key: history})


def _signature_view(signature: dict[str, Any] | None) -> widgets.Widget:
    if not signature:
        return widgets.HTML("<i>This version has no signature.</i>")
    parts = []
    for part in ("inputs", "outputs", "params"):
        specs = signature.get(part) or []
        if specs:
            rows = [
                [
                    spec.get("name", f"#{i}"),
                    spec.get("type", ""),
                    "yes" if spec.get("required", True) else "no",
                ]
                for i, spec in enumerate(specs)
            ]
            parts += [
                widgets.HTML(f"<b>{part.capitalize()}</b>"),
                table(["Name", "Type", "Required"], rows, "repeat(3, max-content)"),
            ]
    return widgets.VBox(parts)
