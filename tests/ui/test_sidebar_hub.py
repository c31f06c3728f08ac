"""The panel on a real JupyterHub: ada logs in through the Hub's login page and her JupyterLab,
behind the Hub's proxy and base URL, shows her group's models, and only her group."""

from __future__ import annotations

from playwright.sync_api import expect
from support.deploying import register_version
from support.lab import VIEWPORT
from support.sidebar import Sidebar


def test_the_panel_behind_jupyterhub_shows_the_users_own_group(
    browser, hub, sklearn_model, screenshots
):
    model_dir, _, _ = sklearn_model
    register_version(hub.team_a_mlflow, "seen-through-the-hub", model_dir)
    context = browser.new_context(viewport=VIEWPORT, base_url=hub.hub.url)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto("/hub/login")
        page.fill("#username_input", "ada")
        page.fill("#password_input", "any password: the dummy authenticator")
        page.click("#login_submit")
        page.wait_for_url("**/user/ada/**")
        page.goto("/user/ada/lab?reset")
        page.wait_for_selector("#jupyterlab-splash", state="detached")
        page.wait_for_selector(".jp-Launcher")

        sidebar = Sidebar(page, screenshots).open()
        sidebar.expect_health("ok")
        groups = sidebar.panel.get_by_label("Group", exact=True)
        expect(groups.locator("option")).to_have_text(["team-a"])
        sidebar.search("seen-through-the-hub")  # the Hub's MLflow holds other tests' models too
        expect(sidebar.model_row("seen-through-the-hub")).to_be_visible()
        sidebar.snap("jupyterhub")
    finally:
        context.close()
