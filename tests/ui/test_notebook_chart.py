"""The notebook chart widget in JupyterLab: a cell's `RunChart(run_id)` draws the run's metrics
with the sidebar's own chart (SVG, the labextension's widget view registered with ipywidgets),
new points appear while the run trains without running the cell again, and its lines and text
are readable in the dark theme."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from support.lab_actions import open_notebook, run_cell, theme
from support.sidebar import chart_contrasts, text_contrasts, unreadable
from support.training import end_run, log, start_run

TEXT = 4.5  # WCAG AA, normal text
GRAPHICS = 3.0  # WCAG AA, non-text contrast


def point_count(steps: int) -> re.Pattern[str]:
    """A polyline's `points` attribute with `steps` points."""
    return re.compile(rf"^\S+(?: \S+){{{steps - 1}}}$")


def test_a_run_chart_follows_a_run_while_it_trains(page, ui_mlflow, screenshots):
    server = ui_mlflow.server
    run_id = start_run(server, "training in the notebook")
    for step in range(3):
        log(server, run_id, "loss", 1 / (step + 1), step)
        log(server, run_id, "val_loss", 1.2 / (step + 1) + 0.05, step)
    try:
        cell = open_notebook(page)
        code = "from jupyter_mlflow_groups.widgets import RunChart\n"
        code += f"RunChart({run_id!r}, interval=0.5)"
        output = run_cell(page, cell, code)
        chart = output.locator(".jp-MlflowGroups-widgetChart")
        lines = chart.locator("figure polyline")
        expect(lines).to_have_count(2)
        expect(chart.locator('polyline[data-series="0"]')).to_have_attribute(
            "points", point_count(3)
        )
        expect(chart).to_contain_text("training in the notebook")
        expect(chart.get_by_role("button", name="val_loss")).to_be_visible()

        for step in range(3, 12):  # the run goes on: the chart shown gets the new points
            log(server, run_id, "loss", 1 / (step + 1), step)
            log(server, run_id, "val_loss", 1.2 / (step + 1) + 0.05, step)
        expect(chart.locator('polyline[data-series="0"]')).to_have_attribute(
            "points", point_count(12)
        )
        expect(chart).to_contain_text("running · 12 steps")

        chart.get_by_label("Smoothing weight").fill("0.6")  # written back to the kernel's model
        expect(chart.locator("path.jp-mod-raw")).to_have_count(2)
        chart.get_by_role("button", name="val_loss").click()  # the legend hides a line
        expect(lines).to_have_count(1)
        chart.get_by_role("button", name="val_loss").click()
        expect(lines).to_have_count(2)
        page.mouse.move(0, 0)
        cell.screenshot(path=str(screenshots / "run-chart.png"))

        with theme(page, "JupyterLab Dark"):
            page.wait_for_selector("#jupyterlab-splash", state="detached")  # the theme is loaded
            expect(lines).to_have_count(2)
            seen = chart_contrasts(chart)
            texts = unreadable(text_contrasts(chart), TEXT, "dark")
            cell.screenshot(path=str(screenshots / "run-chart-dark.png"))
        assert len(seen) == 2
        assert unreadable(seen, GRAPHICS, "dark chart") == []
        assert texts == []

        end_run(server, run_id)
        expect(chart).to_contain_text("finished · 12 steps")
    finally:
        end_run(server, run_id)
