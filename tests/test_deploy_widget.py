"""The DeployPanel, driven as a person would, against real deployments (see test_widgets.py
for why widget actions run in a worker thread)."""

from __future__ import annotations

import asyncio
import os

import ipywidgets as widgets
import pytest
import requests
from support.deploying import predictions, register_version
from support.extension import service_of
from support.widget_text import button, buttons, leaves, visible_text

from jupyter_mlflow_groups.kernel.client import ServerClient
from jupyter_mlflow_groups.kernel.widgets import DeploymentsPanel, DeployPanel, ModelBrowser

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
    assert panel.name.value == "panel-iris"  # named after the model, as the sidebar does
    values = bar_values(panel)
    titles: list[str] = []
    panel.progress.observe(lambda change: titles.append(change["new"]), names="value")
    panel.name.value = "panel-prod"
    await act(button(panel, "Deploy").click)
    assert await act(panel.finished.wait, 300)
    text = visible_text(panel)
    assert f"Deployed panel-iris v{first} → panel-prod: " in text
    live = [line for line in titles if not line.startswith("Deployed")]
    assert live and all(
        line.startswith(f"<b>panel-iris v{first} → panel-prod</b>") for line in live
    )
    invocations = "/a%40b/mlflow-groups/groups/dep/deployments/panel-prod/invocations"
    assert "Invocations URL (POST JSON, with your Jupyter login or token): " in text
    assert f"{client.url.rstrip('/').removesuffix('/a%40b')}{invocations}" in text
    assert 'get_deploy_client("jupyter-mlflow-groups:/dep")' in text
    assert 'client.predict("panel-prod", pd.DataFrame(' in text
    assert "requests.post(" in text and '"dataframe_split"' in text
    assert f"panel-prod | panel-iris v{first} | serving | " in text
    assert {"Stop", "Remove"} <= set(buttons(panel.result))
    assert (
        dict(panel.target.options)[f"panel-prod (now panel-iris v{first}, serving)"]
        == (
            "panel-prod"  # the new deployment joined the menu, and is chosen
        )
        and panel.target.value == "panel-prod"
    )
    assert values == sorted(values) and values[-1] == 1.0  # mid-copy values: see the cancel test
    assert await predictions(jp_client, panel.job["endpoint"], rows) == expected

    await act(button(browser, "Back").click)
    assert f"Version {first} | " in visible_text(
        browser
    ) and "| panel-prod | Deploy" in visible_text(browser)

    update = await act(DeployPanel, "panel-iris", second, "dep", client=client)
    label = f"panel-prod (now panel-iris v{first}, serving)"
    assert dict(update.target.options)[label] == "panel-prod"
    update.target.value = "panel-prod"
    assert update.name.layout.display == "none"
    await act(button(update, "Deploy").click)
    assert await act(update.finished.wait, 300)
    assert f"Deployed panel-iris v{second} → panel-prod: " in visible_text(update)
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
        assert f"panel-slow v{version} → never</b> · Copying · " in panel.progress.value
        assert "MB/s" in panel.progress.value
        await act(button(panel, "Cancel").click)
        assert await act(panel.finished.wait, 120)
        assert f"panel-slow v{version} → never: cancelled; 'never' is unchanged." in (
            visible_text(panel)
        )
        assert panel.job["state"] == "cancelled"
        assert "Cancel" not in buttons(panel)  # hidden once nothing can be cancelled
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
    assert f"Deploying panel-broken v{version} → broken failed:" in shown[0]
    assert "holds no MLmodel file" in shown[0]
    assert "Nothing was changed." in shown[0]
    assert "Register a version logged as an MLflow model" in shown[0]  # and what to do


async def test_the_panel_asks_for_a_name_and_hides_cancel_once_it_cannot_work(
    client, deploy_server, sklearn_model
):
    model_dir, _, _ = sklearn_model
    version, _ = register_version(deploy_server, "Panel Named_Model", model_dir)
    panel = await act(DeployPanel, "Panel Named_Model", version, "dep", client=client)
    assert panel.name.value == "panel-named-model"
    assert "Cancel" not in buttons(panel)  # nothing to cancel yet
    panel.name.value = "  "
    await act(button(panel, "Deploy").click)
    text = visible_text(panel)
    assert "Give the new deployment a name." in text and "lowercase letters" in text
    assert "Send {" not in text and panel.job is None  # refused before anything was sent

    panel.name.value = "named"
    shown: list[tuple[str, bool]] = []
    panel.cancel_button.layout.observe(
        lambda change: shown.append((panel.job["state"], change["new"] != "none")),
        names="display",
    )
    await act(button(panel, "Deploy").click)
    assert await act(panel.finished.wait, 300)
    assert panel.job["state"] == "done", panel.job["error"]
    assert shown[0][1] and not shown[-1][1]  # offered at first, hidden at the end
    assert all(
        offered == (state in ("queued", "planning", "copying", "verifying"))
        for state, offered in shown
    )
    assert "Cancel" not in buttons(panel)


async def test_deployments_panel_stops_starts_and_removes_with_a_confirmation(
    client, deploy_server, sklearn_model, jp_client
):
    model_dir, rows, expected = sklearn_model
    version, _ = register_version(deploy_server, "managed-here", model_dir)
    panel = await act(DeployPanel, "managed-here", version, "dep", client=client)
    await act(button(panel, "Deploy").click)
    assert await act(panel.finished.wait, 300)
    endpoint = panel.job["endpoint"]

    deployments = await act(DeploymentsPanel, "dep", client=client)
    text = visible_text(deployments)
    assert "Deployments · group dep" in text
    assert "Name | Serves | Status | Updated | By |" in text
    assert f"managed-here | managed-here v{version} | serving |" in text
    assert "Invocations URL" in text  # the only deployment: how to call it, at once
    links = [n.value for n in leaves(deployments) if isinstance(n, widgets.HTML)]
    assert any(f"/#/models/managed-here/versions/{version}" in v for v in links)

    await act(button(deployments, "Stop").click)
    assert f"managed-here v{version} | stopped |" in visible_text(deployments)
    with pytest.raises(requests.HTTPError, match="404"):
        await predictions(jp_client, endpoint, rows)

    await act(button(deployments, "Start").click)
    assert await act(deployments.settled.wait, 300)
    assert f"managed-here v{version} | serving |" in visible_text(deployments)
    assert await predictions(jp_client, endpoint, rows) == expected

    await act(button(deployments, "Remove").click)
    assert "Remove the deployment managed-here?" in visible_text(deployments)
    await act(button(deployments, "Keep it").click)
    assert "Remove the deployment managed-here?" not in visible_text(deployments)
    assert f"managed-here v{version} | serving |" in visible_text(deployments)  # still there
    await act(button(deployments, "Remove").click)
    await act(button(deployments, "Remove managed-here").click)
    assert "No deployments in this group yet" in visible_text(deployments)
    with pytest.raises(requests.HTTPError, match="404"):
        await predictions(jp_client, endpoint, rows)
