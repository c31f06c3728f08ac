"""The ipywidgets panels, driven as a person would: type, click, read what is shown.

The widgets' client is synchronous, like in a kernel; the test's Jupyter server runs on this
thread's event loop, so every widget action runs in a worker thread (`act`).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from pathlib import Path

import ipywidgets as widgets
import pytest
from mlflow import MlflowClient
from support.deploying import register_version
from support.extension import service_of
from support.kernels import run_in_kernel, start_kernel
from support.seeding import model_name
from support.servers import ADMIN_PASSWORD, ADMIN_USER
from support.training import end_run, log, start_run
from support.widget_text import IMPORT_IN_KERNEL, button, buttons, leaves, visible_text

from jupyter_mlflow_groups.kernel import live
from jupyter_mlflow_groups.kernel.client import ServerClient
from jupyter_mlflow_groups.kernel.widgets import (
    DeployPanel,
    MetricChart,
    ModelBrowser,
    RunChart,
    VersionDetail,
)


async def act(function, *args, **kwargs):
    return await asyncio.to_thread(function, *args, **kwargs)


async def click(root, description: str) -> None:
    await act(button(root, description).click)


@pytest.fixture
def client(seeded, mlflow_servers, bindings, jp_serverapp, http_server_client):
    """A client as a kernel has one (http_server_client: the test server must be listening)."""
    bindings.write(
        {
            "groups": {
                "reg": {"tracking_uri": mlflow_servers.plain.url, "ui_url": "http://ui.example"}
            }
        }
    )
    service = service_of(jp_serverapp)
    token = service.tokens.issue("widget-test-kernel", "alice")  # as the provisioner would
    return ServerClient(f"http://127.0.0.1:{jp_serverapp.port}{jp_serverapp.base_url}", token)


def model_buttons(browser: ModelBrowser) -> list[str]:
    return [
        name
        for name in buttons(browser.body)
        if name.startswith(("model-", "fraud", "it's", "quoted"))
    ]


async def test_the_browser_pages_through_models(client, seeded):
    browser = await act(ModelBrowser, "reg", client=client)
    names = sorted(seeded.model_names)
    assert model_buttons(browser) == names[:25]
    text = visible_text(browser)
    assert "MLflow models · group reg" in text and "Open MLflow UI" in text
    assert "Page 1 · 25 shown" in text
    assert button(browser, "Previous").disabled and not button(browser, "Next").disabled

    await click(browser, "Next")
    assert model_buttons(browser) == names[25:50]
    assert "Page 2 · 25 shown" in visible_text(browser)
    await click(browser, "Previous")
    assert model_buttons(browser) == names[:25]

    await act(setattr, browser.page_size, "value", 100)
    assert model_buttons(browser) == names[:100]
    for _ in range(2):
        await click(browser, "Next")
    assert model_buttons(browser) == names[200:]
    assert button(browser, "Next").disabled


async def test_search_with_mlflow_filter_syntax(client):
    browser = await act(ModelBrowser, "reg", client=client)
    await act(setattr, browser.search, "value", "name LIKE '%fraud%'")
    assert model_buttons(browser) == ["fraud detector é"]
    await act(setattr, browser.search, "value", "name = 'nothing-like-this'")
    assert "No model matches name = 'nothing-like-this'." in visible_text(browser)
    await act(setattr, browser.search, "value", "name LIKE")
    assert "MLflow refused the request: Invalid clause(s) in filter string" in visible_text(browser)


async def test_a_model_s_versions_and_a_version_s_details(client, seeded):
    browser = await act(ModelBrowser, "reg", client=client)
    await click(browser, model_name(0))
    text = visible_text(browser)
    assert f"Model {model_name(0)}" in text
    assert "Version | Registered At | Aliases | Deployed By |" in text
    assert "Version 3 | " in text and "| champion | — | Deploy" in text
    versions = [b for b in buttons(browser.body) if b.startswith("Version ")]
    assert versions == ["Version 3", "Version 2", "Version 1"]
    assert "champion" in text and "challenger" in text
    deploy = [
        node
        for node in leaves(browser.body)
        if isinstance(node, widgets.Button) and node.description == "Deploy"
    ]
    assert len(deploy) == 3 and not any(node.disabled for node in deploy)

    await click(browser, "Version 3")
    detail = next(node for node in leaves(browser.body) if isinstance(node, VersionDetail))
    text = visible_text(detail)
    assert f"{model_name(0)} · version 3" in text
    assert "Open in MLflow UI" in text and "READY" in text and "champion" in text
    assert 'mlflow.pyfunc.load_model("models:/model-0000/3")' in text
    assert "Parameters | Metrics | Tags | Signature" in text
    assert "Status | Registered At | Last Modified | Aliases | Deployed By" in text
    assert "alpha | 0.0" in text and "max_depth | 3" in text
    assert "team | a" in text and "stage | candidate" in text
    assert "amount | double | yes" in text and "age | long | yes" in text
    assert "No deployment serves this version: Deploy above." in text
    stamps = [
        n.value for n in leaves(detail) if isinstance(n, widgets.HTML) and "title=" in n.value
    ]
    assert any(re.search(r'title="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]', v) for v in stamps)

    await click(detail, "Deploy")  # like the sidebar's: deploy the version shown
    panel = next(node for node in leaves(detail) if isinstance(node, DeployPanel))
    assert (panel.model, panel.version, panel.name.value) == (model_name(0), "3", model_name(0))
    await click(detail, "Back")
    assert f"{model_name(0)} · version 3" in visible_text(detail)

    await click(browser, model_name(0))  # the back button is labelled with the model
    await click(browser, "All models")
    assert model_buttons(browser)[:1] == sorted(seeded.model_names)[:1]


async def test_the_metric_chart_holds_every_step_for_the_labextension_s_view(client, seeded):
    detail = await act(VersionDetail, model_name(0), "1", "reg", client=client)
    assert list(detail.metric_choice.options) == ["accuracy", "rmse", "train/loss"]
    await act(setattr, detail.metric_choice, "value", "train/loss")
    chart = detail.chart
    assert isinstance(chart, MetricChart) and chart in leaves(detail)
    state = chart.get_state()
    assert (state["_view_module"], state["_view_name"]) == (
        "jupyter-mlflow-groups",
        "MetricChartView",
    )
    assert state["title"] == "train/loss" and state["x_axis"] == "step"
    ((label, points),) = [(one["label"], one["points"]) for one in state["series"]]
    assert label == "train/loss"
    assert [point["step"] for point in points] == list(range(seeded.history_steps))
    assert points[10]["value"] == pytest.approx(1 / 11)
    assert all(isinstance(point["timestamp"], int) for point in points)  # wall and relative time
    await act(setattr, detail.metric_choice, "value", "accuracy")
    assert [one["label"] for one in chart.series] == ["accuracy"]


def test_the_chart_s_view_is_the_labextension_s_version():
    package = json.loads((Path(__file__).parents[1] / "labextension" / "package.json").read_text())
    assert MetricChart().get_state()["_view_module"] == package["name"]
    assert MetricChart().get_state()["_view_module_version"] == f"^{package['version']}"


@pytest.mark.parametrize(
    ("binding", "fragments"),
    [
        (
            {"tracking_uri": "ftp://nowhere"},
            ["MLflow is not configured for group 'g'", "Ask your group admin"],
        ),
        (
            {"tracking_uri": "CLOSED"},
            ["is not reachable: connection refused", "Check that the MLflow server is running"],
        ),
        (
            {
                "tracking_uri": "AUTH",
                "tracking_env": {
                    "MLFLOW_TRACKING_USERNAME": ADMIN_USER,
                    "MLFLOW_TRACKING_PASSWORD": "nope-1234",
                },
            },
            [
                "refused the credentials (401)",
                "ask your group admin to check the username and password",
            ],
        ),
    ],
)
async def test_problems_are_explained_to_a_person(
    client, bindings, mlflow_servers, closed_url, binding, fragments
):
    uri = {"CLOSED": closed_url, "AUTH": mlflow_servers.auth.url}.get(
        binding["tracking_uri"], binding["tracking_uri"]
    )
    bindings.write({"groups": {"g": {**binding, "tracking_uri": uri}}})
    browser = await act(ModelBrowser, "g", client=client)
    text = visible_text(browser)
    for fragment in fragments:
        assert fragment in text
    assert "Traceback" not in text


async def test_no_secret_in_any_widget_state(client, bindings, mlflow_servers):
    bindings.write(
        {
            "groups": {
                "secure": {
                    "tracking_uri": mlflow_servers.auth.url,
                    "tracking_env": {
                        "MLFLOW_TRACKING_USERNAME": ADMIN_USER,
                        "MLFLOW_TRACKING_PASSWORD": ADMIN_PASSWORD,
                    },
                }
            }
        }
    )
    mlflow_servers.auth.request(
        "POST", "/api/2.0/mlflow/registered-models/create", {"name": "state-probe"}
    )
    browser = await act(ModelBrowser, "secure", client=client)
    await click(browser, "state-probe")
    # in the Default experiment: other tests expect no experiment of ours on the shared server
    run_id = start_run(mlflow_servers.auth, "state-probe", experiment="0")
    log(mlflow_servers.auth, run_id, "loss", 0.5, 0)
    chart = RunChart(run_id, group="secure", interval=0.2, client=client)
    await until(lambda: steps(chart, "loss") == [0])
    chart.close()
    end_run(mlflow_servers.auth, run_id)
    states = [json.dumps(node.get_state(), default=str) for node in [*leaves(browser), chart]]
    assert any("state-probe" in state for state in states)
    token = client._session.headers["X-Mlflow-Groups-Token"]
    for state in states:
        assert ADMIN_PASSWORD not in state and token not in state


def test_outside_jupyter_the_browser_says_so(monkeypatch):
    monkeypatch.delenv("JUPYTER_MLFLOW_GROUPS_URL", raising=False)
    monkeypatch.delenv("JUPYTER_MLFLOW_GROUPS_TOKEN", raising=False)
    browser = ModelBrowser()
    assert "not started by a Jupyter server with jupyter-mlflow-groups" in visible_text(browser)


async def test_the_browser_in_a_real_kernel(
    seeded, mlflow_servers, bindings, jp_fetch, jp_serverapp
):
    bindings.write({"groups": {"reg": {"tracking_uri": mlflow_servers.plain.url}}})
    kernel = await start_kernel(jp_fetch)
    code = (  # the import path notebooks have had from the start
        "from jupyter_mlflow_groups.widgets import ModelBrowser\n"
        f"{IMPORT_IN_KERNEL}"
        "browser = ModelBrowser()\n"
        "print(visible_text(browser))\n"
    )
    text = await run_in_kernel(jp_serverapp, kernel, code)
    assert "MLflow models · group reg" in text
    assert sorted(seeded.model_names)[0] in text
    assert "Page 1 · 25 shown" in text


async def test_an_open_browser_updates_by_itself_when_an_alias_moves(
    deploy_server, sklearn_model, bindings, jp_serverapp, http_server_client, monkeypatch
):
    monkeypatch.setattr(live, "WAIT", 2)  # each long poll: 2 s, so the thread ends soon
    bindings.write({"groups": {"free": {"tracking_uri": deploy_server.url}}})
    model = f"live-widget-{uuid.uuid4().hex[:6]}"
    first, _ = register_version(deploy_server, model, sklearn_model[0])
    second, _ = register_version(deploy_server, model, sklearn_model[0])
    service = service_of(jp_serverapp)
    url = f"http://127.0.0.1:{jp_serverapp.port}{jp_serverapp.base_url}"
    kernel = ServerClient(url, service.tokens.issue("widget-kernel", "alice"))
    browser = await act(ModelBrowser, "free", client=kernel)
    await act(browser.open_model, model)

    def row_of(version: str) -> str:
        return next(
            line for line in visible_text(browser).splitlines() if f"Version {version} " in line
        )

    assert "staging" not in row_of(second)

    elsewhere = ServerClient(url, service.tokens.issue("another-kernel", "alice"))
    await act(elsewhere.set_alias, "free", model, "staging", second, "try it")
    for _ in range(100):  # nobody clicks Refresh: the browser reads again by itself
        if "staging" in row_of(second):
            break
        await asyncio.sleep(0.1)
    assert "staging" in row_of(second), visible_text(browser)
    assert "staging" not in row_of(first)
    feed = next(thread for thread in threading.enumerate() if "changes of free" in thread.name)
    browser.close()  # a closed panel stops listening, and its thread ends
    await act(feed.join, 10)
    assert not feed.is_alive()


def steps(chart: MetricChart, label: str) -> list[int]:
    """The steps the chart holds for the series `label` (what its view draws)."""
    for one in chart.series:
        if one["label"] == label:
            return [point["step"] for point in one["points"]]
    return []


async def until(condition, timeout: float = 30.0) -> None:
    """Wait (letting the test's Jupyter server answer) until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_run_chart_shows_points_logged_after_it_opened_and_stops_when_the_run_ends(
    client, mlflow_servers
):
    server = mlflow_servers.plain
    run_id = start_run(server, "training")
    log(server, run_id, "loss", 1.0, 0)
    chart = RunChart(run_id, group="reg", interval=0.2, client=client)
    seen: list[int] = []
    chart.observe(lambda change: seen.append(len(steps(chart, "loss"))), names="series")
    await until(lambda: steps(chart, "loss") == [0])
    assert chart.title == "training" and chart.status == "RUNNING"

    def train() -> None:  # a training loop elsewhere, logging while the chart is shown
        for step in range(1, 6):
            log(server, run_id, "loss", 1 / (step + 1), step)
            log(server, run_id, "accuracy", step / 10, step)
            time.sleep(0.3)

    trainer = threading.Thread(target=train)
    trainer.start()
    await until(lambda: steps(chart, "loss") == list(range(6)))
    await until(lambda: steps(chart, "accuracy") == list(range(1, 6)))
    await act(trainer.join)
    assert len(set(seen)) >= 3, seen  # the points came in as they were logged, not at once
    loss = next(one for one in chart.series if one["label"] == "loss")["points"]
    assert loss[5]["value"] == pytest.approx(1 / 6)
    assert chart.thread.is_alive()  # still following: the run goes on
    assert "running · 6 steps" in chart.note

    end_run(server, run_id)
    await until(lambda: not chart.thread.is_alive())
    assert chart.status == "FINISHED" and chart.note == "finished · 6 steps"
    assert client._session.headers["X-Mlflow-Groups-Token"] not in json.dumps(chart.get_state())


