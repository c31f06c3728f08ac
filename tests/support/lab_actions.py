"""What the tests do in JupyterLab itself, outside the panel."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import FrameLocator, Locator, Page, expect


def open_notebook(page: Page) -> Locator:
    """A new notebook from the launcher, its kernel idle; returns its first cell."""
    page.locator('.jp-LauncherCard[data-category="Notebook"]').first.click()
    wait_for_idle_kernel(page)
    cell = page.locator(".jp-NotebookPanel").last.locator(".jp-Cell").first
    cell.locator(".cm-content").click()
    return cell


def wait_for_idle_kernel(page: Page) -> None:
    expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle", timeout=60_000)


def run_cell(page: Page, cell: Locator, code: str) -> Locator:
    """Replace the cell's code and run it; returns its output area (to expect text in)."""
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(code)
    page.keyboard.press("Control+Enter")
    return cell.locator(".jp-OutputArea-output")


def run_command(page: Page, label: str) -> None:
    """Run a command from the command palette, by its label."""
    page.keyboard.press("Control+Shift+C")
    search = page.locator("#command-palette").get_by_role("textbox")
    search.fill(label)
    search.press("Enter")


def set_theme(page: Page, theme: str) -> None:
    """Switch JupyterLab to `theme` ("JupyterLab Light", "JupyterLab Dark") by its command,
    and wait until it applies."""
    run_command(page, f"Use Theme: {theme}")
    expect(page.locator("body")).to_have_attribute("data-jp-theme-name", theme)
    light = "false" if "Dark" in theme else "true"
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", light)


@contextmanager
def theme(page: Page, name: str) -> Iterator[None]:
    """JupyterLab in the theme `name` within the block, then the light theme again (the
    choice is a user setting: it would outlive the test's page)."""
    set_theme(page, name)
    try:
        yield
    finally:
        set_theme(page, "JupyterLab Light")


class MlflowUiTab:
    """The main-area tab that shows a group's MLflow UI (an iframe of the proxied UI)."""

    def __init__(self, page: Page, group: str, screenshots: Path) -> None:
        self.page = page
        self.group = group
        self.screenshots = screenshots

    @property
    def tabs(self) -> Locator:
        """Every tab of the group's MLflow UI in the main area's tab bar (one at most)."""
        return self.page.locator("#jp-main-dock-panel .lm-TabBar-tab").filter(
            has_text=f"MLflow: {self.group}"
        )

    @property
    def iframe(self) -> Locator:
        return self.page.locator(".jp-MlflowGroups-ui iframe")

    @property
    def frame(self) -> FrameLocator:
        return self.page.frame_locator(".jp-MlflowGroups-ui iframe")

    def evaluate(self, expression: str, arg: Any = None) -> Any:
        """Run script in the page shown in the tab, as that page's own code."""
        frame = self.iframe.element_handle().content_frame()
        assert frame is not None
        return frame.evaluate(expression, arg)

    def location(self) -> str:
        """Where the page in the tab is now (it changes as one clicks in MLflow's UI)."""
        return self.evaluate("location.href")

    def go(self, route: str) -> None:
        """Go to one of MLflow's routes (`#/experiments/...`) within the page."""
        self.evaluate("route => { location.hash = route; }", route)

    def expect_open(self) -> None:
        expect(self.tabs).to_have_count(1)
        expect(self.tabs).to_have_class(re.compile(r"\blm-mod-current\b"))

    def snap(self, name: str) -> Path:
        """A PNG of the whole window, named after what it shows."""
        path = self.screenshots / f"{name}.png"
        self.page.mouse.move(0, 0)  # no hover effects in the picture
        self.page.screenshot(path=str(path))
        return path
