"""A group's MLflow UI inside JupyterLab: the "Open MLflow UI" command's tab, the sidebar's
links into it, artifacts through the proxy, what a member's hostile artifact and a cross-site
page can (not) do with a logged-in browser, anonymous browsers, and a deployment's invocations
URL. Against one real `jupyter server` whose zero-configuration `default` group is managed (its
MLflow started by the extension and reached only through Jupyter's proxy)."""

from __future__ import annotations

import functools
import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Error, Page, Response, expect
from support.jupyter import JupyterServerProcess
from support.lab import LAB_PAGE_CONFIG, VIEWPORT
from support.lab_actions import MlflowUiTab, run_command

GROUP = "default"
UI = f"/mlflow-groups/groups/{GROUP}/mlflow/"
STATUS = f"/mlflow-groups/api/groups/{GROUP}/status"
MODEL = "ui-model"
DEPLOYED = "iris-managed"
#: How long MLflow's single-page app may take to show a page (its first load, on 2 cores)
RENDERED = 30_000
BLOB = os.urandom(3 * 1024 * 1024 + 17)  # several of the proxy's chunks, and a ragged end


# -- servers ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def managed_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServerProcess]:
    """JupyterLab with no bindings file: one managed group, `default`, whose MLflow the
    extension runs; returned once that MLflow answers."""
    home = tmp_path_factory.mktemp("managed-lab")
    labconfig = home / "config" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(json.dumps(LAB_PAGE_CONFIG))
    server = JupyterServerProcess(home, env={"JUPYTER_MLFLOW_GROUPS_FILE": ""}).start()
    try:
        deadline = time.monotonic() + 120
        while not server.request("GET", STATUS)["ok"]:
            if time.monotonic() > deadline:
                pytest.fail(f"the managed MLflow never answered: {server.log()[-3000:]}")
            time.sleep(0.5)
        yield server
    finally:
        server.stop()


@contextmanager
def proxied_mlflow(lab: JupyterServerProcess) -> Iterator[object]:
    """MLflow's own client, as a member's script uses it: the group's proxy as tracking URI,
    the Jupyter server's token as MLflow token."""
    from mlflow import MlflowClient

    with pytest.MonkeyPatch.context() as env:
        env.setenv("MLFLOW_TRACKING_URI", f"{lab.url}{UI}".rstrip("/"))
        env.setenv("MLFLOW_TRACKING_TOKEN", lab.token)
        for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_REGISTRY_URI"):
            env.delenv(name, raising=False)
        yield MlflowClient()


def hostile_script(jupyter_url: str) -> str:
    """What a member could log in an HTML or SVG artifact: it marks the documents it can reach,
    then tries to start a kernel with the viewer's Jupyter session (a JSON request with the
    XSRF token when it can read it, and a simple request, which needs no CORS preflight)."""
    kernels = json.dumps(f"{jupyter_url}/api/kernels")
    return f"""(async () => {{
  document.documentElement.dataset.hostile = "ran";
  const marks = [
    () => localStorage.setItem("hostile", "ran"),
    () => {{ parent.document.documentElement.dataset.hostile = "ran"; }},
    () => {{ top.document.documentElement.dataset.hostile = "ran"; }},
  ];
  for (const mark of marks) {{
    try {{ mark(); }} catch (error) {{}}
  }}
  let xsrf = "";
  try {{
    xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || "";
  }} catch (error) {{}}
  const attempts = [
    {{method: "POST", credentials: "include", body: "{{}}",
      headers: {{"Content-Type": "application/json", "X-XSRFToken": xsrf}}}},
    {{method: "POST", credentials: "include", body: "{{}}", mode: "no-cors"}},
  ];
  for (const init of attempts) {{
    try {{ await fetch({kernels}, init); }} catch (error) {{}}
  }}
  document.documentElement.dataset.hostileDone = "yes";
}})()"""


