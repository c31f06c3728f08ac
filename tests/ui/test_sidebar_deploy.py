"""Deploying from the panel: choose a deployment, follow the job's live progress until the
version is served (the finished job then folds into one line), see "Deployed By" and the
deployments list change, cancel an update halfway (the version served before stays), then stop,
start and remove the deployment from its card. Needs the deployments and jobs REST API."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from support.deploying import invocations, register_version
from support.servers import ThrottledProxy

MB = 1000 * 1000
MODEL = "sidebar-iris"


@pytest.fixture
def active_group(ui_bindings, ui_mlflow) -> Iterator[str]:
    """A group whose MLflow (the tests' own) is behind a 20 MB/s link, so that a copy lasts
    long enough to be watched and cancelled."""
    port = int(ui_mlflow.server.url.rsplit(":", 1)[1])
    proxy = ThrottledProxy(port, bytes_per_second=20 * MB)
    ui_bindings.add("deploying", {"tracking_uri": proxy.url})
    yield "deploying"
    ui_bindings.remove("deploying")
    proxy.close()


def test_deploy_a_version_watch_it_serve_then_cancel_an_update(
    sidebar, page, ui_mlflow, sklearn_model, lab
):
    model_dir, rows, predictions = sklearn_model
    first, _ = register_version(ui_mlflow.server, MODEL, model_dir, {"weights.bin": b"1" * 60 * MB})
    sidebar.open()
    sidebar.search(MODEL)
    sidebar.model_row(MODEL).click()

    sidebar.version_row(first).get_by_role("button", name="Deploy").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Deploy {MODEL} v{first}")
    expect(dialog.get_by_label("+ New deployment")).to_be_checked()
    dialog.get_by_label("Name of the new deployment").fill("iris-ui")
    sidebar.snap("deploy-dialog", whole_window=True)
    dialog.get_by_role("button", name="Deploy").click()

    job = sidebar.panel.locator(".jp-MlflowGroups-job")
    title = f"{MODEL} v{first} → iris-ui"  # one form from start to end
    expect(job).to_have_attribute("data-state", "copying", timeout=60_000)
    expect(job.locator(".jp-MlflowGroups-jobName")).to_have_text(title)
    expect(job.locator(".jp-MlflowGroups-jobDetail")).to_contain_text("MB of ")
    expect(job.locator(".jp-MlflowGroups-jobDetail")).to_contain_text(" left")
    expect(job.get_by_role("button", name="Cancel")).to_be_visible()
    sidebar.snap("deploying")

    expect(job).to_have_attribute("data-state", "done", timeout=180_000)
    expect(job.locator(".jp-MlflowGroups-jobName")).to_have_text(title)
    expect(job.get_by_role("button", name="Cancel")).to_have_count(0)
    # the finished job folds into one line by itself; its title opens it again
    toggle = job.locator(".jp-MlflowGroups-jobToggle")
    expect(toggle).to_have_attribute("aria-expanded", "false", timeout=30_000)
    expect(toggle).to_contain_text(f"{title} · deployed")
    assert job.bounding_box()["height"] < 40  # one line (it was 115 px)
    toggle.click()
    expect(job.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    url = sidebar.invocations_url(job).inner_text()  # the full address, through Jupyter
    assert url.startswith(f"{lab.url}/mlflow-groups/groups/deploying/deployments/iris-ui/")
    endpoint = urlsplit(url).path.removesuffix("invocations")
    assert invocations(lab, endpoint, rows) == predictions
    ping = job.get_by_role("link", name="Check that it answers (ping)")
    expect(ping).to_have_attribute("href", url.removesuffix("invocations") + "ping")
    assert page.request.get(ping.get_attribute("href")).status == 200  # what the link opens
    how_to_call = job.get_by_text("How to call it")
    how_to_call.click()
    job.get_by_role("button", name="Copy the request that calls iris-ui").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert f'requests.post(\n    "{url}",' in copied and "dataframe_split" in copied
    how_to_call.click()
    expect(sidebar.version_row(first)).to_contain_text("iris-ui")  # Deployed By
    sidebar.snap("deployed")

    # an update of the same deployment, cancelled halfway
    second, _ = register_version(
        ui_mlflow.server, MODEL, model_dir, {"weights.bin": os.urandom(MB) * 200}
    )
    sidebar.panel.get_by_role("button", name="Refresh: ask MLflow again").click()
    sidebar.version_row(second).get_by_role("button", name="Deploy").click()
    dialog.get_by_label("iris-ui").check()
    dialog.get_by_role("button", name="Deploy").click()
    update = job.filter(has_text=f"v{second}")
    expect(update).to_have_attribute("data-state", "copying", timeout=60_000)
    update.get_by_role("button", name="Cancel").click()
    expect(update).to_have_attribute("data-state", "cancelled", timeout=60_000)
    update_toggle = update.locator(".jp-MlflowGroups-jobToggle")
    expect(update_toggle).to_have_attribute("aria-expanded", "false", timeout=30_000)
    expect(update_toggle).to_contain_text(f"{MODEL} v{second} → iris-ui · cancelled")
    update_toggle.click()
    expect(update).to_contain_text("the previous deployment is untouched")
    assert invocations(lab, endpoint, rows) == predictions

    sidebar.panel.get_by_role("tab", name="Deployments").click()
    row = sidebar.panel.locator('.jp-MlflowGroups-deployment[data-name="iris-ui"]')
    status = row.locator(".jp-MlflowGroups-status")
    expect(row).to_contain_text(MODEL)
    expect(row).to_contain_text(f"v{first}")
    expect(status).to_have_text("serving")
    expect(sidebar.invocations_url(row)).to_have_text(url)
    expect(row.locator("time")).to_have_text(re.compile(r"^(just now|\d+ min ago)$"))
    update_toggle.click()  # both jobs folded again: one line each
    sidebar.panel.get_by_role("button", name=title, exact=True).click()
    expect(job.locator('[aria-expanded="true"]')).to_have_count(0)
    sidebar.snap("deployments")

    # stop, start and remove it from its card
    row.get_by_role("button", name="Stop").click()
    expect(status).to_have_text("stopped")
    row.get_by_role("button", name="Start").click()
    expect(status).to_have_text("serving", timeout=60_000)
    assert invocations(lab, endpoint, rows) == predictions
    row.get_by_role("button", name="Remove…").click()
    confirm = page.get_by_role("dialog")
    expect(confirm).to_contain_text("Remove the deployment iris-ui?")
    confirm.get_by_role("button", name="Remove").click()
    expect(row).to_have_count(0)
    left = lab.request("GET", "/mlflow-groups/api/groups/deploying/deployments")
    assert left["deployments"] == []
