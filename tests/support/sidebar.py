"""The MLflow panel as a user drives it: by what is on screen (roles, labels, text)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page, expect

SIDEBAR_TAB = 'li[data-id="jupyter-mlflow-groups-sidebar"]'


class Sidebar:
    def __init__(self, page: Page, screenshots: Path) -> None:
        self.page = page
        self.screenshots = screenshots

    @property
    def panel(self) -> Locator:
        return self.page.locator(".jp-MlflowGroups")

    def open(self) -> Sidebar:
        self.page.locator(SIDEBAR_TAB).click()
        expect(self.panel).to_be_visible()
        return self

    def expect_health(self, health: str) -> None:
        expect(self.panel.locator(".jp-MlflowGroups-health")).to_have_attribute(
            "data-health", health, timeout=30_000
        )

    def switch_group(self, group: str) -> None:
        self.panel.get_by_label("Group", exact=True).select_option(group)

    def search(self, text: str) -> None:
        box = self.panel.get_by_role("searchbox")
        box.fill(text)
        box.press("Enter")

    @property
    def model_rows(self) -> Locator:
        return self.panel.locator(".jp-MlflowGroups-modelRow")

    def model_row(self, name: str) -> Locator:
        return self.model_rows.filter(
            has=self.page.locator(".jp-MlflowGroups-modelName", has_text=name)
        )

    @property
    def versions_table(self) -> Locator:
        return self.panel.locator(".jp-MlflowGroups-versions")

    def version_row(self, version: str) -> Locator:
        return self.versions_table.locator(f'tbody tr[data-version="{version}"]')

    def open_version(self, version: str) -> None:
        self.version_row(version).get_by_role("button", name=f"v{version}").click()
        expect(self.panel.get_by_role("heading", level=2)).to_contain_text(f"v{version}")

    def invocations_url(self, within: Locator) -> Locator:
        """The full invocations URL that a deployment's row or a finished job shows."""
        return within.locator(".jp-MlflowGroups-invocationsUrl")

    @property
    def problem(self) -> Locator:
        return self.panel.get_by_role("alert")

    def snap(self, name: str, *, whole_window: bool = False) -> Path:
        """A PNG of the panel (or of the whole window) named after the state it shows."""
        path = self.screenshots / f"sidebar-{name}.png"
        self.page.mouse.move(0, 0)  # no hover effects in the picture
        if whole_window:
            self.page.screenshot(path=str(path))
        else:
            self.panel.screenshot(path=str(path))
        return path
