"""A version's source run's artifacts in the sidebar: a directory expanded, the confusion
matrix previewed as an image (fetched through the API with Jupyter's auth), JSON
pretty-printed, a CSV as a table, and a file without a preview linked to the MLflow UI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from support.seeding import PREVIEW_PNG_SIZE

GROUP = "previewing"


@pytest.fixture
def active_group(ui_bindings, deploy_server, previews) -> Iterator[str]:
    """A group on the server that holds the previewed model."""
    ui_bindings.add(GROUP, {"tracking_uri": deploy_server.url})
    yield GROUP
    ui_bindings.remove(GROUP)


def test_preview_a_version_s_artifacts(sidebar, previews):
    sidebar.open()
    sidebar.expect_health("ok")
    sidebar.search("previewed")
    sidebar.model_row(previews.model).click()
    sidebar.open_version("1")
    artifacts = sidebar.panel.get_by_role("region", name="Artifacts")
    plots = artifacts.get_by_role("button", name="plots/")
    expect(plots).to_have_attribute("aria-expanded", "false")
    plots.focus()  # keyboard: a directory opens with Enter
    sidebar.page.keyboard.press("Enter")
    expect(plots).to_have_attribute("aria-expanded", "true")

    artifacts.get_by_role("button", name="confusion_matrix.png").click()
    image = artifacts.locator("img.jp-MlflowGroups-artifactImage")
    expect(image).to_be_visible()
    assert image.get_attribute("src").startswith("blob:")
    image.evaluate("img => img.decode()")
    assert image.evaluate("img => img.naturalWidth") == PREVIEW_PNG_SIZE[0]
    image.scroll_into_view_if_needed()  # the tree and the preview in the picture
    sidebar.snap("artifacts")

    artifacts.get_by_role("button", name="metrics.json").click()
    expect(artifacts.locator("pre.jp-MlflowGroups-artifactText")).to_contain_text(
        '"accuracy": 0.91'
    )
    artifacts.get_by_role("button", name="eval/").click()
    artifacts.get_by_role("button", name="predictions.csv").click()
    table = artifacts.locator("table.jp-MlflowGroups-artifactTable")
    expect(table.locator("thead th")).to_have_text(["label", "predicted", "score"])
    expect(table.locator("tbody tr")).to_have_count(3)

    artifacts.get_by_role("button", name="model.pkl").click()
    expect(artifacts).to_contain_text("No preview for this kind of file.")
    expect(artifacts.get_by_role("link", name="Open the run in MLflow UI")).to_be_visible()
