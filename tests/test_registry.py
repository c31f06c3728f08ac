"""Browsing a real, seeded MLflow registry through the REST API."""

from __future__ import annotations

import json

import pytest
from mlflow import MlflowClient
from support.extension import service_of
from support.rest import fetch_json
from support.seeding import SPECIAL_NAMES, model_name
from support.servers import ADMIN_PASSWORD, ADMIN_USER, READER_PASSWORD, READER_USER, CountingProxy

API = ("mlflow-groups", "api", "groups")


@pytest.fixture
def group(seeded, mlflow_servers, bindings):
    bindings.write(
        {
            "groups": {
                "reg": {"tracking_uri": mlflow_servers.plain.url, "ui_url": "http://ui.example"}
            }
        }
    )
    return "reg"


async def get(jp_fetch, *parts, params=None):
    """GET under the group API (jp_fetch escapes each part); returns (status, body)."""
    return await fetch_json(jp_fetch, *API, *parts, params=params)


async def test_first_page_of_models(group, jp_fetch, seeded):
    status, body = await get(jp_fetch, group, "models")
    assert status == 200
    assert [m["name"] for m in body["models"]] == sorted(seeded.model_names)[:25]
    assert body["next_page_token"]
    first = next(m for m in body["models"] if m["name"] == model_name(0))
    assert first["latest_version"] == "3"
    assert first["aliases"] == {"champion": "3", "challenger": "2"}
    assert first["tags"] == {"team": "a"}
    assert first["description"] == "Seeded model number 0"
    assert first["last_modified"].endswith("Z")
    assert first["ui_url"] == "http://ui.example/#/models/model-0000"
    assert body["ui_url"] == "http://ui.example"


async def test_every_page_is_reachable(group, jp_fetch, seeded):
    names, token, pages = [], None, 0
    while True:
        params = {"max_results": 100, **({"page_token": token} if token else {})}
        status, body = await get(jp_fetch, group, "models", params=params)
        assert status == 200
        names += [m["name"] for m in body["models"]]
        pages += 1
        token = body["next_page_token"]
        if not token:
            break
    assert pages == 3
    assert sorted(names) == sorted(seeded.model_names)
    assert len(set(names)) == len(names)


async def test_mlflow_filter_syntax_and_order(group, jp_fetch, seeded):
    _, body = await get(jp_fetch, group, "models", params={"filter": "name LIKE '%fraud%'"})
    assert [m["name"] for m in body["models"]] == ["fraud detector é"]
    _, body = await get(
        jp_fetch, group, "models", params={"filter": "tags.team = 'b'", "max_results": 1000}
    )
    expected = {name for index, name in enumerate(seeded.model_names) if index % 2 == 1}
    assert {m["name"] for m in body["models"]} == expected
    _, body = await get(
        jp_fetch, group, "models", params={"order_by": "name DESC", "max_results": 5}
    )
    names = [m["name"] for m in body["models"]]
    assert names == sorted(seeded.model_names, reverse=True)[:5]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"filter": "name LIKE"}, "Invalid clause"),
        ({"max_results": 0}, "max_results must be between 1 and 1000"),
        ({"max_results": 5000}, "max_results must be between 1 and 1000"),
        ({"max_results": "many"}, "'max_results' must be a whole number"),
        ({"page_token": "not-a-token"}, "Invalid page token"),
        ({"order_by": "nonsense DESC"}, "Invalid order by key 'nonsense'"),
    ],
)
async def test_bad_queries_are_400_with_mlflow_s_reason(group, jp_fetch, params, fragment):
    status, body = await get(jp_fetch, group, "models", params=params)
    assert status == 400, body
    assert body["error"]["code"] == "bad_request"
    assert fragment.lower() in body["error"]["message"].lower()


async def test_a_model_with_aliases_and_versions_newest_first(group, jp_fetch):
    status, body = await get(jp_fetch, group, "models", model_name(0))
    assert status == 200
    assert body["name"] == model_name(0)
    assert body["aliases"] == {"champion": "3", "challenger": "2"}
    assert [v["version"] for v in body["versions"]] == ["3", "2", "1"]
    newest = body["versions"][0]
    assert newest["aliases"] == ["champion"]
    assert body["versions"][1]["aliases"] == ["challenger"]
    assert body["versions"][2]["aliases"] == []
    assert newest["deployed_by"] == []
    assert newest["run_id"] and newest["status"] == "READY"
    assert newest["registered_at"].endswith("Z")
    assert newest["tags"] == {"stage": "candidate"}


