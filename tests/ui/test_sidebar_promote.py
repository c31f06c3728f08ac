"""Promoting from the panel, as a team does it: a member (alice) and the group's admin (boss),
each with their own Jupyter server and browser page, on one bindings file and one MLflow. The
member sets an unprotected alias (made at once), asks to move the protected @champion (a
request), the admin approves one request and rejects another from the Requests tab; MLflow
itself (read with MlflowClient) says where the aliases point. A group that lets nobody write
shows its controls disabled, and says why. A member whose deployment follows @champion is
told, in a JupyterLab notification, when it followed a move made outside Jupyter."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from mlflow import MlflowClient
from playwright.sync_api import Browser, Locator, Page, expect
from support.deploying import register_version
from support.jupyter import JupyterServerProcess
from support.lab import LAB_PAGE_CONFIG, VIEWPORT
from support.lab_actions import theme
from support.seeding import model_name
from support.sidebar import Sidebar

GROUP = "promo"
FROZEN = "frozen"
MODEL = "sidebar-promo"
FOLLOWED = "sidebar-followed"
#: How long a page may take to show what another person did: the server looks every second
#: (poll_interval), then the page reads again; generous, for a loaded machine.
LOOKED = 30_000


@pytest.fixture(scope="module")
def team(ui_bindings, ui_mlflow, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """alice's and boss's servers; the groups `promo` (members write, @champion protected)
    and `frozen` (nobody writes), both on the browser tests' MLflow; a model of 3 versions
    whose @champion points at v1."""
    url = ui_mlflow.server.url
    people = {"members": ["alice"], "admins": ["boss"]}
    ui_bindings.add(
        GROUP,
        {
            "tracking_uri": url,
            **people,
            "registry": {"write": "members", "protected_aliases": ["champion"]},
        },
    )
    ui_bindings.add(FROZEN, {"tracking_uri": url, **people, "registry": {"write": "nobody"}})
    client = MlflowClient(url)
    seeded = client.get_model_version(model_name(0), "1")  # a real MLmodel file
    client.create_registered_model(MODEL)
    for _ in range(3):
        client.create_model_version(MODEL, seeded.source, run_id=seeded.run_id)
    client.set_registered_model_alias(MODEL, "champion", "1")
    root = tmp_path_factory.mktemp("promote-team")
    servers: dict[str, JupyterServerProcess] = {}
    try:
        for user in ("alice", "boss"):
            labconfig = root / user / "config" / "labconfig"
            labconfig.mkdir(parents=True)
            (labconfig / "page_config.json").write_text(json.dumps(LAB_PAGE_CONFIG))
            server = JupyterServerProcess(
                root / user,
                env={"JUPYTER_MLFLOW_GROUPS_FILE": str(ui_bindings.path)},
                # others' changes (requests, alias moves) are looked for every second
                args=[
                    f"--MlflowGroupsApp.user={user}",
                    "--MlflowGroupsApp.poll_interval=1",
                    "--MlflowGroupsApp.follow_interval=1",
                ],
            )
            servers[user] = server
            server.start()
        yield SimpleNamespace(client=client, **servers)
    finally:
        for server in servers.values():
            server.stop()
        ui_bindings.remove(GROUP)
        ui_bindings.remove(FROZEN)


def open_page(browser: Browser, server: JupyterServerProcess, group: str) -> Page:
    server.request("PUT", "/mlflow-groups/api/active", {"group": group})
    context = browser.new_context(viewport=VIEWPORT, base_url=server.url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"/lab?reset&token={server.token}")
    page.wait_for_selector("#jupyterlab-splash", state="detached")
    page.wait_for_selector(".jp-Launcher")
    return page


@pytest.fixture
def alice(browser, team, screenshots) -> Iterator[Sidebar]:
    page = open_page(browser, team.alice, GROUP)
    yield Sidebar(page, screenshots).open()
    page.context.close()


@pytest.fixture
def boss(browser, team, screenshots) -> Iterator[Sidebar]:
    page = open_page(browser, team.boss, GROUP)
    yield Sidebar(page, screenshots).open()
    page.context.close()


def aliases_in_mlflow(client: MlflowClient) -> dict[str, str]:
    """What MLflow itself says, not what our server says."""
    return {
        alias: str(version) for alias, version in client.get_registered_model(MODEL).aliases.items()
    }


def open_version(sidebar: Sidebar, version: str) -> None:
    sidebar.search(MODEL)
    sidebar.model_row(MODEL).click()
    sidebar.open_version(version)


def set_alias(sidebar: Sidebar, alias: str, reason: str) -> Locator:
    sidebar.panel.get_by_role("button", name="Set alias…").click()
    dialog = sidebar.page.get_by_role("dialog")
    dialog.get_by_label("Alias", exact=True).fill(alias)
    dialog.get_by_label("Reason", exact=True).fill(reason)
    return dialog


def refresh(sidebar: Sidebar) -> None:
    sidebar.panel.get_by_role("button", name="Refresh: ask MLflow again").click()


def toast(page: Page, text: str) -> Locator:
    return page.locator(".Toastify__toast").filter(has_text=text)


def requests_tab(sidebar: Sidebar) -> Locator:
    return sidebar.panel.get_by_role("tab", name="Requests")


def request_item(sidebar: Sidebar, summary: str) -> Locator:
    return sidebar.panel.locator(".jp-MlflowGroups-request").filter(has_text=summary)


def test_a_member_sets_and_requests_aliases_and_an_admin_decides(alice, boss, team):
    page = alice.page
    open_version(alice, "2")
    aliases = alice.panel.locator(".jp-MlflowGroups-facts dd").nth(2)

    # an unprotected alias: made at once
    dialog = set_alias(alice, "latest", "try it")
    expect(dialog).to_contain_text("MLflow keeps @latest for itself")  # said before asking
    dialog.get_by_role("button", name="Set alias").click()  # asked again, the reason kept
    expect(dialog.locator(".jp-MlflowGroups-formProblem")).to_contain_text("MLflow keeps @latest")
    expect(dialog.get_by_role("textbox", name="Reason")).to_have_value("try it")
    dialog.get_by_label("Alias", exact=True).fill("staging")
    expect(dialog.locator(".jp-MlflowGroups-formProblem")).to_have_text("")
    dialog.get_by_role("button", name="Set alias").click()
    expect(toast(page, "Point @staging of 'sidebar-promo' at v2: done.")).to_be_visible()
    staging = aliases.locator('.jp-MlflowGroups-chip[data-name="staging"]')
    expect(staging).to_contain_text("@staging")
    expect(staging.get_by_role("button", name="Remove @staging")).to_be_enabled()
    assert aliases_in_mlflow(team.client) == {"champion": "1", "staging": "2"}

    # the protected @champion: a request, pending
    dialog = set_alias(alice, "champion", "recall 0.91 vs 0.87")
    expect(dialog).to_contain_text("@champion is protected")
    alice.snap("set-alias", whole_window=True)
    dialog.get_by_role("button", name="Set alias").click()
    summary = "Point @champion of 'sidebar-promo' at v2 (was v1)"
    expect(toast(page, "Requested: waits for a group admin")).to_contain_text(summary)
    expect(aliases).to_contain_text(f"{summary}, asked by alice: waits for a group admin.")
    expect(requests_tab(alice)).to_contain_text("Requests1")
    assert aliases_in_mlflow(team.client)["champion"] == "1"
    requests_tab(alice).click()
    mine = request_item(alice, summary)
    expect(mine.locator(".jp-MlflowGroups-status")).to_have_text("pending")
    expect(mine).to_contain_text("“recall 0.91 vs 0.87”")
    expect(mine.get_by_role("button", name="Approve")).to_have_count(0)  # not an admin

    # the admin approves it from their own page: MLflow's @champion moves
    requests_tab(boss).click()
    theirs = request_item(boss, summary)
    expect(theirs.locator(".jp-MlflowGroups-status")).to_have_text("pending")
    boss.snap("requests")
    theirs.get_by_role("button", name="Approve").click()
    expect(toast(boss.page, f"Approved: {summary}.")).to_be_visible()
    expect(theirs.locator(".jp-MlflowGroups-status")).to_have_text("approved")
    expect(theirs).to_contain_text("approved by boss")
    expect(requests_tab(boss)).to_have_text("Requests")  # no pending one left
    assert aliases_in_mlflow(team.client) == {"champion": "2", "staging": "2"}
    # alice's panel reads again by itself (her server saw @champion move): no refresh
    expect(mine.locator(".jp-MlflowGroups-status")).to_have_text("approved", timeout=LOOKED)

    # another request, rejected with a reason: @champion stays
    alice.panel.get_by_role("tab", name="Models").click()  # back on v2
    alice.panel.get_by_role("button", name="Back to sidebar-promo").click()
    alice.open_version("3")
    set_alias(alice, "champion", "newer").get_by_role("button", name="Set alias").click()
    rejected = "Point @champion of 'sidebar-promo' at v3 (was v2)"
    expect(toast(page, rejected)).to_contain_text("Requested: waits for a group admin")
    # the admin is told, on his own page, without refreshing anything
    told = toast(boss.page, f"alice asks, in group {GROUP}: {rejected}")
    expect(told).to_contain_text('"newer"', timeout=LOOKED)
    boss.panel.get_by_role("tab", name="Models").click()
    told.get_by_role("button", name="Review").click()
    expect(requests_tab(boss)).to_have_attribute("aria-selected", "true")
    expect(requests_tab(boss)).to_contain_text("Requests1")
    request_item(boss, rejected).get_by_role("button", name="Reject…").click()
    dialog = boss.page.get_by_role("dialog")
    dialog.get_by_role("textbox").fill("not before the audit")
    dialog.get_by_role("button", name="Reject").click()
    item = request_item(boss, rejected)
    expect(item.locator(".jp-MlflowGroups-status")).to_have_text("rejected")
    expect(item).to_contain_text("rejected by boss")
    expect(item).to_contain_text("“not before the audit”")
    assert aliases_in_mlflow(team.client)["champion"] == "2"

    refresh(alice)
    requests_tab(alice).click()
    expect(request_item(alice, rejected)).to_contain_text("“not before the audit”")


def test_a_member_removes_an_alias_after_confirming_and_edits_the_version(alice, team):
    team.client.set_registered_model_alias(MODEL, "canary", "3")
    open_version(alice, "3")
    refresh(alice)  # the server read v3 a moment ago, before MLflow's change
    chip = alice.panel.locator('.jp-MlflowGroups-chip[data-name="canary"]')
    chip.get_by_role("button", name="Remove @canary").click()
    dialog = alice.page.get_by_role("dialog")
    expect(dialog).to_contain_text("Remove @canary from sidebar-promo?")
    dialog.get_by_role("button", name="Cancel").click()
    assert "canary" in aliases_in_mlflow(team.client)
    chip.get_by_role("button", name="Remove @canary").click()
    dialog.get_by_role("textbox").fill("the canary is over")
    dialog.get_by_role("button", name="Remove").click()
    expect(chip).to_have_count(0)
    assert "canary" not in aliases_in_mlflow(team.client)

    team.client.set_model_version_tag(MODEL, "3", "stage", "dev")
    refresh(alice)
    tags_shown = alice.panel.locator('section[aria-labelledby="jp-MlflowGroups-tagsTitle"]')
    expect(tags_shown).to_contain_text("stage")
    alice.panel.get_by_role("button", name="Edit…").click()
    dialog.get_by_label("Description").fill("Trained on December's data.")
    tags = dialog.get_by_label("Tags")
    expect(tags).to_have_value("stage: dev")
    tags.fill("owner: alice")
    dialog.get_by_role("button", name="Save").click()
    expect(alice.panel.locator(".jp-MlflowGroups-description")).to_have_text(
        "Trained on December's data."
    )
    version = team.client.get_model_version(MODEL, "3")
    assert version.description == "Trained on December's data."
    assert version.tags == {"owner": "alice"}


def test_a_group_that_lets_nobody_write_disables_the_controls_and_says_why(
    browser, team, screenshots
):
    page = open_page(browser, team.alice, FROZEN)
    try:
        sidebar = Sidebar(page, screenshots).open()
        team.client.set_registered_model_alias(MODEL, "pinned", "1")
        open_version(sidebar, "1")
        refresh(sidebar)
        expect(sidebar.panel.locator('.jp-MlflowGroups-chip[data-name="pinned"]')).to_be_visible()
        why = "Group 'frozen' lets nobody change its registry through Jupyter."
        for name in ("Set alias…", "Edit…"):
            button = sidebar.panel.get_by_role("button", name=name)
            expect(button).to_be_disabled()
            expect(button).to_have_attribute("title", why)
        expect(sidebar.panel.locator(".jp-MlflowGroups-readOnly")).to_have_text(why)
        expect(sidebar.panel.get_by_role("button", name="Remove @pinned")).to_have_count(0)
    finally:
        page.context.close()


def test_a_refusal_shows_the_api_s_message_and_hint(boss, team):
    """A request decided meanwhile (here over REST, as another admin would): Approve on the
    stale list says who decided it and what to do, and the list reads again."""
    api = f"/mlflow-groups/api/groups/{GROUP}"
    path = f"{api}/models/{MODEL}/aliases/champion"
    request = team.alice.request("PUT", path, {"version": "2", "reason": "stale"})["request"]
    requests_tab(boss).click()
    item = boss.panel.locator(f'.jp-MlflowGroups-request[data-id="{request["id"]}"]')
    expect(item.locator(".jp-MlflowGroups-status")).to_have_text("pending")
    team.boss.request("POST", f"{api}/requests/{request['id']}/reject", {"comment": "no"})
    item.get_by_role("button", name="Approve").click()
    dialog = boss.page.get_by_role("dialog")
    expect(dialog).to_contain_text("Could not approve the request")
    expect(dialog).to_contain_text(f"Request {request['id']} was rejected by boss")  # message
    expect(dialog).to_contain_text("The group's requests are listed with their state.")  # hint
    dialog.get_by_role("button", name="Close").click()
    expect(item.locator(".jp-MlflowGroups-status")).to_have_text("rejected")


def test_the_requests_and_their_states_are_readable_in_both_themes(boss, team):
    """Every pill (pending, applied, approved, rejected) and the tab's badge: 4.5:1 or more.
    The records of each state are made here, over REST, by alice and decided by boss."""
    api = f"/mlflow-groups/api/groups/{GROUP}"

    def ask(alias: str, version: str) -> dict:
        path = f"{api}/models/{MODEL}/aliases/{alias}"
        return team.alice.request("PUT", path, {"version": version, "reason": "themes"})

    ask("themed", "1")  # applied
    for verdict in ("approve", "reject"):
        request_id = ask("champion", "3")["request"]["id"]
        team.boss.request("POST", f"{api}/requests/{request_id}/{verdict}", {})
    ask("champion", "1")  # pending
    problems: list[str] = []
    measured: set[str] = set()
    for theme_name in ("JupyterLab Light", "JupyterLab Dark"):
        with theme(boss.page, theme_name):
            requests_tab(boss).click()
            expect(requests_tab(boss)).to_contain_text("Requests1")
            for state in ("pending", "applied", "approved", "rejected"):
                expect(
                    boss.panel.locator(f".jp-MlflowGroups-status.jp-mod-{state}")
                ).not_to_have_count(0)
            boss.page.mouse.move(0, 0)  # no hover colours
            for item in boss.text_contrasts():
                measured.add(item.classes)
                if item.ratio < 4.5:
                    problems.append(
                        f"{theme_name}: {item.text!r} ({item.classes}) {item.ratio:.2f}:1"
                    )
    assert not problems, "\n".join(problems)
    for shown in (
        "jp-MlflowGroups-badge",
        *(
            f"jp-MlflowGroups-status jp-mod-{state}"
            for state in ("pending", "applied", "approved", "rejected")
        ),
    ):
        assert shown in measured, f"{shown} was not measured"


def test_a_member_is_told_when_a_deployment_followed_its_alias(
    alice, team, ui_mlflow, sklearn_model
):
    """alice deploys @champion of a real model, following it; the alias is moved by a plain
    MlflowClient call (outside Jupyter); her page tells her the deployment followed it, and
    Show opens the deployment, serving the new version."""
    model_dir, _, _ = sklearn_model
    first, _ = register_version(ui_mlflow.server, FOLLOWED, model_dir)
    second, _ = register_version(ui_mlflow.server, FOLLOWED, model_dir)
    team.client.set_registered_model_alias(FOLLOWED, "champion", first)
    deployments = f"/mlflow-groups/api/groups/{GROUP}/deployments"
    body = {"name": "follower", "model": FOLLOWED, "version": "@champion", "follow": True}
    job = team.alice.request("POST", deployments, body)["job"]
    try:
        deadline = time.monotonic() + 180
        while job["state"] not in ("done", "failed", "cancelled"):
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
            job = team.alice.request("GET", f"/mlflow-groups/api/jobs/{job['id']}")
        assert job["state"] == "done", job.get("error")

        team.client.set_registered_model_alias(FOLLOWED, "champion", second)
        note = f"followed @champion from v{first} to v{second}"
        told = toast(alice.page, f"Deployment follower of group {GROUP} {note}.")
        expect(told).to_be_visible(timeout=120_000)  # the follow's copy and swap, then the event
        told.get_by_role("button", name="Show").click()
        card = alice.panel.locator('.jp-MlflowGroups-deployment[data-name="follower"]')
        expect(card).to_contain_text(f"v{second}")
        assert team.alice.request("GET", f"{deployments}/follower")["version"] == second
    finally:
        team.alice.request("DELETE", f"{deployments}/follower")
