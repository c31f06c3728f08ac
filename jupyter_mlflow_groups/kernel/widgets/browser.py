"""ModelBrowser: the group's registered models, page by page; a model's versions; a version;
the group's deployments."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from ..client import ServerClient
from .common import NOTHING, REGISTRY_TOPICS, Panel, button, esc, link, table, when
from .deploy import DeployPanel
from .deployments import DeploymentsPanel
from .detail import VersionDetail

PAGE_SIZES = (10, 25, 50, 100)
SEARCH_HINT = "MLflow filter, e.g. name LIKE '%fraud%' or tags.team = 'a'"


class _Pager:
    """Page tokens seen so far, so Previous can go back (MLflow only gives the next one)."""

    def __init__(self) -> None:
        self.tokens: list[str | None] = [None]
        self.next_token: str | None = None

    @property
    def current(self) -> str | None:
        return self.tokens[-1]

    @property
    def number(self) -> int:
        return len(self.tokens)

    def reset(self) -> None:
        self.tokens, self.next_token = [None], None

    def forward(self) -> None:
        if self.next_token:
            self.tokens.append(self.next_token)

    def back(self) -> None:
        if len(self.tokens) > 1:
            self.tokens.pop()


class ModelBrowser(Panel):
    """`ModelBrowser()`: the kernel's group; `ModelBrowser("team-a")`: another of your groups."""

    def __init__(
        self,
        group: str | None = None,
        *,
        page_size: int = 25,
        client: ServerClient | None = None,
    ) -> None:
        super().__init__(client, layout=widgets.Layout(width="100%"))
        self.group = group
        self.model_name: str | None = None
        self._listing = False  # the models or a model's versions are shown (not a sub-panel)
        self.models_pager, self.versions_pager = _Pager(), _Pager()
        self.title = widgets.HTML()
        self.search = widgets.Text(
            placeholder=SEARCH_HINT, continuous_update=False, layout=widgets.Layout(width="420px")
        )
        self.search.observe(lambda _: self.attempt(self.first_page), names="value")
        self.page_size = widgets.Dropdown(
            options=PAGE_SIZES,
            value=page_size if page_size in PAGE_SIZES else 25,
            description="Per page",
            layout=widgets.Layout(width="150px"),
        )
        self.page_size.observe(lambda _: self.attempt(self.first_page), names="value")
        self.previous_button = button(
            "Previous", lambda: self.attempt(self.previous_page), icon="arrow-left"
        )
        self.next_button = button("Next", lambda: self.attempt(self.next_page), icon="arrow-right")
        self.page_label = widgets.HTML()
        self.refresh_button = button(
            "Refresh", lambda: self.attempt(lambda: self.show(refresh=True)), icon="refresh"
        )
        self.search_bar = widgets.HBox(
            [
                self.search,
                button("Search", lambda: self.attempt(self.first_page), icon="search"),
                self.refresh_button,
                button(
                    "Deployments",
                    lambda: self.attempt(self.open_deployments),
                    icon="server",
                    tooltip="The group's deployments: stop, start, remove, how to call them",
                ),
            ]
        )
        self.pager_bar = widgets.HBox(
            [self.page_size, self.previous_button, self.page_label, self.next_button]
        )
        self.body = widgets.VBox()
        self.children = [self.title, self.search_bar, self.problem, self.body, self.pager_bar]
        self.attempt(self.first_page)

    # -- navigation ------------------------------------------------------------------------------

    def first_page(self) -> None:
        self._pager.reset()
        self.show()

    def next_page(self) -> None:
        self._pager.forward()
        self.show()

    def previous_page(self) -> None:
        self._pager.back()
        self.show()

    def open_model(self, name: str) -> None:
        self.model_name = name
        self.versions_pager.reset()
        self.show()

    def close_model(self) -> None:
        self.model_name = None
        self.show()

    def open_version(self, version: str) -> None:
        assert self.model_name is not None
        detail = VersionDetail(
            self.model_name,
            version,
            self.group,
            client=self.client,
            on_back=lambda: self.attempt(self.show),
            back_label=self.model_name,
        )
        self._listing = False
        self.search_bar.layout.display = self.pager_bar.layout.display = "none"
        self.body.children = [detail]

    def open_deploy(self, version: str) -> None:
        assert self.model_name is not None
        panel = DeployPanel(
            self.model_name, version, self.group, client=self.client,
            on_back=lambda: self.attempt(self.show),
        )  # fmt: skip
        self._listing = False
        self.search_bar.layout.display = self.pager_bar.layout.display = "none"
        self.body.children = [panel]

    def open_deployments(self) -> None:
        panel = DeploymentsPanel(
            self.group, client=self.client, on_back=lambda: self.attempt(self.show)
        )
        self._listing = False
        self.search_bar.layout.display = self.pager_bar.layout.display = "none"
        self.body.children = [panel]

    @property
    def _pager(self) -> _Pager:
        return self.versions_pager if self.model_name else self.models_pager

    # -- rendering -------------------------------------------------------------------------------

    def show(self, refresh: bool = False) -> None:
        """Render the current view (the models, or one model's versions) from the API."""
        if self.group is None:
            self.group = self.client.default_group()
        self.follow_changes(self.group, REGISTRY_TOPICS)
        self._listing = True
        size, token = self.page_size.value, self._pager.current
        if self.model_name is None:
            page = self.client.models(
                self.group, self.search.value.strip(), (), size, token, refresh
            )
            self.body.children = [self._models_table(page)]
            self.title.value = (
                f"<h3 style='margin: 4px 0'>MLflow models · group {esc(self.group)}</h3>"
                + link(page.get("ui_url"), "Open MLflow UI")
            )
            items = len(page["models"])
        else:
            page = self.client.model(self.group, self.model_name, size, token, refresh)
            self.body.children = self._versions_view(page)
            self.title.value = f"<h3 style='margin: 4px 0'>Model {esc(self.model_name)}</h3>"
            items = len(page["versions"])
        self._pager.next_token = page.get("next_page_token")
        self.search_bar.layout.display = "none" if self.model_name else None
        self.pager_bar.layout.display = None
        self.previous_button.disabled = self._pager.number == 1
        self.next_button.disabled = not self._pager.next_token
        self.page_label.value = f"Page {self._pager.number} · {items} shown"

    def redraw(self) -> None:
        """The list as it is now, unless a version, a deployment form or the deployments are
        open in its place (they follow changes themselves)."""
        if self._listing:
            self.show()

    def _models_table(self, page: dict[str, Any]) -> widgets.Widget:
        if not page["models"]:
            searched = self.search.value.strip()
            return widgets.HTML(
                f"<i>No model matches {esc(searched)}.</i>"
                if searched
                else f"<i>No registered models in group {esc(self.group)} yet.</i>"
            )
        rows = [
            [
                self._name_button(model["name"]),
                model.get("latest_version") or NOTHING,
                ", ".join(f"{a}: v{v}" for a, v in sorted(model["aliases"].items())) or NOTHING,
                when(model.get("last_modified"), relative=True),
                model.get("description") or "",
            ]
            for model in page["models"]
        ]
        return table(
            ["Name", "Latest", "Aliases", "Last Modified", "Description"],
            rows,
            "minmax(160px, max-content) max-content max-content max-content 1fr",
        )

    def _versions_view(self, model: dict[str, Any]) -> list[widgets.Widget]:
        back = button("All models", lambda: self.attempt(self.close_model), icon="arrow-left")
        about = widgets.HTML(
            (f"<div>{esc(model['description'])}</div>" if model.get("description") else "")
            + link(model.get("ui_url"), "Open in MLflow UI")
        )
        if not model["versions"]:
            return [back, about, widgets.HTML("<i>This model has no versions yet.</i>")]
        rows = [
            [
                self._version_button(row["version"]),
                when(row.get("registered_at"), relative=True),
                ", ".join(row["aliases"]) or NOTHING,
                ", ".join(row["deployed_by"]) or NOTHING,
                self._deploy_button(row["version"]),
            ]
            for row in model["versions"]
        ]
        grid = table(
            ["Version", "Registered At", "Aliases", "Deployed By", ""],
            rows,
            "repeat(4, max-content) 1fr",
        )
        return [back, about, grid]

    def _name_button(self, name: str) -> widgets.Button:
        return button(
            name,
            lambda: self.attempt(lambda: self.open_model(name)),
            tooltip=f"Show the versions of {name}",
            layout=widgets.Layout(width="auto"),
        )

    def _version_button(self, version: str) -> widgets.Button:
        return button(
            f"Version {version}",
            lambda: self.attempt(lambda: self.open_version(version)),
            layout=widgets.Layout(width="auto"),
        )

    def _deploy_button(self, version: str) -> widgets.Button:
        return button(
            "Deploy",
            lambda: self.attempt(lambda: self.open_deploy(version)),
            icon="rocket",
            button_style="primary",
            tooltip=f"Deploy version {version}",
        )
