"""The compare tab as a user sees it (a main-area tab of JupyterLab), and what MLflow itself
says of the compared versions, for the tests to check the tab against."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect


@dataclass
class VersionFacts:
    """One version as MlflowClient reads it: its source run's latest metrics, params, tags."""

    version: str
    run_id: str
    experiment_id: str
    metrics: dict[str, float]
    params: dict[str, str]
    run_tags: dict[str, str]
    model_files: dict[str, int]  # the `model` folder of the run: path -> bytes


def mlflow_facts(tracking_uri: str, model: str, versions: list[str]) -> dict[str, VersionFacts]:
    """Each version of `model`, straight from MLflow (not through this extension)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    facts = {}
    for version in versions:
        run = client.get_run(client.get_model_version(model, version).run_id)
        facts[version] = VersionFacts(
            version=version,
            run_id=run.info.run_id,
            experiment_id=run.info.experiment_id,
            metrics=dict(run.data.metrics),
            params=dict(run.data.params),
            run_tags={k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")},
            model_files=files_listed(partial(client.list_artifacts, run.info.run_id), "model"),
        )
    return facts


def files_listed(listing: Callable[[str | None], Any], path: str | None = None) -> dict[str, int]:
    """Every file under `path` (path -> bytes), as an MLflow client's `listing` of one folder
    (a run's `list_artifacts`, a logged model's `list_logged_model_artifacts`) gives them."""
    found: dict[str, int] = {}
    for info in listing(path):
        if info.is_dir:
            found.update(files_listed(listing, info.path))
        else:
            found[info.path] = info.file_size
    return found


def best_of(facts: dict[str, VersionFacts], metric: str, direction: str) -> list[str]:
    """The version(s) whose latest `metric` is highest (`max`) or lowest (`min`)."""
    values = {v: f.metrics[metric] for v, f in facts.items() if metric in f.metrics}
    best = max(values.values()) if direction == "max" else min(values.values())
    return [version for version, value in values.items() if value == best]


#: The window's height in pictures of the tab: the tables and the chart at once.
TALL = 1200


class CompareTab:
    """The compare tab of one set of versions, by what it shows (roles, labels, text)."""

    def __init__(self, page: Page, title: str, screenshots: Path) -> None:
        self.page = page
        self.title = title
        self.screenshots = screenshots

    @property
    def tabs(self) -> Locator:
        """Its tabs in the main area's tab bar (one at most)."""
        return self.page.locator("#jp-main-dock-panel .lm-TabBar-tab").filter(
            has_text=re.compile(f"^{re.escape(self.title)}$")
        )

    @property
    def root(self) -> Locator:
        return self.page.locator(".jp-MlflowGroups-compare")

    def expect_open(self) -> None:
        expect(self.tabs).to_have_count(1)
        expect(self.tabs).to_have_class(re.compile(r"\blm-mod-current\b"))
        expect(self.root.get_by_role("heading", level=2)).to_have_text(self.title)

    def section(self, name: str) -> Locator:
        return self.root.get_by_role("region", name=name, exact=True)

    def row(self, section: str, key: str) -> Locator:
        return self.section(section).locator(f'tbody tr[data-key="{key}"]')

    def cell(self, section: str, key: str, version: str) -> Locator:
        return self.row(section, key).locator(f'td[data-version="{version}"]')

    def best_versions(self, metric: str) -> Locator:
        """The cells of `metric` marked best."""
        return self.row("Metrics", metric).locator("td.jp-mod-best")

    @property
    def chart(self) -> Locator:
        return self.section("Metric history").locator("figure")

    def legend_entry(self, label: str) -> Locator:
        return self.section("Metric history").get_by_role("button", name=label, exact=True)

    def snap(self, name: str) -> Path:
        """A PNG of the whole window, named after what it shows, tall enough for the whole
        comparison (scrolled to its top)."""
        path = self.screenshots / f"{name}.png"
        size = self.page.viewport_size
        assert size is not None
        self.page.set_viewport_size({"width": size["width"], "height": TALL})
        try:
            self.root.evaluate("root => root.parentElement.scrollTo(0, 0)")
            self.page.mouse.move(0, 0)  # no hover effects in the picture
            self.page.screenshot(path=str(path))
        finally:
            self.page.set_viewport_size(size)
        return path
