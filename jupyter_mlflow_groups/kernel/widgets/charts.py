"""Metric histories as a chart for notebooks: `MetricChart`, an ipywidgets widget whose view is
the sidebar's own chart (the labextension's `OverlayChart`, drawn in SVG with the theme's
colours): several series overlaid, smoothing, the x axis by step, wall time or relative time,
a legend that hides series. `RunChart` follows a run while it trains: new points appear in the
chart shown, without running the cell again.

The view ships in this package's labextension (`labextension/src/widget/`), registered with
ipywidgets' JupyterLab manager under the labextension's package name.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
from traitlets import CaselessStrEnum, Dict, Float, List, Unicode

from ..client import ApiFailure, NotConnected, ServerClient

#: The labextension's package name and version (labextension/package.json): where the view is.
MODULE = "jupyter-mlflow-groups"
MODULE_VERSION = "^0.1.0"

#: A run's statuses after which nothing more is logged.
ENDED = frozenset({"FINISHED", "FAILED", "KILLED"})


class _LabextensionWidget(widgets.DOMWidget):
    """A widget whose model and view are in this package's labextension."""

    _model_module = Unicode(MODULE).tag(sync=True)
    _model_module_version = Unicode(MODULE_VERSION).tag(sync=True)
    _view_module = Unicode(MODULE).tag(sync=True)
    _view_module_version = Unicode(MODULE_VERSION).tag(sync=True)


class MetricChart(_LabextensionWidget):
    """Series of metric points overlaid on one chart.

    `series`: `[{"label": "v1", "points": [{"step": 0, "value": 0.5, "timestamp": ms}, ...]}]`;
    `x_axis`: "step", "wall" or "relative"; `smoothing`: an exponential moving average's weight
    from 0 (none) to 0.99, the raw line kept faint behind; `note`: a line under the chart.
    The view writes `x_axis` and `smoothing` back when a person changes them.
    """

    _model_name = Unicode("MetricChartModel").tag(sync=True)
    _view_name = Unicode("MetricChartView").tag(sync=True)

    title = Unicode("").tag(sync=True)
    series = List(Dict()).tag(sync=True)
    x_axis = CaselessStrEnum(["step", "wall", "relative"], default_value="step").tag(sync=True)
    smoothing = Float(0.0, min=0.0, max=0.99).tag(sync=True)
    note = Unicode("").tag(sync=True)

    def show(self, title: str, histories: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Draw `histories` (label: the API's history of one metric), a line each."""
        self.title = title
        self.series = [
            {"label": label, "points": [_point(point) for point in history]}
            for label, history in histories.items()
        ]
        self.note = "" if histories or not title else f"No history of {title} to draw."


class AcrossVersionsChart(_LabextensionWidget):
    """One metric in each version of a model (x = version), the best marked: the compare tab's
    chart. `across`: the answer of `ServerClient.metric_across_versions` (None: nothing yet)."""

    _model_name = Unicode("AcrossVersionsChartModel").tag(sync=True)
    _view_name = Unicode("AcrossVersionsChartView").tag(sync=True)

    across = Dict(allow_none=True, default_value=None).tag(sync=True)


def _point(point: Mapping[str, Any]) -> dict[str, Any]:
    return {"step": point["step"], "value": point["value"], "timestamp": point.get("timestamp")}


class RunChart(MetricChart):
    """`RunChart(run_id)`: the run's metrics, one line each (or `metrics=["loss"]` only),
    read again every `interval` seconds while the run trains. It stops following when the run
    ends (FINISHED, FAILED, KILLED) or the widget is closed; `thread` is what follows."""

    def __init__(
        self,
        run_id: str,
        metrics: Iterable[str] | None = None,
        group: str | None = None,
        interval: float = 2.0,
        *,
        client: ServerClient | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.run_id = run_id
        self.metrics = list(metrics) if metrics is not None else None
        self.group = group
        self.interval = interval
        self.status: str | None = None
        self._client = client
        self._latest: dict[str, tuple[Any, Any]] = {}  # key: (step, timestamp) last drawn
        self._histories: dict[str, list[dict[str, Any]]] = {}
        self._closed = threading.Event()
        self.title = f"run {run_id}"
        self.note = "Reading the run…"
        self.thread = threading.Thread(
            target=self._follow, name=f"mlflow-groups run chart {run_id}", daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self._closed.set()
        super().close()

    def _open(self) -> bool:
        return not self._closed.is_set() and self.comm is not None

    def _follow(self) -> None:
        while self._open():
            try:
                ended = self._read()
            except (ApiFailure, NotConnected) as error:
                self.note = error.message if isinstance(error, ApiFailure) else str(error)
                if isinstance(error, ApiFailure) and error.status in (403, 404):
                    return  # no such run, or not this kernel's: nothing will change that
                ended = False
            if ended:
                return
            self._closed.wait(self.interval)

    def _read(self) -> bool:
        """Read the run, and the histories of its metrics that moved; True once it ended."""
        client = self._client or ServerClient.from_environment()
        self._client = client
        group = self.group or client.default_group()
        self.group = group
        run = client.run(group, self.run_id, refresh=True)
        self.status = run.get("status")
        latest = run.get("metrics") or {}
        keys = self.metrics if self.metrics is not None else sorted(latest)
        moved = False
        for key in keys:
            now = latest.get(key)
            mark = (now.get("step"), now.get("timestamp")) if now else None
            if mark is None or self._latest.get(key) == mark:
                continue
            history = client.metric_history(group, self.run_id, key, refresh=True)["history"]
            if not self._open():
                return True
            self._histories[key] = [_point(point) for point in history]
            self._latest[key] = mark
            moved = True
        if moved:
            self.series = [
                {"label": key, "points": self._histories[key]}
                for key in keys
                if key in self._histories
            ]
        self.title = run.get("run_name") or f"run {self.run_id}"
        ended = self.status in ENDED
        steps = max((len(points) for points in self._histories.values()), default=0)
        state = (self.status or "unknown").lower()
        self.note = (
            f"{state} · {steps} steps"
            + ("" if ended else f" · following every {self.interval:g} s")
            if self._histories
            else f"{state} · no metric logged yet"
        )
        return ended