async def test_versions_are_paged(group, jp_fetch):
    _, first = await get(jp_fetch, group, "models", model_name(1), params={"max_results": 2})
    assert [v["version"] for v in first["versions"]] == ["3", "2"]
    _, second = await get(
        jp_fetch,
        group,
        "models",
        model_name(1),
        params={"max_results": 2, "page_token": first["next_page_token"]},
    )
    assert [v["version"] for v in second["versions"]] == ["1"]
    assert second["next_page_token"] is None


@pytest.mark.parametrize("name", SPECIAL_NAMES)
async def test_names_with_spaces_unicode_and_quotes(group, jp_fetch, name, seeded):
    status, body = await get(jp_fetch, group, "models", name)
    assert status == 200, body
    assert body["name"] == name
    assert [v["version"] for v in body["versions"]] == [str(seeded.versions[name])]


async def test_an_unknown_model_is_a_404_that_names_it_and_how_to_list_models(group, jp_fetch):
    for path in (("no-such-model",), ("no-such-model", "versions", "1")):
        status, body = await get(jp_fetch, group, "models", *path)
        assert (status, body["error"]["code"]) == (404, "not_found")
        assert body["error"]["message"] == "No model 'no-such-model' in group 'reg'."
        assert "List the group's models with %mlflow_group models" in body["error"]["hint"]


async def test_version_detail(group, jp_fetch, seeded):
    status, body = await get(jp_fetch, group, "models", model_name(0), "versions", "2")
    assert status == 200, body
    assert (body["name"], body["version"], body["status"]) == (model_name(0), "2", "READY")
    assert body["aliases"] == ["challenger"]
    assert body["deployed_by"] == []
    assert body["model_uri"] == "models:/model-0000/2"
    assert body["load_snippet"] == 'mlflow.pyfunc.load_model("models:/model-0000/2")'
    assert body["ui_url"] == "http://ui.example/#/models/model-0000/versions/2"
    assert body["registered_at"] and body["last_modified"]
    run = body["run"]
    assert run["run_id"] == seeded.runs[model_name(0)]
    assert (
        run["ui_url"]
        == f"http://ui.example/#/experiments/{seeded.experiment_id}/runs/{run['run_id']}"
    )
    assert run["params"] == {"alpha": "0.0", "max_depth": "3"}
    assert set(run["metrics"]) == {"accuracy", "rmse", "train/loss"}
    assert run["metrics"]["train/loss"]["step"] == seeded.history_steps - 1
    assert run["tags"] == {"team": "a"}
    assert run["system_tags"]["mlflow.source.name"] == "train.py"
    assert run["status"] == "FINISHED"
    assert [i["name"] for i in body["signature"]["inputs"]] == ["amount", "age"]
    assert body["signature"]["outputs"] == [{"type": "long", "required": True}]


async def test_a_version_by_alias(group, jp_fetch):
    status, body = await get(jp_fetch, group, "models", model_name(0), "versions", "@champion")
    assert (status, body["version"], body["aliases"]) == (200, "3", ["champion"])


async def test_a_version_without_signature_says_so(group, jp_fetch):
    _, body = await get(jp_fetch, group, "models", model_name(100), "versions", "1")
    assert body["signature"] is None


@pytest.mark.parametrize(
    ("version", "status", "message", "hint"),
    [
        (
            "latest",
            400,
            "'latest' is neither a version number nor an @alias",
            "Give a version number (like 3) or an alias (like @champion).",
        ),
        (
            "99",
            404,
            "Model 'model-0000' of group 'reg' has no version 99.",
            "List its versions and aliases with %mlflow_group versions model-0000,",
        ),
        (
            "@nobody",
            404,
            "Model 'model-0000' of group 'reg' has no alias '@nobody'.",
            "List its versions and aliases with %mlflow_group versions model-0000,",
        ),
    ],
)
async def test_bad_versions_say_which_and_what_to_do(
    group, jp_fetch, version, status, message, hint
):
    code, body = await get(jp_fetch, group, "models", model_name(0), "versions", version)
    assert code == status, body
    assert body["error"]["message"] == message
    assert body["error"]["hint"].startswith(hint)


