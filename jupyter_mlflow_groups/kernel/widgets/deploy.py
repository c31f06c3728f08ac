"""DeployPanel: deploy a version to a new or existing deployment and follow the copy live."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..client import ApiFailure, NotConnected, ServerClient
from .common import Panel, button, esc, link

NEW = "+ new deployment"
POLL_SECONDS = 0.25


def human_bytes(count: float | None) -> str:
    if count is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB"):
        if abs(count) < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


def describe_progress(job: dict[str, Any]) -> str:
    """`copying · 12.3 MB of 200.0 MB · 45 of 2001 files · 85.2 MB/s · 2 s left`."""
    parts = [job["state"]]
    if job.get("bytes_total") is not None:
        parts.append(f"{human_bytes(job['bytes_done'])} of {human_bytes(job['bytes_total'])}")
        parts.append(f"{job['files_done']} of {job['files_total']} files")
    if job.get("rate_bytes_per_s"):
        parts.append(f"{human_bytes(job['rate_bytes_per_s'])}/s")
    if job.get("eta_s") is not None and job["state"] == "copying":
        parts.append(f"{job['eta_s']:.0f} s left")
    return " · ".join(parts)


def invocation_snippet(deployment: str, group: str, columns: list[str]) -> str:
    """Ready to run in any kernel of this server: MLflow's deployments client with our target
    (it goes through the server, with the kernel's own token)."""
    row = ", ".join("0" for _ in columns)
    return (
        "import pandas as pd\n"
        "from mlflow.deployments import get_deploy_client\n\n"
        f"client = get_deploy_client({json.dumps(f'jupyter-mlflow-groups:/{group}')})\n"
        f"client.predict({json.dumps(deployment)}, "
        f"pd.DataFrame([[{row}]], columns={json.dumps(columns)}))"
    )


class DeployPanel(Panel):
    """`DeployPanel("fraud-detector", "3")`: choose a deployment, Deploy, watch it happen."""

    def __init__(
        self,
        model: str,
        version: str,
        group: str | None = None,
        *,
        client: ServerClient | None = None,
        on_back: Callable[[], Any] | None = None,
        on_done: Callable[[dict[str, Any]], Any] | None = None,
        deployment: str | None = None,
        start: bool = False,
    ) -> None:
        """`deployment` preselects a deployment (an existing one, or the name of a new one);
        `start` deploys at once (`%mlflow_group deploy ... --to NAME`)."""
        super().__init__(client, layout=widgets.Layout(width="100%"))
        self.model, self.version = model, str(version)
        self.group = group
        self.on_done = on_done
        self.job: dict[str, Any] | None = None
        self.finished = threading.Event()
        self.live = (
            os.environ.get("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "true").lower() != "false"
        )
        self.target = widgets.Dropdown(description="Deploy to", options=[NEW])
        self.name = widgets.Text(description="Name", placeholder="e.g. fraud-detector-prod")
        self.target.observe(lambda _: self._show_name_field(), names="value")
        self.deploy_button = button(
            "Deploy", lambda: self.attempt(self.start), icon="rocket", button_style="primary"
        )
        self.cancel_button = button(
            "Cancel", lambda: self.attempt(self.cancel), icon="stop", disabled=True
        )
        self.bar = widgets.FloatProgress(
            min=0.0, max=1.0, value=0.0, layout=widgets.Layout(width="420px")
        )
        self.progress = widgets.HTML()
        self.result = widgets.HTML()
        header = widgets.HTML(
            f"<h3 style='margin: 4px 0'>Deploy {esc(model)} · version {esc(self.version)}</h3>"
        )
        controls = [
            header,
            widgets.HBox([self.target, self.name]),
            widgets.HBox([self.deploy_button, self.cancel_button]),
        ]
        if on_back is not None:
            controls.insert(0, button("Back", on_back, icon="arrow-left"))
        self.bar.layout.display = "none"
        self.children = [*controls, self.problem, self.bar, self.progress, self.result]
        if self.attempt(self._load_deployments) and deployment:
            self._choose(deployment)
            if start:
                self.attempt(self.start)

    def _load_deployments(self) -> bool:
        self.group = self.group or self.client.default_group()
        existing = self.client.deployments(self.group)["deployments"]
        labels = [(f"{d['name']} (now {d['model']} v{d['version']})", d["name"]) for d in existing]
        self.target.options = [(NEW, NEW), *labels]
        self.target.value = NEW
        return True

    def _choose(self, deployment: str) -> None:
        if deployment in [value for _, value in self.target.options]:
            self.target.value = deployment
        else:
            self.target.value = NEW
            self.name.value = deployment

    def _show_name_field(self) -> None:
        self.name.layout.display = None if self.target.value == NEW else "none"

    @property
    def deployment_name(self) -> str:
        return self.name.value.strip() if self.target.value == NEW else self.target.value

    def start(self) -> None:
        """Start the job, then follow it from a thread (the kernel stays free meanwhile)."""
        assert self.group is not None
        self.finished.clear()
        self.result.value = ""
        self.job = self.client.deploy(self.group, self.deployment_name, self.model, self.version)
        self.deploy_button.disabled = True
        self.cancel_button.disabled = False
        self.bar.value = 0.0
        self.bar.layout.display = None if self.live else "none"
        self._render(self.job)
        threading.Thread(target=self._follow, args=(self.job["id"],), daemon=True).start()

    def cancel(self) -> None:
        if self.job is not None:
            self._render(self.client.cancel_job(self.job["id"]))

    def _follow(self, job_id: str) -> None:
        try:
            job = self.client.job(job_id)
            while job["state"] not in ("done", "failed", "cancelled"):
                self._render(job)
                time.sleep(POLL_SECONDS)
                job = self.client.job(job_id)
            self._finish(job)
        except (ApiFailure, NotConnected) as error:
            self.show_problem(error)
        finally:
            self.deploy_button.disabled = False
            self.cancel_button.disabled = True
            self.finished.set()

    def _render(self, job: dict[str, Any]) -> None:
        self.job = job
        total = job.get("bytes_total") or 0
        if total:
            self.bar.value = min(1.0, job["bytes_done"] / total)
        if self.live:
            self.progress.value = esc(describe_progress(job))

    def _finish(self, job: dict[str, Any]) -> None:
        self._render(job)
        self.bar.layout.display = "none" if not self.live else None
        name = esc(job["deployment"])
        if job["state"] == "done":
            self.bar.value = 1.0
            columns = self._input_columns()
            self.progress.value = esc(
                f"Deployed {job['model']} version {job['version']} to '{job['deployment']}': "
                f"{human_bytes(job['bytes_total'])} in {job['files_total']} files."
            )
            self.result.value = (
                f"<div><b>{name}</b> serves at "
                f"{link(job['endpoint'], job['endpoint']) if job.get('endpoint') else ''}</div>"
                + (
                    "<div>Call it:</div><pre style='user-select: all'>"
                    f"{esc(invocation_snippet(job['deployment'], job['group'], columns))}</pre>"
                    if job.get("endpoint")
                    else ""
                )
            )
            if self.on_done is not None:
                self.on_done(job)
        elif job["state"] == "cancelled":
            self.progress.value = f"Cancelled: '{name}' is unchanged."
        else:
            error = job.get("error") or {"message": "unknown error"}
            hint = f" {esc(error['hint'])}" if error.get("hint") else ""
            self.progress.value = (
                f"Deploying to '{name}' failed: {esc(error['message'])}. Nothing was changed."
                + hint
            )

    def _input_columns(self) -> list[str]:
        """The model's input columns (from its signature) for the example call."""
        try:
            detail = self.client.version(self.group or "", self.model, self.version)
        except (ApiFailure, NotConnected):
            return ["feature"]
        inputs = (detail.get("signature") or {}).get("inputs") or []
        return [spec.get("name", f"input_{i}") for i, spec in enumerate(inputs)] or ["feature"]
