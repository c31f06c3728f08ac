"""What the tests do in JupyterLab itself, outside the panel."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect


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