async def test_metric_history_has_every_step_in_order(group, jp_fetch, seeded):
    run_id = seeded.history_run
    status, body = await fetch_json(jp_fetch, *API, group, "runs", run_id, "metrics", "train/loss")
    assert status == 200
    steps = [point["step"] for point in body["history"]]
    assert steps == list(range(seeded.history_steps))
    assert body["history"][10]["value"] == pytest.approx(1 / 11)
    assert body["key"] == "train/loss"


async def test_the_history_of_an_unknown_run_or_metric_is_a_404_naming_it(group, jp_fetch, seeded):
    status, body = await get(jp_fetch, group, "runs", "0" * 32, "metrics", "loss")
    assert (status, body["error"]["code"]) == (404, "not_found")
    assert body["error"]["message"] == (
        f"No run '{'0' * 32}' in group 'reg': it may have been deleted."
    )
    assert body["error"]["hint"]
    status, body = await get(jp_fetch, group, "runs", seeded.history_run, "metrics", "no-metric")
    assert (status, body["error"]["code"]) == (404, "not_found")
    assert (
        f"Run '{seeded.history_run}' of group 'reg' has no metric 'no-metric'."
        == (body["error"]["message"])
    )


async def test_a_run_as_it_is_now(group, jp_fetch, seeded):
    status, body = await get(jp_fetch, group, "runs", seeded.history_run)
    assert status == 200
    assert (body["group"], body["run_id"], body["status"]) == (
        "reg",
        seeded.history_run,
        "FINISHED",
    )
    latest = body["metrics"]["train/loss"]  # the last step's value, where a chart would end
    assert latest["step"] == seeded.history_steps - 1
    assert latest["value"] == pytest.approx(1 / seeded.history_steps)
    status, body = await get(jp_fetch, group, "runs", "0" * 32)
    assert (status, body["error"]["code"]) == (404, "not_found")
    assert body["error"]["message"] == (
        f"No run '{'0' * 32}' in group 'reg': it may have been deleted."
    )


async def test_reads_are_cached_until_refresh(mlflow_servers, bindings, jp_fetch):
    # On the auth server: the plain server's registry stays exactly as seeded for other tests.
    auth = mlflow_servers.auth
    bindings.write(
        {
            "groups": {
                "cached": {
                    "tracking_uri": auth.url,
                    "tracking_env": {
                        "MLFLOW_TRACKING_USERNAME": ADMIN_USER,
                        "MLFLOW_TRACKING_PASSWORD": ADMIN_PASSWORD,
                    },
                }
            }
        }
    )
    params = {"filter": "name LIKE 'cache-probe%'"}
    _, before = await get(jp_fetch, "cached", "models", params=params)
    auth.request("POST", "/api/2.0/mlflow/registered-models/create", {"name": "cache-probe-1"})
    _, cached = await get(jp_fetch, "cached", "models", params=params)
    assert cached == before  # served from the cache: MLflow was not asked again
    _, fresh = await get(jp_fetch, "cached", "models", params={**params, "refresh": 1})
    assert [m["name"] for m in fresh["models"]] == ["cache-probe-1"]
    _, after = await get(jp_fetch, "cached", "models", params=params)
    assert after == fresh  # the refresh replaced the cached entry


async def test_one_screen_s_calls_run_concurrently(seeded, mlflow_servers, bindings, jp_fetch):
    proxy = CountingProxy(int(mlflow_servers.plain.url.rsplit(":", 1)[1]))
    try:
        bindings.write({"groups": {"proxied": {"tracking_uri": proxy.url}}})
        proxy.reset()
        status, _ = await get(jp_fetch, "proxied", "models", model_name(2), params={"refresh": 1})
        assert status == 200
        assert proxy.total == 2 and proxy.most_open == 2  # model + versions, side by side
        proxy.reset()
        status, _ = await get(jp_fetch, "proxied", "models", model_name(2), "versions", "1")
        assert status == 200
        # the model screen said which run version 1 has: version, run and MLmodel at once
        assert proxy.total == 3 and proxy.most_open == 3
        proxy.reset()
        status, _ = await get(jp_fetch, "proxied", "models", model_name(3), "versions", "@champion")
        assert status == 200
        assert proxy.total == 3 and proxy.most_open == 2  # an alias: (version) then the rest
    finally:
        proxy.close()


