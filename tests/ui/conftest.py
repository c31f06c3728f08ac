"""The sidebar in a real browser: headless Chromium from Debian's `chromium` package, driven by
Playwright, against a real `jupyter server` (with JupyterLab and this extension, as `pip
install` ships them) and a real, seeded `mlflow server` of these tests' own.

Screenshots of each state go to a temporary directory, or to docs/images/ when the
environment variable UPDATE_SCREENSHOTS=1 is set.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from support.bindings import EditableBindings
from support.jupyter import JupyterServerProcess
from support.lab import CHROMIUM_FLAGS, LAB_PAGE_CONFIG, VIEWPORT
from support.processes import free_port
from support.seeding import seed_registry
from support.servers import READER_PASSWORD, READER_USER, start_mlflow, wait_until_healthy
from support.sidebar import Sidebar

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.fixture
def jp_asyncio_loop() -> None:
    """pytest-jupyter's loop and in-process server cleanup are not for these tests: their
    server is a subprocess, and Playwright's sync API runs an event loop of its own."""


@pytest.fixture
def jp_server_cleanup() -> None:
    """See jp_asyncio_loop."""


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if not path:
        pytest.fail("Chromium is missing: `apt-get install chromium` (./scripts/test does it)")
    return path


@pytest.fixture(scope="package")
def ui_mlflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """An MLflow server of the browser tests' own: 33 models, 5 of them with 3 versions, and
    the first run's 1,000-step metric histories."""
    server = start_mlflow(tmp_path_factory.mktemp("mlflow-ui"))
    try:
        wait_until_healthy(server)
        seeded = seed_registry(server.url, models=30, versions_per_model=3, multi_version_models=5)
        yield SimpleNamespace(server=server, seeded=seeded)
    finally:
        server.stop()


@pytest.fixture(scope="package")
def ui_bindings(
    ui_mlflow: SimpleNamespace, mlflow_servers: SimpleNamespace, tmp_path_factory
) -> EditableBindings:
    return EditableBindings(
        tmp_path_factory.mktemp("bindings") / "bindings.yaml",
        {
            "team-a": {"tracking_uri": ui_mlflow.server.url},
            # an external group without a server: not configured
            "no-server": {"mode": "external"},
            "offline": {"tracking_uri": f"http://127.0.0.1:{free_port()}"},
            # the basic-auth server, with a password it does not know
            "locked": {
                "tracking_uri": mlflow_servers.auth.url,
                "tracking_env": {
                    "MLFLOW_TRACKING_USERNAME": READER_USER,
                    "MLFLOW_TRACKING_PASSWORD": READER_PASSWORD + "-wrong",
                },
            },
        },
    )


@pytest.fixture(scope="package")
def lab(ui_bindings: EditableBindings, tmp_path_factory) -> Iterator[JupyterServerProcess]:
    home = tmp_path_factory.mktemp("lab-home")
    labconfig = home / "config" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(json.dumps(LAB_PAGE_CONFIG))
    server = JupyterServerProcess(home, env={"JUPYTER_MLFLOW_GROUPS_FILE": str(ui_bindings.path)})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="package")  # stopped before any later test: it holds an event loop
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright, chromium_path: str) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


@pytest.fixture
def active_group() -> str:
    """The group active when the page opens."""
    return "team-a"


@pytest.fixture
def page(browser: Browser, lab: JupyterServerProcess, active_group: str) -> Iterator[Page]:
    """A fresh JupyterLab page (reset workspace, default theme)."""
    lab.request("PUT", "/mlflow-groups/api/active", {"group": active_group})
    context = browser.new_context(viewport=VIEWPORT, base_url=lab.url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab.url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"/lab?reset&token={lab.token}")
    page.wait_for_selector("#jupyterlab-splash", state="detached")
    page.wait_for_selector(".jp-Launcher")  # the workspace is restored: nothing steals focus
    yield page
    context.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        return DOCS_IMAGES
    return tmp_path


@pytest.fixture
def sidebar(page: Page, screenshots: Path) -> Sidebar:
    return Sidebar(page, screenshots)