@pytest.fixture(scope="module")
def seeded(
    managed_lab: JupyterServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> SimpleNamespace:
    """Through the proxy: a run with a binary artifact and a registered version of it, and a
    run with hostile HTML and SVG artifacts."""
    script = hostile_script(managed_lab.url)
    blob = tmp_path_factory.mktemp("artifacts") / "data.bin"
    blob.write_bytes(BLOB)
    with proxied_mlflow(managed_lab) as client:
        run = client.create_run("0", run_name="ui-run")
        client.log_metric(run.info.run_id, "loss", 0.25)
        client.log_artifact(run.info.run_id, str(blob), "blobs")
        client.set_terminated(run.info.run_id)
        client.create_registered_model(MODEL)
        client.create_model_version(MODEL, f"{run.info.artifact_uri}/blobs", run_id=run.info.run_id)
        hostile = client.create_run("0", run_name="hostile-run")
        client.log_text(
            hostile.info.run_id,
            f"<!doctype html><title>hostile</title><p>hostile page</p><script>{script}</script>",
            "hostile.html",
        )
        client.log_text(
            hostile.info.run_id,
            '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60">'
            '<rect width="120" height="60" fill="gray"/>'
            f"<script><![CDATA[{script}]]></script></svg>",
            "hostile.svg",
        )
        client.set_terminated(hostile.info.run_id)
    return SimpleNamespace(
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        hostile_run_id=hostile.info.run_id,
        script=script,
    )


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def other_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """A static web server on another port of 127.0.0.1: another origin, but the same site,
    so the browser sends it Jupyter's cookies (ports do not separate cookies)."""
    root = tmp_path_factory.mktemp("other-site")
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(root=root, url=f"http://127.0.0.1:{server.server_address[1]}")
    server.shutdown()
    server.server_close()


# -- browser ------------------------------------------------------------------------------------


@pytest.fixture
def page(
    browser: Browser, managed_lab: JupyterServerProcess, seeded: SimpleNamespace
) -> Iterator[Page]:
    """A fresh JupyterLab page on the managed lab (reset workspace, default theme), logged in
    with the token (then by the cookie it sets). MLflow is seeded first: the sidebar's reads
    are cached for a few seconds, so a page must not see the group before it is seeded."""
    context = browser.new_context(
        viewport=VIEWPORT, base_url=managed_lab.url, accept_downloads=True
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=managed_lab.url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"/lab?reset&token={managed_lab.token}")
    page.wait_for_selector("#jupyterlab-splash", state="detached")
    page.wait_for_selector(".jp-Launcher")
    yield page
    context.close()


@pytest.fixture
def ui_tab(page: Page, screenshots: Path) -> MlflowUiTab:
    return MlflowUiTab(page, GROUP, screenshots)


def open_ui(ui_tab: MlflowUiTab) -> None:
    """The command from the palette: the active group's MLflow UI, its home page rendered."""
    run_command(ui_tab.page, "Open MLflow UI")
    ui_tab.expect_open()
    expect(ui_tab.frame.get_by_role("link", name="Experiments").first).to_be_visible(
        timeout=2 * RENDERED
    )


def kernel_ids(lab: JupyterServerProcess) -> set[str]:
    return {kernel["id"] for kernel in lab.request("GET", "/api/kernels")}


def experiment_exists(lab: JupyterServerProcess, name: str) -> bool:
    path = f"{UI}api/2.0/mlflow/experiments/get-by-name?experiment_name={quote(name)}"
    try:
        lab.request("GET", path)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return False
        raise
    return True


# -- tests --------------------------------------------------------------------------------------


def test_the_command_opens_the_groups_mlflow_ui_in_one_main_area_tab_restored_on_reload(
    page, ui_tab, managed_lab
):
    open_ui(ui_tab)
    expect(ui_tab.iframe).to_have_attribute("src", UI)
    assert set(ui_tab.iframe.get_attribute("sandbox").split()) == {
        "allow-scripts",
        "allow-same-origin",
        "allow-forms",
        "allow-popups",
        "allow-downloads",
    }
    ui_tab.frame.get_by_role("link", name="Experiments").first.click()
    expect(ui_tab.frame.get_by_role("link", name="Default", exact=True)).to_be_visible(
        timeout=RENDERED
    )
    ui_tab.snap("mlflow-ui-tab")

    page.get_by_role("tab", name="Launcher").click()
    run_command(page, "Open MLflow UI")  # again: the same tab, brought to the front
    ui_tab.expect_open()

    # JupyterLab saved the tab with the layout: a reload brings it back
    deadline = time.monotonic() + 30
    while "mlflow-groups-ui:" not in json.dumps(
        managed_lab.request("GET", "/lab/api/workspaces/default")
    ):
        assert time.monotonic() < deadline, "the workspace was never saved with the tab"
        time.sleep(0.2)
    page.goto("/lab")
    ui_tab.expect_open()
    expect(ui_tab.frame.get_by_role("link", name="Experiments").first).to_be_visible(
        timeout=2 * RENDERED
    )


def test_the_sidebars_links_open_in_the_tab_and_keep_their_addresses(
    page, sidebar, ui_tab, managed_lab, seeded
):
    sidebar.open()
    sidebar.expect_health("ok")
    header = sidebar.panel.get_by_role("link", name="Open MLflow UI")
    expect(header).to_have_attribute("href", UI)
    header.click()
    ui_tab.expect_open()
    expect(ui_tab.frame.get_by_role("link", name="Experiments").first).to_be_visible(
        timeout=2 * RENDERED
    )

    sidebar.model_row(MODEL).click()
    model_link = sidebar.panel.get_by_role("link", name="Open in MLflow UI")
    expect(model_link).to_have_attribute("href", f"{UI}#/models/{MODEL}")
    model_link.click()
    expect(ui_tab.frame.get_by_role("heading", name=MODEL)).to_be_visible(timeout=RENDERED)
    assert ui_tab.location() == f"{managed_lab.url}{UI}#/models/{MODEL}"

    sidebar.open_version("1")
    version_link = sidebar.panel.get_by_role("link", name="Open in MLflow UI")
    expect(version_link).to_have_attribute("href", f"{UI}#/models/{MODEL}/versions/1")
    version_link.click()
    expect(ui_tab.frame.get_by_text("Version 1").first).to_be_visible(timeout=RENDERED)

    run_link = sidebar.panel.get_by_role("region", name="Source run").get_by_role("link")
    run_path = f"{UI}#/experiments/{seeded.experiment_id}/runs/{seeded.run_id}"
    expect(run_link).to_have_attribute("href", run_path)
    run_link.click()
    expect(ui_tab.frame.get_by_role("heading", name="ui-run")).to_be_visible(timeout=RENDERED)
    assert ui_tab.location() == f"{managed_lab.url}{run_path}"
    ui_tab.expect_open()  # still the one tab
    assert page.context.pages == [page]  # and no browser tab

    with page.context.expect_page() as opened:  # a middle click: the browser's own new tab
        version_link.click(button="middle")
    assert opened.value.url == f"{managed_lab.url}{UI}#/models/{MODEL}/versions/1"
    opened.value.close()
    ui_tab.expect_open()


def test_a_runs_artifact_downloads_through_the_proxied_ui_with_its_bytes(
    ui_tab, managed_lab, seeded
):
    open_ui(ui_tab)
    ui_tab.go(f"#/experiments/{seeded.experiment_id}/runs/{seeded.run_id}/artifacts")
    ui_tab.frame.get_by_text("blobs", exact=True).click()
    ui_tab.frame.get_by_text("data.bin", exact=True).click()
    # MLflow's "Download artifact" button (it has a tooltip, but no accessible name)
    download_button = ui_tab.frame.locator('[data-component-id$="artifactview.tsx_337"]')
    with (
        ui_tab.page.expect_download() as download,
        ui_tab.page.expect_response(lambda response: "/get-artifact?" in response.url) as fetched,
    ):
        download_button.click()
    assert fetched.value.url.startswith(f"{managed_lab.url}{UI}")
    assert download.value.suggested_filename == "data.bin"
    assert Path(download.value.path()).read_bytes() == BLOB


def test_a_hostile_script_does_create_a_kernel_when_it_runs_as_jupyter(page, managed_lab, seeded):
    """The control for the next test: the hostile artifacts' script is a working attack when a
    page of Jupyter's origin runs it."""
    before = kernel_ids(managed_lab)
    page.evaluate(seeded.script)
    created = kernel_ids(managed_lab) - before
    for kernel in created:
        managed_lab.request("DELETE", f"/api/kernels/{kernel}")
    assert len(created) == 1


def test_hostile_html_and_svg_artifacts_never_run_with_jupyters_origin(
    page, ui_tab, managed_lab, seeded
):
    before = kernel_ids(managed_lab)
    artifact_url = f"{UI}get-artifact?run_uuid={seeded.hostile_run_id}&path="

    # (i) opened directly, as a top-level page of the logged-in browser
    for name in ("hostile.html", "hostile.svg"):
        direct = page.context.new_page()
        with (
            direct.expect_download() as download,
            direct.expect_response(lambda response: "/get-artifact?" in response.url) as answer,
            pytest.raises(Error, match="Download is starting"),
        ):
            direct.goto(artifact_url + name)
        assert download.value.suggested_filename == name  # MLflow's own attachment header
        headers = answer.value.all_headers()
        assert headers["content-security-policy"].split(";")[0] == "sandbox"
        assert headers["x-content-type-options"] == "nosniff"
        assert direct.evaluate("document.documentElement.dataset.hostile") is None
        direct.close()

    # (ii) in MLflow's artifact view, in the tab
    open_ui(ui_tab)
    ui_tab.go(f"#/experiments/0/runs/{seeded.hostile_run_id}/artifacts")
    with page.expect_response(lambda response: "hostile.html" in response.url) as html:
        ui_tab.frame.get_by_text("hostile.html", exact=True).click()
    assert html.value.all_headers()["content-security-policy"].split(";")[0] == "sandbox"
    # MLflow shows HTML in a frame of its own, sandboxed without its origin: the script runs
    # there, and reaches nothing of Jupyter's
    viewer = ui_tab.frame.frame_locator("iframe.mlflow-html-iframe")
    expect(viewer.locator("html")).to_have_attribute("data-hostile", "ran")
    expect(viewer.locator("html")).to_have_attribute("data-hostile-done", "yes")

    with page.expect_response(lambda response: "hostile.svg" in response.url) as svg:
        ui_tab.frame.get_by_text("hostile.svg", exact=True).click()
    assert svg.value.all_headers()["content-security-policy"].split(";")[0] == "sandbox"
    # shown as an image: its script never runs
    expect(ui_tab.frame.get_by_role("img", name="hostile.svg")).to_be_visible(timeout=RENDERED)

    expect(ui_tab.frame.locator("html")).not_to_have_attribute("data-hostile", "ran")
    expect(page.locator("html")).not_to_have_attribute("data-hostile", "ran")
    assert page.evaluate("localStorage.getItem('hostile')") is None
    assert kernel_ids(managed_lab) == before


def test_a_cross_site_page_cannot_change_mlflow_but_the_ui_itself_can(
    page, ui_tab, managed_lab, other_site
):
    create = f"{managed_lab.url}{UI}ajax-api/2.0/mlflow/experiments/create"
    (other_site.root / "attack.html").write_text(
        f"""<!doctype html><title>attack</title>
<form method="post" action="{create}"><input type="hidden" name="_xsrf"></form>
<script>
(async () => {{
  const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || "";
  try {{
    await fetch({json.dumps(create)}, {{method: "POST", credentials: "include",
      headers: {{"Content-Type": "application/json", "X-XSRFToken": xsrf}},
      body: JSON.stringify({{name: "from-another-site"}})}});
  }} catch (error) {{}}
  const form = document.forms[0];  // a form post needs no CORS preflight; with the token
  form.elements._xsrf.value = xsrf;
  form.submit();
}})();
</script>"""
    )
    attacker = page.context.new_page()
    with attacker.expect_response(
        lambda response: response.url == create and response.request.method == "POST"
    ) as refused:
        attacker.goto(f"{other_site.url}/attack.html")
    assert refused.value.status == 403
    assert refused.value.json()["error"]["code"] == "xsrf"
    assert not experiment_exists(managed_lab, "from-another-site")

    open_ui(ui_tab)  # MLflow's own page, same origin: its requests go through
    status = ui_tab.evaluate(
        """async () => (await fetch("ajax-api/2.0/mlflow/experiments/create", {
            method: "POST", headers: {"Content-Type": "application/json"},
            body: JSON.stringify({name: "from-the-ui"})})).status"""
    )
    assert status == 200
    assert experiment_exists(managed_lab, "from-the-ui")


def test_an_anonymous_browser_lands_on_jupyters_login_page(browser, managed_lab):
    context = browser.new_context(base_url=managed_lab.url)
    proxied: list[int] = []  # the status of every answer from the group's MLflow route

    def answered(response: Response) -> None:
        if response.url.startswith(f"{managed_lab.url}{UI}"):
            proxied.append(response.status)

    context.on("response", answered)
    try:
        page = context.new_page()
        for path in (UI, f"{UI}ajax-api/2.0/mlflow/experiments/search?max_results=10"):
            page.goto(path)
            assert page.url.startswith(f"{managed_lab.url}/login?next=")
            expect(page.get_by_role("textbox", name="Password or token:")).to_be_visible()
            expect(page.locator("body")).not_to_contain_text("MLflow")
            expect(page.locator("body")).not_to_contain_text("Default")
    finally:
        context.close()
    assert proxied == [302, 302]  # redirects to the login page, never MLflow's content


def test_a_deployment_shows_its_invocations_url_which_answers(
    page, sidebar, managed_lab, sklearn_model
):
    model_dir, rows, predictions = sklearn_model
    with proxied_mlflow(managed_lab) as client:
        run = client.create_run("0", run_name="iris")
        client.log_artifacts(run.info.run_id, str(model_dir), "model")
        client.set_terminated(run.info.run_id)
        client.create_registered_model(DEPLOYED)
        client.create_model_version(
            DEPLOYED, f"{run.info.artifact_uri}/model", run_id=run.info.run_id
        )
    sidebar.open()
    sidebar.search(DEPLOYED)
    sidebar.model_row(DEPLOYED).click()
    sidebar.version_row("1").get_by_role("button", name="Deploy").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name of the new deployment").fill(DEPLOYED)
    dialog.get_by_role("button", name="Deploy").click()

    job = sidebar.panel.locator(".jp-MlflowGroups-job")
    expect(job).to_have_attribute("data-state", "done", timeout=180_000)
    toggle = job.locator(".jp-MlflowGroups-jobToggle")  # the finished job folds; open it
    expect(toggle).to_have_attribute("aria-expanded", "false", timeout=30_000)
    toggle.click()
    url = f"{managed_lab.url}/mlflow-groups/groups/{GROUP}/deployments/{DEPLOYED}/invocations"
    client = f'client = get_deploy_client("jupyter-mlflow-groups:/{GROUP}")'
    call = f'client.predict("{DEPLOYED}", pd.DataFrame('
    expect(sidebar.invocations_url(job)).to_have_text(url)
    job.get_by_text("How to call it").click()
    expect(job).to_contain_text(client)
    expect(job).to_contain_text(call)
    # the one link is to what answers a GET (ping), never to the endpoint's root (a 404)
    ping = job.get_by_role("link")
    expect(ping).to_have_attribute("href", url.removesuffix("invocations") + "ping")
    assert page.request.get(ping.get_attribute("href")).status == 200

    frame = {"columns": [f"f{i}" for i in range(len(rows[0]))], "data": rows}
    request = urllib.request.Request(
        url,
        data=json.dumps({"dataframe_split": frame}).encode(),
        headers={"Authorization": f"token {managed_lab.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert json.loads(answer.read())["predictions"] == predictions

    sidebar.panel.get_by_role("tab", name="Deployments").click()
    row = sidebar.panel.locator(f'.jp-MlflowGroups-deployment[data-name="{DEPLOYED}"]')
    expect(sidebar.invocations_url(row)).to_have_text(url)
    expect(row).to_contain_text(call)
    row.get_by_role("button", name=f"Copy the invocations URL of {DEPLOYED}").click()
    assert page.evaluate("navigator.clipboard.readText()") == url
