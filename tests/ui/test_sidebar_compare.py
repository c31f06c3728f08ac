"""Versions of a model compared in a JupyterLab tab: picked in the sidebar's versions table,
opened by Compare, the best value of each metric marked (checked against MLflow's own client),
directions switched, equal rows hidden, histories overlaid with a legend, readable in the dark
theme, and the tab restored after a reload. On the model of three differing versions
(support.seeding.COMPARED_RUNS): the seeded UI models' versions share one run, so they differ
in nothing."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest
from mlflow import MlflowClient
from playwright.sync_api import expect
from support.compare import CompareTab, best_of, mlflow_facts
from support.lab_actions import open_notebook, run_cell, theme
from support.sidebar import chart_contrasts, text_contrasts, unreadable

from jupyter_mlflow_groups.kernel.formatting import format_bytes

GROUP = "comparing"
VERSIONS = ["1", "2", "3"]
TEXT = 4.5  # WCAG AA, normal text
GRAPHICS = 3.0  # WCAG AA, non-text contrast


@pytest.fixture
def active_group(ui_bindings, deploy_server, compared) -> Iterator[str]:
    """A group on the server that holds the compared model."""
    ui_bindings.add(GROUP, {"tracking_uri": deploy_server.url})
    yield GROUP
    ui_bindings.remove(GROUP)


def versions_of(cells) -> list[str]:
    return [cell.get_attribute("data-version") for cell in cells.all()]


def test_compare_versions_in_a_tab(sidebar, page, lab, deploy_server, compared, screenshots):
    facts = mlflow_facts(deploy_server.url, compared, VERSIONS)
    sidebar.open()
    sidebar.expect_health("ok")
    sidebar.search("compared")
    sidebar.model_row(compared).click()
    expect(sidebar.versions_table.locator("tbody tr")).to_have_count(3)

    # pick the versions: by click, and by keyboard (Space on the focused box)
    compare_button = sidebar.panel.get_by_role("button", name="Compare", exact=True)
    expect(compare_button).to_be_disabled()
    sidebar.panel.get_by_role("checkbox", name="Compare version 3").check()
    expect(compare_button).to_be_disabled()  # one is not a comparison
    sidebar.panel.get_by_role("checkbox", name="Compare version 1").check()
    box = sidebar.panel.get_by_role("checkbox", name="Compare version 2")
    box.focus()
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    expect(sidebar.panel.get_by_role("status").filter(has_text="picked")).to_have_text(
        "3 versions picked."
    )
    compare_button.click()

    tab = CompareTab(page, f"Compare {compared} v1, v2, v3", screenshots)
    tab.expect_open()
    page.get_by_role("tab", name="Launcher").click()  # the same versions again: the same tab
    compare_button.click()
    tab.expect_open()

    # the versions: aliases, the source run linked to the group's MLflow UI (the API's URL)
    versions = tab.section("Versions")
    expect(versions.locator("tbody tr")).to_have_count(3)
    expect(versions.locator('tr[data-version="2"]')).to_contain_text("@champion")
    expect(versions.locator('tr[data-version="3"]')).to_contain_text("@challenger")
    for version, fact in facts.items():  # each model's size, as MLflow lists its files
        size = f"{format_bytes(sum(fact.model_files.values()))} in {len(fact.model_files)} files"
        expect(versions.locator(f'tr[data-version="{version}"]')).to_contain_text(size)
    run_link = versions.locator('tr[data-version="1"]').get_by_role("link", name="candidate-1")
    expect(run_link).to_have_attribute(
        "href",
        f"{deploy_server.url}/#/experiments/{facts['1'].experiment_id}/runs/{facts['1'].run_id}",
    )

    # metrics: one column per version, values and the best as MLflow's own client has them
    metrics = tab.section("Metrics")
    expect(metrics.locator("thead th")).to_have_text(["Metric", "v1", "v2", "v3"])
    for version in VERSIONS:
        value = facts[version].metrics["accuracy"]
        expect(tab.cell("Metrics", "accuracy", version)).to_have_text(
            re.compile(f"^{re.escape(f'{value:.4g}')}( ★)?$")
        )
    best = tab.best_versions("accuracy")
    expect(best).to_have_count(1)
    assert versions_of(best) == best_of(facts, "accuracy", "max")
    expect(best).to_have_accessible_description("best")
    expect(best).to_contain_text("★")
    plain = tab.cell("Metrics", "accuracy", "1")
    assert best.evaluate("c => getComputedStyle(c).boxShadow") != plain.evaluate(
        "c => getComputedStyle(c).boxShadow"
    )
    expect(tab.row("Metrics", "f1").locator("td.jp-mod-best")).to_have_count(0)  # only v3 has it

    # a loss is best low; turned around, the mark moves to the highest
    direction = tab.row("Metrics", "val_loss").get_by_role("button", name="↓ lower is better")
    assert versions_of(tab.best_versions("val_loss")) == best_of(facts, "val_loss", "min")
    direction.click()
    expect(tab.row("Metrics", "val_loss").get_by_role("button")).to_have_text("↑ higher is better")
    expect(tab.best_versions("val_loss")).to_have_attribute(
        "data-version", best_of(facts, "val_loss", "max")[0]
    )
    expect(tab.row("Metrics", "val_loss").get_by_role("button")).to_be_focused()
    page.keyboard.press("Enter")  # and back, by keyboard
    expect(tab.row("Metrics", "val_loss").get_by_role("button")).to_have_text("↓ lower is better")
    expect(tab.best_versions("val_loss")).to_have_attribute(
        "data-version", best_of(facts, "val_loss", "min")[0]
    )

    # differences only: the params equal in every version go (as MLflow has them)
    keys = {key for f in facts.values() for key in f.params}
    equal = {key for key in keys if len({f.params.get(key) for f in facts.values()}) == 1}
    assert equal and keys - equal
    for key in keys:
        expect(tab.row("Parameters", key)).to_have_count(1)
    tab.root.get_by_label("Differences only").check()
    for key in keys:
        expect(tab.row("Parameters", key)).to_have_count(0 if key in equal else 1)
    expect(tab.row("Tags", "reviewed")).to_have_count(1)
    tab.root.get_by_label("Differences only").uncheck()

    # the histories of one metric overlaid: a line per version, the legend hides one
    tab.section("Metric history").get_by_label("Metric").select_option("train/loss")
    lines = tab.chart.locator("polyline")
    expect(lines).to_have_count(3)
    for line in lines.all():  # every step logged (support.seeding.COMPARED_STEPS)
        assert len(line.get_attribute("points").split()) == 5
    entry = tab.legend_entry("v2")
    expect(entry).to_have_attribute("aria-pressed", "true")
    entry.click()
    expect(entry).to_have_attribute("aria-pressed", "false")
    expect(lines).to_have_count(2)
    expect(tab.chart.locator('polyline[data-series="2"]')).to_have_count(0)
    entry.click()
    expect(lines).to_have_count(3)
    axis = tab.section("Metric history").get_by_label("X axis")
    expect(axis.locator("option")).to_have_text(["Step", "Wall time", "Relative time"])
    axis.select_option(label="Relative time")
    expect(tab.chart.locator("svg")).to_have_attribute(
        "aria-label", re.compile(r"^train/loss by relative time: v1 5 values")
    )
    axis.select_option(label="Step")
    tab.snap("compare-tab")

    # one metric in every version of the model (x = version), the best one marked
    across = tab.section("Across all versions")
    across.get_by_label("Metric").select_option("val_loss")
    registered = MlflowClient(deploy_server.url).search_model_versions(f"name = '{compared}'")
    expect(across.locator("circle")).to_have_count(len(registered))
    expect(across.locator("circle.jp-mod-best")).to_have_attribute(
        "data-version", best_of(facts, "val_loss", "min")[0]
    )
    expect(across.locator("figcaption")).to_contain_text("↓ lower is better")

    with theme(page, "JupyterLab Dark"):
        texts = unreadable(text_contrasts(tab.root), TEXT, "dark")
        lines_seen = chart_contrasts(tab.root)
        assert len(lines_seen) == 4  # a history per version, and the line across versions
        tab.snap("compare-tab-dark")
    assert texts == []
    assert unreadable(lines_seen, GRAPHICS, "dark chart") == []

    # JupyterLab saved the tab with the layout: a reload brings it back
    deadline = time.monotonic() + 30
    while "mlflow-groups-compare:" not in json.dumps(
        lab.request("GET", "/lab/api/workspaces/default")
    ):
        assert time.monotonic() < deadline, "the workspace was never saved with the tab"
        time.sleep(0.2)
    page.goto("/lab")
    tab.expect_open()
    expect(tab.best_versions("accuracy")).to_have_count(1)


def test_the_compare_widget_charts_a_metric_across_versions(
    page, lab, active_group, deploy_server, compared, screenshots
):
    """CompareVersions in a notebook: the model sizes, and the chosen metric across every
    version drawn by the compare tab's own chart (the labextension's widget view)."""
    facts = mlflow_facts(deploy_server.url, compared, VERSIONS)
    cell = open_notebook(page)
    code = "from jupyter_mlflow_groups.widgets import CompareVersions\n"
    code += f"CompareVersions({compared!r}, ['1', '@champion', '@challenger'], {active_group!r})"
    output = run_cell(page, cell, code)
    expect(output).to_contain_text("Model size")
    across = output.locator("figure.jp-MlflowGroups-across")
    expect(across).to_have_attribute("data-metric", "accuracy")  # the first metric
    registered = MlflowClient(deploy_server.url).search_model_versions(f"name = '{compared}'")
    expect(across.locator("circle")).to_have_count(len(registered))
    expect(across.locator("circle.jp-mod-best")).to_have_attribute(
        "data-version", best_of(facts, "accuracy", "max")[0]
    )
    output.get_by_role("combobox", name="Metric").select_option("val_loss")
    expect(across).to_have_attribute("data-metric", "val_loss")
    expect(across.locator("circle.jp-mod-best")).to_have_attribute(
        "data-version", best_of(facts, "val_loss", "min")[0]
    )
    across.scroll_into_view_if_needed()
    across.screenshot(path=str(screenshots / "compare-widget-across.png"))
