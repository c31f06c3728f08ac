"""Comparing versions of a model on a real MLflow server: through the REST API and in the
CompareVersions widget (the magic's `compare` is in test_magics, in a real kernel)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from functools import partial

import ipywidgets as widgets
import pytest
from mlflow import MlflowClient
from support.compare import files_listed
from support.extension import service_of
from support.rest import fetch_json
from support.seeding import COMPARED_STEPS, compared_model_files
from support.servers import CountingProxy
from support.widget_text import leaves, visible_text

from jupyter_mlflow_groups import side_by_side
from jupyter_mlflow_groups.compare import comparison, direction_of
from jupyter_mlflow_groups.kernel.client import ServerClient
from jupyter_mlflow_groups.kernel.widgets import CompareVersions
from jupyter_mlflow_groups.model_files import files_place

API = ("mlflow-groups", "api", "groups")


@pytest.fixture
def group(compared, deploy_server, bindings):
    bindings.write(
        {"groups": {"reg": {"tracking_uri": deploy_server.url, "ui_url": "http://ui.example"}}}
    )
    return "reg"


async def compare(jp_fetch, model, versions, group="reg", **params):
    return await fetch_json(
        jp_fetch, *API, group, "models", model, "compare", params={"versions": versions, **params}
    )


async def test_versions_side_by_side_with_differences_and_the_best_marked(
    group, compared, jp_fetch
):
    status, body = await compare(jp_fetch, compared, "1,@champion,@challenger")
    assert status == 200, body
    assert [(v["version"], v["requested"]) for v in body["versions"]] == [
        ("1", ["1"]),
        ("2", ["@champion"]),
        ("3", ["@challenger"]),
    ]
    assert body["versions"][1]["aliases"] == ["champion"]
    assert body["versions"][0]["run"]["run_name"] == "candidate-1"
    assert body["versions"][0]["ui_url"] == "http://ui.example/#/models/compared%20fraud/versions/1"

    assert body["params"] == {
        "alpha": {"1": "0.1", "2": "0.5", "3": "0.5"},
        "class_weight": {"1": None, "2": None, "3": "balanced"},
        "depth": {"1": "3", "2": "3", "3": "3"},
    }
    assert body["metrics"]["accuracy"] == {"1": 0.80, "2": 0.90, "3": 0.85}
    assert body["metrics"]["f1"] == {"1": None, "2": None, "3": 0.7}
    # the latest value of each metric: train/loss's last step, not its first
    assert body["metrics"]["train/loss"] == pytest.approx(
        {str(n): n / COMPARED_STEPS for n in (1, 2, 3)}
    )
    assert body["directions"] == {
        "accuracy": "max", "f1": "max", "train/loss": "min", "val_loss": "min",
    }  # fmt: skip
    assert body["best"] == {"accuracy": ["2"], "f1": [], "train/loss": ["1"], "val_loss": ["2"]}
    assert body["tags"] == {"reviewed": {"1": "yes", "2": "yes", "3": "no"}}
    assert body["run_tags"] == {"data": {"1": "2026-10", "2": "2026-11", "3": "2026-11"}}
    assert body["differences"] == {
        "params": ["alpha", "class_weight"],
        "metrics": ["accuracy", "f1", "train/loss", "val_loss"],
        "tags": ["reviewed"],
        "run_tags": ["data"],
        "signature": False,
    }
    assert body["signatures"] == {"1": None, "2": None, "3": None}
    assert body["sizes"] == {
        str(index + 1): {
            "bytes": sum(map(len, compared_model_files(index).values())),
            "files": len(compared_model_files(index)),
        }
        for index in range(3)
    }


async def test_one_version_asked_by_two_names_is_one_column(group, compared, jp_fetch):
    status, body = await compare(jp_fetch, compared, "2,@champion")
    assert status == 200, body
    assert [(v["version"], v["requested"]) for v in body["versions"]] == [("2", ["2", "@champion"])]
    assert body["best"]["accuracy"] == []  # nothing to be better than
    assert body["differences"]["params"] == []


async def test_which_way_a_metric_is_better_can_be_said(group, compared, jp_fetch):
    status, body = await compare(jp_fetch, compared, "1,2,3", direction="accuracy:min")
    assert status == 200, body
    assert body["directions"]["accuracy"] == "min" and body["best"]["accuracy"] == ["1"]
    assert body["best"]["val_loss"] == ["2"]  # the others keep their names' direction


@pytest.mark.parametrize(
    ("versions", "params", "status", "fragment"),
    [
        ("3", {}, 400, "Compare from 2 to 10 versions; 1 given."),
        (",".join(map(str, range(1, 12))), {}, 400, "Compare from 2 to 10 versions; 11 given."),
        ("1,latest", {}, 400, "'latest' is neither a version number nor an @alias."),
        ("1,2", {"direction": "accuracy:up"}, 400, "'accuracy:up' is not METRIC:max or"),
        ("1,99", {}, 404, "has no version 99."),
        ("1,@retired", {}, 404, "has no alias '@retired'."),
    ],
)
async def test_bad_comparisons_say_what_is_wrong(
    group, compared, jp_fetch, versions, params, status, fragment
):
    answered, body = await compare(jp_fetch, compared, versions, **params)
    assert answered == status, body
    assert fragment in body["error"]["message"]
    assert body["error"]["hint"]


async def test_an_unknown_model_is_named(group, jp_fetch):
    status, body = await compare(jp_fetch, "no such model", "1,2")
    assert status == 404 and "No model 'no such model' in group 'reg'." in body["error"]["message"]


async def across(jp_fetch, model, key, group="reg", **params):
    return await fetch_json(
        jp_fetch, *API, group, "models", model, "metrics", *key.split("/"), params=params
    )


async def test_one_metric_across_every_version_with_the_best_marked(
    group, compared, deploy_server, jp_fetch
):
    status, body = await across(jp_fetch, compared, "val_loss")
    assert status == 200, body
    mlflow = MlflowClient(tracking_uri=deploy_server.url)
    expected = [
        (v.version, mlflow.get_run(v.run_id).data.metrics.get("val_loss"))
        for v in sorted(
            mlflow.search_model_versions(f"name = '{compared}'"), key=lambda v: int(v.version)
        )
    ]
    assert [(p["version"], p["value"]) for p in body["versions"]] == expected
    assert body["direction"] == "min" and body["best"] == ["2"]  # 0.3, the lowest loss
    assert next(p for p in body["versions"] if p["version"] == "2")["aliases"] == ["champion"]
    assert body["more"] is False

    status, body = await across(jp_fetch, compared, "f1")  # only v3's run logged it
    assert [p["value"] for p in body["versions"]] == [None, None, 0.7]
    assert body["best"] == []  # one value: nothing to be better than

    status, body = await across(jp_fetch, compared, "val_loss", direction="max")
    assert body["best"] == ["1"]
    status, body = await across(jp_fetch, compared, "train/loss")  # a key with a slash
    assert status == 200 and [p["step"] for p in body["versions"]] == [COMPARED_STEPS - 1] * 3

    status, body = await across(jp_fetch, compared, "val_loss", direction="up")
    assert status == 400 and "direction is max or min" in body["error"]["message"]
    status, body = await across(jp_fetch, "no such model", "val_loss")
    assert status == 404 and "No model 'no such model'" in body["error"]["message"]


async def test_the_versions_are_read_in_two_rounds_of_calls(
    compared, deploy_server, bindings, jp_fetch
):
    proxy = CountingProxy(int(deploy_server.url.rsplit(":", 1)[1]))
    try:
        bindings.write({"groups": {"proxied": {"tracking_uri": proxy.url}}})
        proxy.reset()
        status, _ = await compare(jp_fetch, compared, "1,2,3", group="proxied", refresh=1)
        assert status == 200
        # the model and one search for the three versions, their MLmodels alongside; then
        # each run and each model's two folders (model/, model/code/)
        assert proxy.total == 2 + 3 + 3 * (1 + 2)
        assert proxy.most_open >= 3  # calls side by side (5 in the first round)

        proxy.reset()
        status, _ = await compare(jp_fetch, compared, "2,@challenger", group="proxied", refresh=1)
        assert status == 200  # an @alias: its version read beside the search
        assert proxy.total == 3 + 2 + 2 * (1 + 2) and proxy.most_open >= 3
    finally:
        proxy.close()


async def test_versions_far_apart_are_read_one_by_one_with_the_same_answer(
    group, compared, jp_fetch, monkeypatch
):
    _, searched = await compare(jp_fetch, compared, "1,3", refresh=1)
    monkeypatch.setattr(side_by_side, "RANGE_SEARCH", 1)  # 1..3 is too wide a span to search
    _, one_by_one = await compare(jp_fetch, compared, "1,3", refresh=1)
    assert one_by_one == searched
    status, body = await compare(jp_fetch, compared, "1,99")
    assert status == 404 and "has no version 99." in body["error"]["message"]


LOG_TWO_MODELS = """
import mlflow, mlflow.sklearn
from sklearn.linear_model import LinearRegression

