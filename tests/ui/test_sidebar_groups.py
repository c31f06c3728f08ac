"""Groups in the panel: switching the active group, what each broken group says, restarting a
notebook's kernel into the new group, and the dark theme."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from support.lab_actions import open_notebook, run_cell, theme, wait_for_idle_kernel

RESTART_NOTE = "Running kernels keep their group until they are restarted."
PRINT_GROUP = "import os; print(os.environ['JUPYTER_MLFLOW_GROUP'])"


def test_each_group_state_says_what_is_wrong_and_what_to_do(sidebar, page):
    sidebar.open()
    sidebar.expect_health("ok")

    sidebar.switch_group("offline")
    toast = page.locator(".Toastify__toast").filter(has_text=RESTART_NOTE)
    expect(toast).to_contain_text("New kernels use the group 'offline'")
    sidebar.expect_health("failing")
    expect(sidebar.problem).to_have_attribute("data-code", "unreachable")
    expect(sidebar.problem).to_contain_text("MLflow cannot be reached")
    expect(sidebar.problem).to_contain_text(re.compile("refused", re.IGNORECASE))
    expect(sidebar.problem).to_contain_text("Check that the MLflow server is running")
    sidebar.snap("unreachable")

    sidebar.switch_group("no-server")
    sidebar.expect_health("off")
    expect(sidebar.problem).to_have_attribute("data-code", "not_configured")
    expect(sidebar.problem).to_contain_text("MLflow is not set up for this group")
    expect(sidebar.problem).to_contain_text("tracking_uri")  # the field to ask about
    expect(sidebar.problem).to_contain_text("Ask your admin to fix these fields")
    sidebar.snap("not-configured")

    sidebar.switch_group("locked")
    sidebar.expect_health("failing")
    expect(sidebar.problem).to_have_attribute("data-code", "unauthorized")
    expect(sidebar.problem).to_contain_text("MLflow refused the group's credentials")
    expect(sidebar.problem).to_contain_text("Error code: unauthorized")
    expect(sidebar.problem).to_contain_text("ask your group admin to check the username")
    sidebar.snap("unauthorized")

    sidebar.switch_group("team-a")
    sidebar.expect_health("ok")
    expect(sidebar.model_rows.first).to_be_visible()
    expect(sidebar.problem).to_have_count(0)


def test_switching_offers_to_restart_the_notebook_s_kernel_into_the_new_group(sidebar, page):
    cell = open_notebook(page)
    expect(run_cell(page, cell, PRINT_GROUP)).to_have_text("team-a")

    sidebar.open()
    sidebar.switch_group("offline")
    toast = page.locator(".Toastify__toast").filter(has_text=RESTART_NOTE)
    restart = toast.get_by_role("button", name=re.compile("^Restart the kernel of Untitled"))
    expect(toast).to_be_in_viewport(ratio=1)  # slid in
    sidebar.expect_health("failing")
    sidebar.snap("switched", whole_window=True)
    restart.click()

    expect(page.locator("#jp-main-statusbar")).not_to_contain_text("| Idle")  # restarting
    wait_for_idle_kernel(page)
    expect(run_cell(page, cell, PRINT_GROUP)).to_have_text("offline")


def test_the_dark_theme(sidebar, page):
    with theme(page, "JupyterLab Dark"):
        sidebar.open()
        sidebar.model_row("model-0003").click()
        sidebar.open_version("3")
        expect(sidebar.panel.locator('figure[data-metric="train/loss"] polyline')).to_be_attached()
        background = sidebar.panel.evaluate("e => getComputedStyle(e).backgroundColor")
        text = sidebar.panel.evaluate("e => getComputedStyle(e).color")
        assert brightness(background) < 0.3 < 0.7 < brightness(text)
        sidebar.snap("dark")


def brightness(css_color: str) -> float:
    red, green, blue = (int(part) for part in re.findall(r"\d+", css_color)[:3])
    return (0.299 * red + 0.587 * green + 0.114 * blue) / 255
