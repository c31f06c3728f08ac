"""The DeployPanel, driven as a person would, against real deployments (see test_widgets.py
for why widget actions run in a worker thread)."""

from __future__ import annotations

import asyncio
import os

import ipywidgets as widgets
import pytest
from support.deploying import predictions, register_version
from support.extension import service_of
from support.widget_text import button, leaves, visible_text

from jupyter_mlflow_groups.kernel.client import ServerClient
from jupyter_mlflow_groups.kernel.widgets import DeployPanel, ModelBrowser

MB = 1024 * 1024


async def act(function, *args, **kwargs):
    return await asyncio.to_thread(function, *args, **kwargs)


@pytest.fixture
def client(deploy_server, bindings, jp_serverapp, http_server_client):
    bindings.write({"groups": {"dep": {"tracking_uri": deploy_server.url}}})
    token = service_of(jp_serverapp).tokens.issue("panel-kernel", "alice")
    return ServerClient(f"http://127.0.0.1:{jp_serverapp.port}{jp_serverapp.base_url}", token)


def bar_values(panel: DeployPanel) -> list[float]:
    values: list[float] = []
    panel.bar.observe(lambda change: values.append(change["new"]), names="value")
    return values


async def test_deploy_from_the_model_browser_then_update_an_existing_deployment(
    client, deploy_server, sklearn_model, jp_client
):
    model_dir, rows, expected = sklearn_model
    first, _ = register_version(
        deploy_server, "panel-iris", model_dir, {"blob.bin": os.urandom(5 * MB)}
    )
    second, _ = register_version(deploy_server, "panel-iris", model_dir)
    browser = await act(ModelBrowser, "dep", client=client)
    await act(browser.open_model, "panel-iris")
    deploys = [
        n
        for n in leaves(browser.body)
        if isinstance(n, widgets.Button) and n.description == "Deploy"
    ]
    await act(deploys[-1].click)  # the oldest version, listed last
    panel = next(node for node in leaves(browser.body) if isinstance(node, DeployPanel))
    assert panel.version == first and panel.target.value == "+ new deployment"
    values = bar_values(panel)
    panel.name.value = "panel-prod"
    await act(button(panel, "Deploy").click)
    assert await act(panel.finished.wait, 300)
    text = visible_text(panel)
    assert f"Deployed panel-iris version {first} to 'panel-prod'" in text
    assert "panel-prod serves at /a%40b/mlflow-groups/groups/dep/deployments/panel-prod/" in text
    assert 'get_deploy_client("jupyter-mlflow-groups:/dep")' in text
    assert 'client.predict("panel-prod", pd.DataFrame(' in text
    assert values == sorted(values) and values[-1] == 1.0  # mid-copy values: see the cancel test
    assert await predictions(jp_client, panel.job["endpoint"], rows) == expected

    await act(button(browser, "Back").click)
    assert f"Version {first} | " in visible_text(
        browser
    ) and "| panel-prod | Deploy" in visible_text(browser)

    update = await act(DeployPanel, "panel-iris", second, "dep", client=client)
    assert dict(update.target.options)[f"panel-prod (now panel-iris v{first})"] == "panel-prod"
    update.target.value = "panel-prod"
    assert update.name.layout.display == "none"
    await act(button(update, "Deploy").click)
    assert await act(update.finished.wait, 300)
    assert f"Deployed panel-iris version {second} to 'panel-prod'" in visible_text(update)
    assert update.job["endpoint"] == panel.job["endpoint"]


async def test_cancel_from_the_panel(
    deploy_server, sklearn_model, bindings, jp_serverapp, http_server_client
):
    from support.servers import ThrottledProxy

    proxy = ThrottledProxy(int(deploy_server.url.rsplit(":", 1)[1]), bytes_per_second=20 * MB)
    try:
        bindings.write({"groups": {"slow": {"tracking_uri": proxy.url}}})
        token = service_of(jp_serverapp).tokens.issue("k", "alice")
        client = ServerClient(f"http://127.0.0.1:{jp_serverapp.port}{jp_serverapp.base_url}", token)
        model_dir, _, _ = sklearn_model
        version, _ = register_version(
            deploy_server, "panel-slow", model_dir, {"blob.bin": os.urandom(MB) * 100}
        )
        panel = await act(DeployPanel, "panel-slow", version, "slow", client=client)
        panel.name.value = "never"
        await act(button(panel, "Deploy").click)
        while panel.bar.value < 0.05:
            await asyncio.sleep(0.05)
        assert "copying" in panel.progress.value and "MB/s" in panel.progress.value
        await act(button(panel, "Cancel").click)
        assert await act(panel.finished.wait, 120)
        assert "Cancelled: 'never' is unchanged." in visible_text(panel)
        assert panel.job["state"] == "cancelled"
    finally:
        proxy.close()


async def test_a_compact_final_line_when_the_progress_bar_is_off(
    client, deploy_server, monkeypatch, tmp_path
):
    monkeypatch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a model")
    version, _ = register_version(deploy_server, "panel-broken", empty)
    panel = await act(DeployPanel, "panel-broken", version, "dep", client=client)
    shown: list[str] = []
    panel.progress.observe(lambda change: shown.append(change["new"]), names="value")
    displays: list = []
    panel.bar.layout.observe(lambda change: displays.append(change["new"]), names="display")
    panel.name.value = "broken"
    await act(button(panel, "Deploy").click)
    assert await act(panel.finished.wait, 120)
    assert panel.bar.layout.display == "none" and None not in displays  # never a live bar
    assert len(shown) == 1  # one line, at the end
    assert "Deploying to 'broken' failed:" in shown[0] and "holds no MLmodel file" in shown[0]
    assert "Nothing was changed." in shown[0]
    assert "Register a version logged as an MLflow model" in shown[0]  # and what to do
