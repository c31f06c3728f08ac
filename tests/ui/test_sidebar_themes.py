"""The panel is readable in JupyterLab's light and dark themes: every text it shows (chips,
status pills, job cards, problems, links, captions) has a contrast of 4.5:1 or more with what
is behind it (WCAG AA, from the elements' computed colours and the backgrounds under them),
and each metric chart's line 3:1 with the chart (WCAG's contrast for graphics).

The views: a model's versions (alias and deployment chips), a deployed version (the deployment
serving it, its signature), the group's deployments (one serving, one stopped), a failed deploy
job, a group whose MLflow cannot be reached, and a version's metric charts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from support.deploying import register_version
from support.lab_actions import theme
from support.sidebar import Sidebar, unreadable

GROUP = "themes"
MODEL = "themed-iris"
DEPLOYMENTS = f"/mlflow-groups/api/groups/{GROUP}/deployments"
CHART_MODEL = "model-0003"  # the seeded model whose run has metric histories
TEXT = 4.5  # WCAG AA, normal text
GRAPHICS = 3.0  # WCAG AA, non-text contrast


@pytest.fixture
def active_group(ui_bindings, ui_mlflow) -> Iterator[str]:
    """A group of its own (its deployments are this test's), on the seeded MLflow."""
    ui_bindings.add(GROUP, {"tracking_uri": ui_mlflow.server.url})
    yield GROUP
    ui_bindings.remove(GROUP)


@pytest.fixture(scope="module")
def signed_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scikit-learn model saved with its signature: four named columns in, a label out."""
    import mlflow.sklearn
    from mlflow.models import infer_signature
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(features, labels)
    directory = tmp_path_factory.mktemp("signed") / "model"
    signature = infer_signature(features, model.predict(features))
    mlflow.sklearn.save_model(model, str(directory), signature=signature)
    return directory


def deploy_and_serve(lab, name: str, version: str) -> None:
    """Deploy `version` of MODEL as `name` through the REST API, and wait until it serves."""
    body = {"name": name, "model": MODEL, "version": version}
    job = lab.request("POST", DEPLOYMENTS, body)["job"]
    while job["state"] not in ("done", "failed", "cancelled"):
        time.sleep(0.2)
        job = lab.request("GET", f"/mlflow-groups/api/jobs/{job['id']}")
    assert job["state"] == "done", job
    while (deployment := lab.request("GET", f"{DEPLOYMENTS}/{name}"))["status"] != "serving":
        assert deployment["status"] == "starting", deployment
        time.sleep(0.2)


def test_every_chip_pill_badge_and_problem_is_readable_in_both_themes(
    sidebar: Sidebar, page, lab, ui_mlflow, signed_model, tmp_path
):
    served, _ = register_version(ui_mlflow.server, MODEL, signed_model)
    broken_dir = tmp_path / "not-a-model"
    broken_dir.mkdir()
    broken, _ = register_version(ui_mlflow.server, MODEL, broken_dir, {"weights.bin": b"0" * 10})
    ui_mlflow.server.request(
        "POST",
        "/api/2.0/mlflow/registered-models/alias",
        {"name": MODEL, "alias": "champion", "version": served},
    )
    deploy_and_serve(lab, "themed-serving", served)
    deploy_and_serve(lab, "themed-stopped", served)
    lab.request("POST", f"{DEPLOYMENTS}/themed-stopped/stop")

    panel = sidebar.open().panel
    sidebar.search(MODEL)
    sidebar.model_row(MODEL).click()
    sidebar.version_row(broken).get_by_role("button", name="Deploy").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name of the new deployment").fill("themed-broken")
    dialog.get_by_role("button", name="Deploy").click()
    failed = panel.locator(".jp-MlflowGroups-job").filter(has_text="themed-broken")
    expect(failed).to_have_attribute("data-state", "failed", timeout=60_000)
    expect(failed.get_by_role("alert")).to_contain_text("holds no MLmodel file")  # message
    expect(failed.get_by_role("alert")).to_contain_text("Register a version logged as")  # hint
    expect(failed.get_by_role("button", name="Cancel")).to_have_count(0)

    panel.get_by_role("button", name="Back to Models").click()
    problems: list[str] = []
    measured: set[str] = set()

    def measure(view: str, theme_name: str) -> None:
        page.mouse.move(0, 0)  # no hover colours
        contrasts = sidebar.text_contrasts()
        problems.extend(unreadable(contrasts, TEXT, f"{theme_name}, {view}"))
        measured.update(item.classes for item in contrasts)
        panel.screenshot(path=str(tmp_path / f"{theme_name}-{view}.png"))

    for theme_name in ("JupyterLab Light", "JupyterLab Dark"):
        with theme(page, theme_name):
            sidebar.search(MODEL)
            sidebar.model_row(MODEL).click()
            expect(sidebar.version_row(served)).to_contain_text("themed-serving")
            expect(sidebar.version_row(served)).to_contain_text("@champion")
            measure("versions", theme_name)

            sidebar.open_version(served)
            version = panel.locator(".jp-MlflowGroups-version")
            serving = version.locator('[data-name="themed-serving"] .jp-MlflowGroups-status')
            expect(serving).to_have_text("serving")  # the deployments serving it, not stopped
            expect(version.locator('[data-name="themed-stopped"]')).to_have_count(0)
            signature = panel.get_by_role("region", name="Signature")
            expect(signature).to_contain_text("sepal length (cm)")
            expect(signature).to_contain_text("double")
            expect(signature).to_contain_text("tensor of int64")
            measure("version", theme_name)

            panel.get_by_role("tab", name="Deployments").click()
            stopped = panel.locator('[data-name="themed-stopped"] .jp-MlflowGroups-status')
            expect(stopped).to_have_text("stopped")
            expect(panel.locator(".jp-MlflowGroups-deployment")).to_have_count(2)
            measure("deployments", theme_name)

            panel.get_by_role("tab", name="Models").click()  # back on the version
            expect(panel.get_by_role("heading", level=2)).to_have_text(f"{MODEL} v{served}")
            panel.get_by_role("button", name=f"Back to {MODEL}").click()
            panel.get_by_role("button", name="Back to Models").click()
            sidebar.search(CHART_MODEL)
            sidebar.model_row(CHART_MODEL).click()
            sidebar.open_version("3")
            expect(panel.locator('figure[data-metric="train/loss"] polyline')).to_be_attached()
            measure("charts", theme_name)
            lines = sidebar.chart_contrasts()
            assert lines
            problems.extend(unreadable(lines, GRAPHICS, f"{theme_name}, chart lines"))

            sidebar.switch_group("offline")
            expect(sidebar.problem.filter(has_text="MLflow cannot be reached")).to_be_visible()
            measure("unreachable group", theme_name)
            sidebar.switch_group(GROUP)
            sidebar.expect_health("ok")

            if theme_name == "JupyterLab Dark":  # the docs' picture, without the failed job
                failed.get_by_role("button", name="Dismiss").click()
                sidebar.search(MODEL)
                sidebar.model_row(MODEL).click()
                sidebar.open_version(served)
                expect(serving).to_have_text("serving")
                sidebar.snap("dark-deployed")

    assert not problems, "\n".join(problems)
    for shown in (
        "jp-MlflowGroups-chip jp-mod-alias",
        "jp-MlflowGroups-chip jp-mod-deployment",
        "jp-MlflowGroups-status jp-mod-serving",
        "jp-MlflowGroups-status jp-mod-stopped",
        "jp-MlflowGroups-problemTitle",
        "jp-MlflowGroups-jobErrorHint",
    ):
        assert shown in measured, f"{shown} was not measured"