mlflow.set_experiment("logged sizes")
model = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
for _ in range(2):
    with mlflow.start_run():
        mlflow.sklearn.log_model(model, name="model", registered_model_name="logged sizes")
"""


async def test_a_logged_models_size_is_its_files(deploy_server, bindings, jp_fetch):
    """MLflow 3's logged models (`models:/m-...` sources) are listed where MLflow keeps them."""
    # in a process of its own: MLflow's fluent API keeps its tracking URI for the whole process
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", LOG_TWO_MODELS],
        env={**os.environ, "MLFLOW_TRACKING_URI": deploy_server.url},
        check=True,
        capture_output=True,
    )
    bindings.write({"groups": {"reg": {"tracking_uri": deploy_server.url}}})
    status, body = await compare(jp_fetch, "logged sizes", "1,2")
    assert status == 200, body
    client = MlflowClient(tracking_uri=deploy_server.url)
    for version in ("1", "2"):
        source = client.get_model_version("logged sizes", version).source
        model_id = source.removeprefix("models:/")
        assert model_id.startswith("m-")
        files = files_listed(partial(client.list_logged_model_artifacts, model_id))
        assert body["sizes"][version] == {"bytes": sum(files.values()), "files": len(files)}
        assert "MLmodel" in files


@pytest.mark.parametrize(
    ("version", "place"),
    [
        ({"source": "runs:/abc/model", "run_id": "abc"}, ("/api/artifacts/list", "model")),
        (
            {"source": "s3://bucket/7/abc/artifacts/deep/model", "run_id": "abc"},
            ("/api/artifacts/list", "deep/model"),
        ),
        (
            {"source": "models:/m-0123abcd", "run_id": "abc"},
            ("/api/logged-models/m-0123abcd/artifacts/directories", ""),
        ),
        ({"source": "s3://bucket/models/fraud", "run_id": "abc"}, None),  # not the run's
        ({"source": "runs:/other/model", "run_id": "abc"}, None),  # another run's files
        ({"source": "file:///srv/abc/artifacts/model", "run_id": ""}, None),
    ],
)
def test_where_a_versions_files_are_listed(version, place):
    found = files_place("/api", version)
    assert (found and (found.route, found.root)) == place