async def test_a_run_seen_before_is_checked_against_the_version(
    seeded, mlflow_servers, bindings, jp_fetch, jp_serverapp
):
    proxy = CountingProxy(int(mlflow_servers.plain.url.rsplit(":", 1)[1]))
    try:
        bindings.write({"groups": {"proxied": {"tracking_uri": proxy.url}}})
        model = model_name(4)
        await get(jp_fetch, "proxied", "models", model)  # the model screen: its runs are known
        service = service_of(jp_serverapp)
        connection = service.connection("proxied")
        service.registry.source_runs.saw(connection, model, [{"version": "1", "run_id": "0" * 32}])
        proxy.reset()
        status, body = await get(jp_fetch, "proxied", "models", model, "versions", "1")
        assert status == 200
        truth = MlflowClient(mlflow_servers.plain.url).get_model_version(model, "1").run_id
        assert body["run"]["run_id"] == truth  # the stale guess was asked for, and set aside
        assert proxy.total == 4
        assert service.registry.source_runs.of(connection, model, "1") == truth
    finally:
        proxy.close()


async def test_unreachable_and_unconfigured_groups(closed_url, bindings, jp_fetch):
    bindings.write(
        {
            "groups": {
                "down": {"tracking_uri": closed_url},
                "broken": {"tracking_uri": "ftp://nowhere"},
                "local": {"tracking_uri": "sqlite:///mlflow.db"},
            }
        }
    )
    status, body = await get(jp_fetch, "down", "models")
    assert (status, body["error"]["code"]) == (502, "unreachable")
    assert "is not reachable: connection refused" in body["error"]["message"]
    assert body["error"]["hint"]
    status, body = await get(jp_fetch, "broken", "models")
    assert (status, body["error"]["code"]) == (503, "not_configured")
    assert "MLflow is not configured for group 'broken'" in body["error"]["message"]
    status, body = await get(jp_fetch, "local", "models")
    assert (status, body["error"]["code"]) == (503, "not_configured")
    assert "browsing needs an http(s) server" in body["error"]["message"]


async def test_credentials_refused_and_permission_denied_on_a_real_auth_server(
    mlflow_servers, bindings, jp_fetch
):
    auth = mlflow_servers.auth
    auth.request("POST", "/api/2.0/mlflow/registered-models/create", {"name": "admins-only"})
    bindings.write(
        {
            "groups": {
                "wrong": {
                    "tracking_uri": auth.url,
                    "tracking_env": {
                        "MLFLOW_TRACKING_USERNAME": ADMIN_USER,
                        "MLFLOW_TRACKING_PASSWORD": "wrong-one",
                    },
                },
                "reader": {
                    "tracking_uri": auth.url,
                    "tracking_env": {
                        "MLFLOW_TRACKING_USERNAME": READER_USER,
                        "MLFLOW_TRACKING_PASSWORD": READER_PASSWORD,
                    },
                },
                "admin": {
                    "tracking_uri": auth.url,
                    "tracking_env": {
                        "MLFLOW_TRACKING_USERNAME": ADMIN_USER,
                        "MLFLOW_TRACKING_PASSWORD": ADMIN_PASSWORD,
                    },
                },
            }
        }
    )
    status, body = await get(jp_fetch, "wrong", "models")
    assert (status, body["error"]["code"]) == (502, "unauthorized")
    status, body = await get(jp_fetch, "reader", "models", "admins-only")
    assert (status, body["error"]["code"]) == (502, "forbidden")
    status, body = await get(jp_fetch, "reader", "models")
    assert status == 200 and "admins-only" not in [m["name"] for m in body["models"]]
    status, body = await get(jp_fetch, "admin", "models", "admins-only")
    assert status == 200 and body["name"] == "admins-only"
    assert ADMIN_PASSWORD not in json.dumps(body)
