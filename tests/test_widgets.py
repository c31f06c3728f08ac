"""The ipywidgets panels, driven as a person would: type, click, read what is shown.

The widgets' client is synchronous, like in a kernel; the test's Jupyter server runs on this
thread's event loop, so every widget action runs in a worker thread (`act`).
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import threading
import uuid

import ipywidgets as widgets
import pytest
from support.deploying import register_version
from support.extension import service_of
from support.kernels import run_in_kernel, start_kernel
from support.seeding import model_name
from support.servers import ADMIN_PASSWORD, ADMIN_USER
from support.widget_text import IMPORT_IN_KERNEL, button, buttons, leaves, visible_text

from jupyter_mlflow_groups.kernel import live
from jupyter_mlflow_groups.kernel.client import ServerClient
from jupyter_mlflow_groups.kernel.widgets import DeployPanel, ModelBrowser, VersionDetail
from jupyter_mlflow_groups.kernel.widgets.charts import CHART_COLOURS, CHART_INK


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


def contrast(colour: tuple[float, ...], background: tuple[float, ...]) -> float:
    """WCAG's contrast ratio of two sRGB colours."""

    def luminance(rgb: tuple[float, ...]) -> float:
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb[:3]]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(colour), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


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


async def test_the_metric_chart_shows_every_step_readable_in_light_and_dark_themes(client, seeded):
    from matplotlib.colors import to_rgba
    from PIL import Image

    detail = await act(VersionDetail, model_name(0), "1", "reg", client=client)
    assert list(detail.metric_choice.options) == ["accuracy", "rmse", "train/loss"]
    await act(setattr, detail.metric_choice, "value", "train/loss")
    axes = detail.chart_figure.axes[0]
    (line,) = axes.get_lines()
    assert list(line.get_xdata()) == list(range(seeded.history_steps))
    assert line.get_ydata()[10] == pytest.approx(1 / 11)
    assert axes.get_title() == f"train/loss ({seeded.history_steps} steps)"
    assert bytes(detail.chart.value).startswith(b"\x89PNG")

    image = Image.open(io.BytesIO(bytes(detail.chart.value)))
    assert image.mode == "RGBA"  # an alpha channel: the notebook's background shows through
    corners = [(0, 0), (image.width - 1, 0), (image.width - 1, image.height - 1)]
    assert [image.getpixel(corner)[3] for corner in corners] == [0, 0, 0]
    assert image.getextrema()[3] == (0, 255)  # the line, text and axes are drawn opaque
    ink = to_rgba(CHART_INK)
    assert to_rgba(axes.title.get_color()) == ink and to_rgba(axes.xaxis.label.get_color()) == ink
    assert all(to_rgba(label.get_color()) == ink for label in axes.get_xticklabels())
    assert to_rgba(axes.spines["bottom"].get_edgecolor()) == ink
    assert line.get_color() == CHART_COLOURS[0]
    for colour in (ink, *map(to_rgba, CHART_COLOURS)):  # readable on white and on near-black
        assert contrast(colour, (1, 1, 1)) >= 3 and contrast(colour, (0.07, 0.07, 0.07)) >= 3


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
    states = [json.dumps(node.get_state(), default=str) for node in leaves(browser)]
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
