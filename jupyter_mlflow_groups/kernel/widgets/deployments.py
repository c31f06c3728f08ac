"""DeploymentsPanel: a group's deployments, each with Stop/Start, Remove (confirmed), its
version in MLflow, and how to call it. Other panels embed it for the deployments they show."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..client import ApiFailure, NotConnected, ServerClient
from ..snippets import http_snippet, input_columns, predict_snippet
from .common import NOTHING, Panel, button, esc, link, table, when

POLL_SECONDS = 0.25
#: How long Start follows a model server coming up before leaving it to Refresh.
START_WAIT_SECONDS = 300.0


def call_help(client: ServerClient, deployment: dict[str, Any], columns: list[str]) -> str:
    """HTML: where a local deployment answers (its invocations URL, its ping) and the code
    that calls it, from a notebook and over HTTP."""
    invocations = deployment.get("invocations_url")
    if not invocations:
        where = deployment.get("endpoint")
        return f"<div>Served by its target at {esc(where)}</div>" if where else ""
    url = client.absolute(invocations)
    ping = link(f"{deployment['endpoint']}ping", "ping")
    notebook = predict_snippet(deployment["group"], deployment["name"], columns)
    return (
        f"<div><b>Invocations URL</b> (POST JSON, with your Jupyter login or token): "
        f"<code style='user-select: all'>{esc(url)}</code> · {ping}</div>"
        "<div>From a notebook of this server:</div>"
        f"<pre style='user-select: all; margin: 2px 0'>{esc(notebook)}</pre>"
        "<div>Over HTTP:</div>"
        f"<pre style='user-select: all; margin: 2px 0'>{esc(http_snippet(url, columns))}</pre>"
    )


class DeploymentsPanel(Panel):
    """`DeploymentsPanel()`: the kernel's group's deployments; `DeploymentsPanel("team-a")`
    another of your groups'. `only` keeps some (a version's, one name)."""

    def __init__(
        self,
        group: str | None = None,
        *,
        client: ServerClient | None = None,
        only: Callable[[dict[str, Any]], bool] | None = None,
        on_back: Callable[[], Any] | None = None,
        heading: bool = True,
        empty: str = "No deployments in this group yet: deploy a version from the model browser.",
    ) -> None:
        super().__init__(client, layout=widgets.Layout(width="100%"))
        self.group = group
        self.only = only
        self.empty = empty
        self.deployments: list[dict[str, Any]] = []
        self._calling: str | None = None  # the deployment whose call help is shown
        self.settled = threading.Event()  # set when no start is being followed
        self.settled.set()
        self.title = widgets.HTML()
        self.rows = widgets.VBox()
        self.confirm = widgets.VBox()
        self.call = widgets.HTML()
        toolbar = [button("Refresh", lambda: self.attempt(self.load), icon="refresh")]
        if on_back is not None:
            toolbar.insert(0, button("Back", on_back, icon="arrow-left"))
        self.toolbar = widgets.HBox(toolbar)
        parts: list[widgets.Widget] = [self.title, self.toolbar] if heading else []
        self.children = [*parts, self.problem, self.rows, self.confirm, self.call]
        self.attempt(self.load)

    # -- reading ---------------------------------------------------------------------------------

    def load(self) -> None:
        self.group = self.group or self.client.default_group()
        self.follow_changes(self.group, ("deployments",))
        listing = self.client.deployments(self.group)["deployments"]
        self.deployments = [d for d in listing if self.only is None or self.only(d)]
        self.title.value = f"<h3 style='margin: 4px 0'>Deployments · group {esc(self.group)}</h3>"
        self.confirm.children = []
        self.rows.children = [self._table()] if self.deployments else [self._nothing()]
        shown = [d["name"] for d in self.deployments]
        if len(shown) == 1:
            self.show_call(shown[0])  # one deployment: say how to call it straight away
        elif self._calling not in shown:
            self._calling, self.call.value = None, ""

    def redraw(self) -> None:
        """The deployments as they are now, unless a removal waits for confirmation."""
        if not self.confirm.children:
            self.load()

    def _nothing(self) -> widgets.HTML:
        return widgets.HTML(f"<i>{esc(self.empty)}</i>")

    def _table(self) -> widgets.GridBox:
        rows = [
            [
                button(
                    d["name"],
                    lambda name=d["name"]: self.attempt(lambda: self.show_call(name)),
                    tooltip=f"How to call {d['name']}",
                    layout=widgets.Layout(width="auto"),
                ),
                f"{d['model']} v{d['version']}" if d.get("version") else d["model"],
                _status(d),
                when(d.get("updated_at"), relative=True),
                d.get("updated_by") or NOTHING,
                widgets.HBox(self._actions(d)),
            ]
            for d in self.deployments
        ]
        return table(
            ["Name", "Serves", "Status", "Updated", "By", ""],
            rows,
            "minmax(120px, max-content) repeat(4, max-content) 1fr",
        )

    def _actions(self, deployment: dict[str, Any]) -> list[widgets.Widget]:
        name, status = deployment["name"], deployment["status"]
        local = deployment.get("target") == "local"
        actions: list[widgets.Widget] = []
        if local and status in ("serving", "starting"):
            actions.append(
                button("Stop", lambda: self.attempt(lambda: self.stop(name)), icon="stop",
                       tooltip=f"Stop serving {name} (it stays stopped until started)")
            )  # fmt: skip
        elif local and status in ("stopped", "failed"):
            actions.append(
                button("Start", lambda: self.attempt(lambda: self.start(name)), icon="play",
                       tooltip=f"Serve {name} again")
            )  # fmt: skip
        if status != "deploying":
            actions.append(
                button("Remove", lambda: self.ask_remove(name), icon="trash",
                       button_style="danger", tooltip=f"Remove {name}")
            )  # fmt: skip
        actions.append(widgets.HTML(link(deployment.get("ui_url"), "Open in MLflow")))
        return actions

    def show_call(self, name: str) -> None:
        deployment = self._find(name)
        self._calling = name
        columns = self._columns(deployment)
        heading = f"<h4 style='margin: 6px 0 2px'>Calling {esc(name)}</h4>"
        help_html = call_help(self.client, deployment, columns)
        self.call.value = heading + help_html if help_html else ""

    def _columns(self, deployment: dict[str, Any]) -> list[str]:
        model, version = deployment["model"], deployment.get("version")
        if not version:
            return input_columns(None)
        try:
            detail = self.client.version(self.group or "", model, version)
        except (ApiFailure, NotConnected):
            return input_columns(None)
        return input_columns(detail.get("signature"))

    def _find(self, name: str) -> dict[str, Any]:
        return next(d for d in self.deployments if d["name"] == name)

    # -- changing --------------------------------------------------------------------------------

    def stop(self, name: str) -> None:
        assert self.group is not None
        self.client.stop_deployment(self.group, name)
        self.load()

    def start(self, name: str) -> None:
        """Start it, then follow it from a thread until it serves (or says why not)."""
        assert self.group is not None
        deployment = self.client.start_deployment(self.group, name)
        self.load()
        if deployment["status"] == "starting":
            self.settled.clear()
            threading.Thread(target=self._follow_start, args=(name,), daemon=True).start()

    def _follow_start(self, name: str) -> None:
        try:
            deadline = time.monotonic() + START_WAIT_SECONDS
            while time.monotonic() < deadline:
                assert self.group is not None
                if self.client.deployment(self.group, name)["status"] != "starting":
                    break
                time.sleep(POLL_SECONDS)
            self.load()
        except (ApiFailure, NotConnected) as error:
            self.show_problem(error)
        finally:
            self.settled.set()

    def ask_remove(self, name: str) -> None:
        question = widgets.HTML(
            f"<b>Remove the deployment {esc(name)}?</b> Its model server stops and its copy of "
            "the model is deleted; the registered model itself is not touched."
        )
        self.confirm.children = [
            question,
            widgets.HBox(
                [
                    button(f"Remove {name}", lambda: self.attempt(lambda: self.remove(name)),
                           icon="trash", button_style="danger"),
                    button("Keep it", self._keep),
                ]
            ),
        ]  # fmt: skip

    def _keep(self) -> None:
        self.confirm.children = []

    def remove(self, name: str) -> None:
        assert self.group is not None
        self.confirm.children = []
        self.client.delete_deployment(self.group, name)
        self.load()


def _status(deployment: dict[str, Any]) -> widgets.HTML:
    """The status, with why it failed on hover."""
    status = deployment["status"]
    why = deployment.get("message")
    if status == "failed" and why:
        return widgets.HTML(f'<span title="{esc(why)}">failed: {esc(why)}</span>')
    return widgets.HTML(esc(status))