async def test_a_closed_run_chart_stops_following(client, mlflow_servers):
    run_id = start_run(mlflow_servers.plain, "closed")
    log(mlflow_servers.plain, run_id, "loss", 1.0, 0)
    chart = RunChart(run_id, ["loss"], group="reg", interval=0.2, client=client)
    await until(lambda: steps(chart, "loss") == [0])
    chart.close()  # or its output cleared
    await until(lambda: not chart.thread.is_alive(), timeout=5)
    assert chart.comm is None
    log(mlflow_servers.plain, run_id, "loss", 0.5, 1)
    await asyncio.sleep(0.5)
    assert steps(chart, "loss") == [0]
    end_run(mlflow_servers.plain, run_id)


async def test_a_run_chart_of_an_unknown_run_says_so_and_stops(client):
    chart = RunChart("0" * 32, group="reg", interval=0.2, client=client)
    await until(lambda: not chart.thread.is_alive())
    assert f"No run '{'0' * 32}' in group 'reg'" in chart.note
    assert chart.series == []


async def test_a_version_s_aliases_are_set_and_removed_from_its_panel_by_the_group_s_policy(
    deploy_server, sklearn_model, bindings, jp_serverapp, http_server_client
):
    policy = {"write": "members", "protected_aliases": ["champion"]}
    bindings.write({"groups": {"free": {"tracking_uri": deploy_server.url, "registry": policy}}})
    model = f"aliased-{uuid.uuid4().hex[:6]}"
    first, _ = register_version(deploy_server, model, sklearn_model[0])
    second, _ = register_version(deploy_server, model, sklearn_model[0])
    service = service_of(jp_serverapp)
    url = f"http://127.0.0.1:{jp_serverapp.port}{jp_serverapp.base_url}"
    kernel = ServerClient(url, service.tokens.issue("alias-kernel", "alice"))
    mlflow = MlflowClient(tracking_uri=deploy_server.url)
    panel = await act(VersionDetail, model, second, "free", client=kernel)
    editor = panel.aliases

    await act(setattr, editor.alias, "value", "@staging")
    await act(setattr, editor.reason, "value", "try it")
    await click(editor, "Set alias")
    assert "Done: point @staging of " in visible_text(editor)
    assert mlflow.get_registered_model(model).aliases == {"staging": second}
    assert "Remove @staging" in buttons(editor)  # the panel read the version again

    await act(setattr, editor.alias, "value", "champion")  # protected: a request
    await click(editor, "Set alias")
    assert "Requested: point @champion of " in visible_text(editor)
    assert "champion" not in mlflow.get_registered_model(model).aliases
    pending = await act(kernel.requests, "free")
    mine = [(r["alias"], r["version"]) for r in pending["requests"] if r["model"] == model]
    assert mine == [("champion", second)]  # (the server's MLflow is shared with other tests)

    await click(editor, "Remove @staging")
    assert mlflow.get_registered_model(model).aliases == {}
    assert "Remove @staging" not in buttons(editor)

    await act(setattr, editor.alias, "value", " ")
    await click(editor, "Set alias")
    assert "Name the alias to set." in visible_text(editor)
    assert first not in {str(v) for v in mlflow.get_registered_model(model).aliases.values()}
    panel.close()
