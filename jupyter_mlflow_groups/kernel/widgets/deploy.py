"""DeployPanel: deploy a version to a new or existing deployment and follow the copy live."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..client import ApiFailure, NotConnected, ServerClient
from ..formatting import format_bytes, format_duration, format_rate
from .common import NotSent, Panel, button, esc
from .deployments import DeploymentsPanel

NEW = "+ new deployment"
POLL_SECONDS = 0.25
#: A job's state as people read it (the REST API's `state` is a code).
STATE_LABELS = {
    "queued": "Waiting for a free copy slot",
    "planning": "Listing the version's files",
    "copying": "Copying",
    "verifying": "Verifying the copy",
    "swapping": "Switching over",
    "serving": "Starting the model server",
    "done": "Deployed",
    "failed": "Failed",
    "cancelled": "Cancelled",
}
NAME_HINT = "Use lowercase letters, digits and inner hyphens, like fraud-detector-prod."


def suggested_name(model: str) -> str:
    """A deployment name made from a model's name, as the sidebar makes it: lowercase letters,
    digits and hyphens (a DNS label)."""
    name = re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-")
    return name[:63].rstrip("-") or "model"


def version_label(requested: str) -> str:
    """`v3` for a number, `@champion` for an alias: one form from the start of a job to its end."""
    return requested if requested.startswith("@") else f"v{requested}"


def describe_progress(job: dict[str, Any]) -> str:
    """`Copying · 12.3 MB of 200 MB · 45 of 2001 files · 85.2 MB/s · 2 s left`."""
    parts = [STATE_LABELS.get(job["state"], job["state"])]
    if job.get("bytes_total") is not None:
        parts.append(f"{format_bytes(job['bytes_done'])} of {format_bytes(job['bytes_total'])}")
        parts.append(f"{job['files_done']} of {job['files_total']} files")
    if job.get("rate_bytes_per_s") and job["state"] == "copying":
        parts.append(format_rate(job["rate_bytes_per_s"]))
    if job.get("eta_s") is not None and job["state"] == "copying":
        parts.append(f"{format_duration(job['eta_s'])} left")
    return " · ".join(parts)


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
        deployment: str | None = None,
        start: bool = False,
        follow: bool = False,
    ) -> None:
        """`deployment` preselects a deployment (an existing one, or the name of a new one);
        `start` deploys at once (`%mlflow_group deploy ... --to NAME`); `follow` (for an
        @alias) ticks "Follow": the deployment redeploys by itself when the alias moves."""
        super().__init__(client, layout=widgets.Layout(width="100%"))
        self.model, self.version = model, str(version)
        self.group = group
        self.job: dict[str, Any] | None = None
        self.finished = threading.Event()
        self.live = (
            os.environ.get("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "true").lower() != "false"
        )
        self.target = widgets.Dropdown(description="Deploy to", options=[NEW])
        self.name = widgets.Text(
            value=suggested_name(model), description="Name", placeholder="e.g. fraud-detector-prod"
        )
        self.target.observe(lambda _: self._show_name_field(), names="value")
        self.deploy_button = button(
            "Deploy", lambda: self.attempt(self.start), icon="rocket", button_style="primary"
        )
        self.follow = widgets.Checkbox(
            value=follow,
            description=f"Follow {self.version}: redeploy when it moves",
            indent=False,
            layout=widgets.Layout(display=None if self.version.startswith("@") else "none"),
        )
        self.cancel_button = button("Cancel", lambda: self.attempt(self.cancel), icon="stop")
        self.cancel_button.layout.display = "none"  # offered only while a cancel can work
        self.bar = widgets.FloatProgress(
            min=0.0, max=1.0, value=0.0, layout=widgets.Layout(width="420px")
        )
        self.progress = widgets.HTML()
        self.result = widgets.VBox()
        header = widgets.HTML(
            f"<h3 style='margin: 4px 0'>Deploy {esc(model)} {esc(version_label(self.version))}</h3>"
        )
        controls = [
            header,
            widgets.HBox([self.target, self.name]),
            self.follow,
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
        labels = [(_label(d), d["name"]) for d in existing]
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

    @property
    def title(self) -> str:
        """`iris-classifier v3 → prod`: the job's name, the same from its start to its end."""
        return f"{self.model} {version_label(self.version)} → {self.deployment_name}"

    def start(self) -> None:
        """Start the job, then follow it from a thread (the kernel stays free meanwhile)."""
        assert self.group is not None
        if not self.deployment_name:
            raise NotSent("Give the new deployment a name.", NAME_HINT)
        self.finished.clear()
        self.result.children = []
        follow = self.follow.value and self.version.startswith("@")
        self.job = self.client.deploy(
            self.group, self.deployment_name, self.model, self.version, follow=follow
        )
        self.deploy_button.disabled = True
        self.target.disabled = self.name.disabled = self.follow.disabled = True
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
            self.target.disabled = self.name.disabled = self.follow.disabled = False
            self.cancel_button.layout.display = "none"
            self.finished.set()

    def _render(self, job: dict[str, Any]) -> None:
        self.job = job
        self.cancel_button.layout.display = None if job.get("cancellable") else "none"
        total = job.get("bytes_total") or 0
        if total:
            self.bar.value = min(1.0, job["bytes_done"] / total)
        if self.live:
            self.progress.value = f"<b>{esc(self.title)}</b> · {esc(describe_progress(job))}"

    def _finish(self, job: dict[str, Any]) -> None:
        title = self.title  # before the menu changes below
        self._render(job)
        self.bar.layout.display = "none" if not self.live else None
        name = esc(job["deployment"])
        if job["state"] == "done":
            self.bar.value = 1.0
            resolved = f" (version {job['version']})" if self.version.startswith("@") else ""
            following = f" It follows {self.version} from now on." if job.get("follow") else ""
            self.progress.value = esc(
                f"Deployed {title}{resolved}: "
                f"{format_bytes(job['bytes_total'])} in {job['files_total']} files.{following}"
            )
            if self.attempt(self._load_deployments):  # a new deployment joins "Deploy to"
                self.target.value = job["deployment"]
            self.result.children = [
                DeploymentsPanel(
                    self.group,
                    client=self.client,
                    only=lambda d: d["name"] == job["deployment"],
                    heading=False,
                )
            ]
        elif job["state"] == "cancelled":
            self.progress.value = f"{esc(title)}: cancelled; '{name}' is unchanged."
        else:
            error = job.get("error") or {"message": "unknown error"}
            hint = f" {esc(error['hint'])}" if error.get("hint") else ""
            self.progress.value = (
                f"Deploying {esc(title)} failed: {esc(error['message'])}. Nothing was changed."
                + hint
            )


def _label(deployment: dict[str, Any]) -> str:
    """`prod (now iris v2, serving)`: a deployment in the "Deploy to" menu."""
    serves = deployment["model"]
    if deployment.get("version"):
        serves += f" v{deployment['version']}"
    return f"{deployment['name']} (now {serves}, {deployment['status']})"