@pytest.fixture
def client(group, jp_serverapp, http_server_client):
    """A client as a kernel has one (http_server_client: the test server must be listening)."""
    token = service_of(jp_serverapp).tokens.issue("compare-test-kernel", "alice")
    return ServerClient(f"http://127.0.0.1:{jp_serverapp.port}{jp_serverapp.base_url}", token)


async def test_the_widget_marks_the_best_hides_what_is_equal_and_overlays_histories(
    client, compared
):
    panel = await asyncio.to_thread(
        CompareVersions, compared, ["1", "@champion", "@challenger"], "reg", client=client
    )
    text = visible_text(panel)
    assert f"{compared} · v1 vs v2 (@champion) vs v3 (@challenger)" in text
    assert "Metric | v1 | v2 (@champion) | v3 (@challenger)" in text
    assert "accuracy | 0.8 | ★ 0.9 | 0.85" in text
    assert "val_loss | 0.5 | ★ 0.3 | 0.4" in text
    assert "f1 | — | — | 0.7" in text  # one value: nothing marked best
    assert "depth | 3 | 3 | 3" in text
    assert "Source run | candidate-1 ↗ | candidate-2 ↗ | candidate-3 ↗" in text
    assert "Model size | 1.1 kB in 2 files | 2.1 kB in 2 files | 3.1 kB in 2 files" in text
    assert "Signatures are the same." in text

    await asyncio.to_thread(setattr, panel.differences_only, "value", True)
    text = visible_text(panel)
    assert "alpha | 0.1 | 0.5 | 0.5" in text and "depth |" not in text

    assert panel.metric_choice.value == "accuracy"
    await asyncio.to_thread(setattr, panel.metric_choice, "value", "train/loss")
    state = panel.chart.get_state()
    assert state["title"] == "train/loss"
    assert [one["label"] for one in state["series"]] == ["v1", "v2 (@champion)", "v3 (@challenger)"]
    assert all(len(one["points"]) == COMPARED_STEPS for one in state["series"])
    await asyncio.to_thread(setattr, panel.metric_choice, "value", "f1")
    assert [one["label"] for one in panel.chart.series] == [
        "v3 (@challenger)"
    ]  # only the version whose run logged it
    read = await asyncio.to_thread(client.metric_across_versions, "reg", compared, "f1", "max")
    assert panel.across.across == read
    assert [point["value"] for point in panel.across.across["versions"]] == [None, None, 0.7]


async def test_the_widget_explains_a_bad_comparison(client, compared):
    panel = await asyncio.to_thread(CompareVersions, compared, ["1", "42"], "reg", client=client)
    assert "has no version 42" in visible_text(panel)
    assert not [n for n in leaves(panel) if isinstance(n, widgets.GridBox)]


@pytest.mark.parametrize(
    ("key", "direction"),
    [
        ("val_loss", "min"), ("train/rmse", "min"), ("latency_ms", "min"), ("error_rate", "min"),
        ("MAE", "min"), ("accuracy", "max"), ("f1", "max"), ("r2", "max"), ("auc", "max"),
        ("lossless_ratio", "max"),  # a word of the name, not a part of a word
    ],
)  # fmt: skip
def test_a_metric_s_direction_comes_from_the_words_of_its_name(key, direction):
    assert direction_of(key) == direction


def test_values_that_cannot_be_compared_are_never_best():
    details = [
        {"version": str(n), "run": {"metrics": {"score": {"value": value}}}}
        for n, value in ((1, float("nan")), (2, 0.5), (3, float("inf")), (4, 0.5))
    ]
    result = comparison("g", "m", ["1", "2", "3", "4"], details, {})
    assert result["best"]["score"] == ["2", "4"]  # a tie names both; NaN and inf are left out
