"""Browsing the group's registry in the panel: search, pages, a model's versions, a version's
details with metric charts, and the code that loads it."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, expect
from support.lab_actions import open_notebook

HISTORY_MODEL = "model-0003"  # its run (shared with model-0000) has the 1,000-step histories
#: How long ago a version registered by this test session was, as lists show it.
RECENTLY = re.compile(r"^(just now|\d+ min ago|\d+ h ago)$")
#: The moment on hover: ISO 8601 with the browser's offset.
FULL_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def rendered_lines(code: Locator) -> int:
    """How many lines a code block shows (its lines as laid out, wrapped ones counted)."""
    return code.evaluate(
        """pre => {
          const style = getComputedStyle(pre);
          const inner = pre.clientHeight - parseFloat(style.paddingTop)
            - parseFloat(style.paddingBottom);
          return Math.round(inner / parseFloat(style.lineHeight));
        }"""
    )


def test_find_a_model_by_search_and_see_a_version_with_metric_charts(sidebar, ui_mlflow):
    sidebar.open()
    sidebar.expect_health("ok")
    expect(sidebar.model_rows.first).to_be_visible()
    sidebar.snap("models", whole_window=True)

    sidebar.search("0003")  # plain words search names
    expect(sidebar.model_rows).to_have_count(1)
    expect(sidebar.panel).to_contain_text("name ILIKE '%0003%'")  # the filter it made
    row = sidebar.model_row(HISTORY_MODEL)  # each alias with the version it points at
    expect(row).to_contain_text("@champion → v3")
    expect(row).to_contain_text("@challenger → v2")
    sidebar.snap("search")

    sidebar.model_row(HISTORY_MODEL).focus()  # keyboard: a model row opens with Enter
    sidebar.page.keyboard.press("Enter")
    expect(sidebar.panel.get_by_role("heading", name=HISTORY_MODEL)).to_be_focused()
    expect(sidebar.versions_table.locator("tbody tr")).to_have_count(3)
    headers = sidebar.versions_table.locator("thead th")
    expect(headers).to_have_text(["Version", "Registered At", "Aliases", "Deployed By", "Deploy"])
    expect(sidebar.version_row("3")).to_contain_text("@champion")
    expect(sidebar.version_row("2")).to_contain_text("@challenger")
    registered = sidebar.version_row("3").locator("time")  # how long ago; the moment on hover
    expect(registered).to_have_text(RECENTLY)
    expect(registered).to_have_attribute("title", FULL_TIMESTAMP)
    sidebar.snap("versions")

    sidebar.open_version("3")
    panel = sidebar.panel
    code = panel.get_by_role("region", name="Load it in a notebook").locator("pre")
    expect(code).to_have_text(
        f'import mlflow\n\nmodel = mlflow.pyfunc.load_model("models:/{HISTORY_MODEL}/3")'
    )
    assert rendered_lines(code) == 3  # no line broken in the narrow panel: it scrolls instead
    facts = panel.locator(".jp-MlflowGroups-facts")
    expect(facts.locator("time")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$"))
    expect(facts.locator("time")).to_have_attribute("title", FULL_TIMESTAMP)
    signature = panel.get_by_role("region", name="Signature")  # from the version's MLmodel
    inputs = signature.get_by_role("table", name="Inputs")
    rows = inputs.get_by_role("row")
    expect(rows).to_have_text(["amount double", "age long"], use_inner_text=True)
    expect(signature.get_by_role("table", name="Outputs")).to_contain_text("long")
    parameters = panel.get_by_role("region", name="Parameters")
    expect(parameters.get_by_role("row", name=re.compile("^alpha"))).to_be_visible()
    expect(parameters).to_contain_text("max_depth")
    loss = panel.locator('figure[data-metric="train/loss"]')
    expect(loss.locator("svg")).to_have_attribute(
        "aria-label", re.compile(r"^train/loss: 1000 values from step 0 to 999")
    )
    assert len(loss.locator("polyline").get_attribute("points").split()) > 100
    expect(panel.locator('figure[data-metric="accuracy"] polyline')).to_be_attached()
    expect(panel.get_by_role("region", name="Tags")).to_contain_text("stage")
    ui_link = panel.get_by_role("link", name="Open in MLflow UI")
    expect(ui_link).to_have_attribute("target", "_blank")
    expect(ui_link).to_have_attribute(
        "href", f"{ui_mlflow.server.url}/#/models/{HISTORY_MODEL}/versions/3"
    )
    run_link = panel.get_by_role("region", name="Source run").get_by_role("link")
    expect(run_link).to_have_attribute("href", re.compile(r"/#/experiments/\d+/runs/\w+$"))
    sidebar.snap("version")

    panel.get_by_role("button", name="Copy the code that loads this version").click()
    copied = sidebar.page.evaluate("navigator.clipboard.readText()")
    assert copied.endswith(f'mlflow.pyfunc.load_model("models:/{HISTORY_MODEL}/3")')

    # the Models tab keeps its place while the Deployments tab is looked at
    panel.get_by_role("tab", name="Deployments").click()
    expect(panel.get_by_role("tab", name="Deployments")).to_have_attribute("aria-selected", "true")
    panel.get_by_role("tab", name="Models").click()
    expect(panel.get_by_role("heading", level=2)).to_have_text(f"{HISTORY_MODEL} v3")

    panel.get_by_role("button", name=f"Back to {HISTORY_MODEL}").click()
    panel.get_by_role("button", name="Back to Models").click()
    expect(sidebar.model_rows).to_have_count(1)  # the search is kept


def test_pages_refresh_and_empty_and_invalid_searches(sidebar, ui_mlflow):
    sidebar.open()
    rows = sidebar.model_rows
    expect(rows).to_have_count(25)
    first_page = rows.all_inner_texts()
    pager = sidebar.panel.get_by_role("navigation", name="Pages of models")
    expect(pager.get_by_role("button", name="Previous")).to_be_disabled()
    pager.get_by_role("button", name="Next").click()
    expect(pager).to_contain_text("Page 2")
    expect(rows).to_have_count(len(ui_mlflow.seeded.model_names) - 25)
    expect(pager.get_by_role("button", name="Next")).to_be_disabled()
    sidebar.snap("page-2")
    pager.get_by_role("button", name="Previous").click()
    expect(pager).to_contain_text("Page 1")
    assert rows.all_inner_texts() == first_page

    ui_mlflow.server.request(
        "POST", "/api/2.0/mlflow/registered-models/create", {"name": "aaa-registered-just-now"}
    )
    sidebar.panel.get_by_role("button", name="Refresh: ask MLflow again").click()
    expect(rows.first).to_contain_text("aaa-registered-just-now")

    sidebar.search("tags.team = 'b'")  # MLflow's own filter syntax
    expect(rows.first).to_be_visible()
    expect(sidebar.panel.locator(".jp-MlflowGroups-filterShown")).to_have_text(
        "Filter: tags.team = 'b'"
    )

    sidebar.search("no such model anywhere")
    expect(sidebar.panel.get_by_text("No model matches this search.")).to_be_visible()
    sidebar.snap("empty")

    sidebar.search("name LIKE")  # MLflow cannot parse it: its message is shown
    expect(sidebar.problem).to_have_attribute("data-code", "bad_request")
    expect(sidebar.problem).to_contain_text("MLflow could not accept the request")


def test_insert_the_loading_code_into_the_active_notebook_cell(sidebar, page):
    cell = open_notebook(page)

    sidebar.open()
    sidebar.model_row("model-0001").click()
    sidebar.open_version("1")
    sidebar.panel.get_by_role("button", name="Insert into notebook").click()
    expect(cell.locator(".cm-content")).to_contain_text(
        'model = mlflow.pyfunc.load_model("models:/model-0001/1")'
    )


def test_commands_in_the_palette_and_tabs_by_keyboard(sidebar, page):
    page.keyboard.press("Control+Shift+C")
    palette = page.locator("#command-palette")
    search = palette.get_by_role("textbox")
    search.fill("MLflow")
    commands = palette.locator(".lm-CommandPalette-item:visible .lm-CommandPalette-itemLabel")
    expect(commands).to_have_count(6)
    assert sorted(commands.all_inner_texts()) == [
        "Open MLflow UI",
        "Refresh MLflow Panel",
        "Show MLflow Deployments",
        "Show MLflow Models",
        "Show MLflow Requests",
        "Switch MLflow Group…",
    ]
    search.fill("Show MLflow Deployments")
    search.press("Enter")
    deployments = sidebar.panel.get_by_role("tab", name="Deployments")
    expect(deployments).to_have_attribute("aria-selected", "true")

    deployments.focus()
    page.keyboard.press("ArrowLeft")
    models = sidebar.panel.get_by_role("tab", name="Models")
    expect(models).to_be_focused()
    expect(models).to_have_attribute("aria-selected", "true")
    expect(sidebar.model_rows.first).to_be_visible()
