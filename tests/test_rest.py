"""The REST API: shapes, masking, refusals, malformed requests, authentication."""

from __future__ import annotations

import json
import re

import pytest
from support.rest import fetch_json
from tornado.httpclient import HTTPClientError

API = ("mlflow-groups", "api")
PASSWORD = "rest-secret-password-5c1d"
AWS_SECRET = "rest-secret-aws-c0ffee"


@pytest.fixture
def groups_file(bindings):
    bindings.write(
        {
            "default_group": "team-a",
            "groups": {
                "team-a": {
                    "tracking_uri": "https://svc:uri-pass-4411@mlflow.team-a.invalid",
                    "ui_url": "https://ui.team-a.invalid",
                    "tracking_env": {
                        "MLFLOW_TRACKING_USERNAME": "svc-team-a",
                        "MLFLOW_TRACKING_PASSWORD": PASSWORD,
                    },
                    "artifact_env": {
                        "AWS_ACCESS_KEY_ID": "AKIDREST",
                        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
                        "MLFLOW_S3_ENDPOINT_URL": "https://s3.team-a.invalid",
                    },
                    "members": ["alice"],
                    "admins": ["alice"],
                },
                "broken": {"tracking_uri": "ftp://x", "members": ["alice"]},
                "others": {"tracking_uri": "http://others.invalid", "members": ["bob"]},
            },
        }
    )


async def test_groups_lists_the_user_s_groups_with_secrets_masked(groups_file, jp_fetch):
    status, body = await fetch_json(jp_fetch, *API, "groups")
    assert status == 200
    assert body["user"] == "alice"
    assert body["active"] == body["default"] == "team-a"
    assert [group["name"] for group in body["groups"]] == ["team-a", "broken"]
    team_a = body["groups"][0]
    assert team_a["active"] is True and team_a["admin"] is True and team_a["valid"] is True
    assert team_a["tracking_uri"] == "https://svc:***@mlflow.team-a.invalid"
    assert team_a["ui_url"] == "https://ui.team-a.invalid"
    assert team_a["auth"] == "basic"
    assert team_a["tracking_env"]["MLFLOW_TRACKING_PASSWORD"] == {"set": True, "secret": True}
    assert team_a["artifact_env"]["AWS_SECRET_ACCESS_KEY"] == {"set": True, "secret": True}
    assert team_a["artifact_env"]["AWS_ACCESS_KEY_ID"] == {"set": True, "secret": True}
    text = json.dumps(body)
    for secret in (PASSWORD, AWS_SECRET, "uri-pass-4411", "AKIDREST"):
        assert secret not in text


async def test_groups_show_the_registry_policy_but_never_the_writer_s_credentials(
    bindings, jp_fetch
):
    """The sidebar offers or disables its alias and edit controls by this policy."""
    writer_password = "rest-writer-password-7e21"
    bindings.write(
        {
            "groups": {
                "team-a": {
                    "tracking_uri": "http://mlflow.team-a.invalid",
                    "members": ["alice"],
                    "admins": ["carol"],
                    "registry": {
                        "write": "admins",
                        "protected_aliases": ["champion"],
                        "write_env": {
                            "MLFLOW_TRACKING_USERNAME": "writer-7e21",
                            "MLFLOW_TRACKING_PASSWORD": writer_password,
                        },
                    },
                },
                "team-b": {"tracking_uri": "http://mlflow.team-b.invalid"},
            }
        }
    )
    _, body = await fetch_json(jp_fetch, *API, "groups")
    team_a, team_b = body["groups"]
    assert team_a["admin"] is False
    assert team_a["registry"] == {"write": "admins", "protected_aliases": ["champion"]}
    assert team_b["registry"] == {"write": "members", "protected_aliases": []}
    text = json.dumps(body)
    assert writer_password not in text and "writer-7e21" not in text
    assert "write_env" not in text


async def test_a_bad_group_is_listed_with_its_problems(groups_file, jp_fetch):
    _, body = await fetch_json(jp_fetch, *API, "groups")
    broken = body["groups"][1]
    assert broken["valid"] is False
    assert broken["problems"][0]["field"] == "tracking_uri"
    assert "unsupported scheme 'ftp'" in broken["problems"][0]["message"]


async def test_a_broken_bindings_file_is_reported_to_the_user(bindings, jp_fetch):
    bindings.write("groups: [unclosed")
    status, body = await fetch_json(jp_fetch, *API, "groups")
    assert status == 200
    assert body["groups"] == []
    assert "is not valid YAML" in body["errors"][0]


async def test_switching_the_active_group(groups_file, jp_fetch):
    status, body = await fetch_json(
        jp_fetch, *API, "active", method="PUT", body={"group": "broken"}
    )
    assert status == 200
    assert body["active"] == "broken"
    assert body["group"]["valid"] is False
    _, listing = await fetch_json(jp_fetch, *API, "groups")
    assert listing["active"] == "broken"


async def test_switching_to_a_group_the_user_is_not_in_is_403(groups_file, jp_fetch):
    status, body = await fetch_json(
        jp_fetch, *API, "active", method="PUT", body={"group": "others"}
    )
    assert status == 403
    assert body["error"]["code"] == "forbidden"
    assert "You (alice) are not a member of the group 'others'" in body["error"]["message"]
    _, listing = await fetch_json(jp_fetch, *API, "groups")
    assert listing["active"] == "team-a"


async def test_switching_to_an_unknown_group_is_404(groups_file, jp_fetch):
    status, body = await fetch_json(jp_fetch, *API, "active", method="PUT", body={"group": "ghost"})
    assert (status, body["error"]["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        ('["team-a"]', "must be a JSON object"),
        ("{}", "Name the group to switch to."),
        ('{"group": 3}', "Name the group to switch to."),
        ('{"group": ""}', "Name the group to switch to."),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
async def test_malformed_requests_are_400_with_a_reason(groups_file, jp_fetch, payload, fragment):
    status, body = await fetch_json(jp_fetch, *API, "active", method="PUT", body=payload)
    assert status == 400
    assert body["error"]["code"] == "bad_request"
    assert fragment in body["error"]["message"]


async def test_unknown_resources_and_methods_answer_in_the_error_shape(groups_file, jp_fetch):
    status, body = await fetch_json(jp_fetch, *API, "nothing", "here")
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = await fetch_json(jp_fetch, *API, "groups", method="POST", body={})
    assert status == 405
    assert body["error"]["code"] == "method_not_allowed"
    assert "traceback" not in json.dumps(body)


async def test_status_of_an_unknown_or_foreign_group(groups_file, jp_fetch):
    status, body = await fetch_json(jp_fetch, *API, "groups", "ghost", "status")
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = await fetch_json(jp_fetch, *API, "groups", "others", "status")
    assert (status, body["error"]["code"]) == (403, "forbidden")


async def test_deployment_errors_say_which_and_what_to_do(groups_file, jp_fetch):
    status, body = await fetch_json(jp_fetch, *API, "groups", "broken", "deployments")
    assert (status, body["error"]["code"]) == (503, "not_configured")
    assert "group 'broken'" in body["error"]["message"]
    assert body["error"]["hint"] == "Ask your group admin to bind this group to an MLflow server."
    for action in ("stop", "start"):
        path = ("groups", "team-a", "deployments", "ghost", action)
        status, body = await fetch_json(jp_fetch, *API, *path, method="POST")
        assert (status, body["error"]["code"]) == (404, "not_found")
        assert body["error"]["message"] == "Group 'team-a' has no deployment named 'ghost'."
        assert "%mlflow_group deployments" in body["error"]["hint"]
        path = ("groups", "others", "deployments", "ghost", action)
        status, body = await fetch_json(jp_fetch, *API, *path, method="POST")
        assert (status, body["error"]["code"]) == (403, "forbidden")  # members only
    status, body = await fetch_json(
        jp_fetch, *API, "groups", "team-a", "deployments", method="POST", body={"name": "x"}
    )
    assert (status, body["error"]["message"]) == (400, "Name the registered model to deploy.")
    assert "{" not in body["error"]["message"]  # no request shape shown


def sample_requests():
    """One request per method of every registered route, with path arguments filled in."""
    from jupyter_mlflow_groups.handlers import routes

    for pattern, handler in routes():
        path = re.sub(
            r"\(\?P<(\w+)>[^)]*\)", lambda m: {"group": "team-a"}.get(m.group(1), "x"), pattern
        )
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            if method.lower() in handler.__dict__:
                yield method, path


async def test_every_route_refuses_requests_without_credentials(
    groups_file, jp_serverapp, http_server_client, jp_base_url
):
    tried = 0
    for method, path in sample_requests():
        url = f"{jp_base_url.rstrip('/')}{path}"
        body = '{"group": "team-a"}' if method in ("POST", "PUT", "PATCH") else None
        with pytest.raises(HTTPClientError) as refused:
            await http_server_client.fetch(url, method=method, body=body)
        assert refused.value.code == 403, (method, path)
        payload = refused.value.response.body.decode()
        assert PASSWORD not in payload and "team-a.invalid" not in payload
        tried += 1
    assert tried >= 7


#: Every endpoint that takes a body, with a valid body for it.
BODY_ENDPOINTS = [
    (("active",), "PUT", {"group": "team-a"}),
    (("groups", "team-a", "deployments"), "POST", {"name": "d", "model": "m", "version": "1"}),
    (("groups", "team-a", "deployments", "d", "stop"), "POST", {}),  # no body, or an empty one
    (("groups", "team-a", "deployments", "d", "start"), "POST", {}),
    (("groups", "team-a", "models", "m", "aliases", "champion"), "PUT", {"version": "1"}),
    (("groups", "team-a", "models", "m"), "PATCH", {"description": "d"}),
    (("groups", "team-a", "models", "m", "versions", "1"), "PATCH", {"tags": {"k": "v"}}),
    (("groups", "team-a", "requests", "r1", "approve"), "POST", {}),
    (("groups", "team-a", "requests", "r1", "reject"), "POST", {}),
]


@pytest.mark.parametrize(("path", "method", "valid"), BODY_ENDPOINTS)
@pytest.mark.parametrize("smuggled", ["tracking_uri", "path", "artifact_uri"])
async def test_unknown_body_fields_are_refused_by_name(
    groups_file, jp_fetch, path, method, valid, smuggled
):
    """Nobody can slip a tracking URI or a file path into a request the API never asked for."""
    body = {**valid, smuggled: "file:///etc", "zzz": 1}
    status, answer = await fetch_json(jp_fetch, *API, *path, method=method, body=body)
    assert (status, answer["error"]["code"]) == (400, "bad_request")
    assert f"'{smuggled}'" in answer["error"]["message"]
    assert "'zzz'" in answer["error"]["message"]
    status, _ = await fetch_json(jp_fetch, *API, "groups")
    assert status == 200  # nothing was switched or deployed: the server carries on


def test_every_body_taking_route_is_covered():
    """A new endpoint with a body must join BODY_ENDPOINTS above."""
    from jupyter_mlflow_groups.handlers import (
        ActiveGroupHandler,
        AliasHandler,
        DeploymentsHandler,
        DeploymentStartHandler,
        DeploymentStopHandler,
        ModelHandler,
        NotFoundHandler,
        RequestApproveHandler,
        RequestRejectHandler,
        VersionHandler,
        routes,
    )

    taking = {
        (handler, method)
        for _, handler in routes()
        for method in ("post", "put", "patch")
        if handler is not NotFoundHandler and method in handler.__dict__
    }
    assert taking == {
        (ActiveGroupHandler, "put"),
        (DeploymentsHandler, "post"),
        (DeploymentStopHandler, "post"),
        (DeploymentStartHandler, "post"),
        (AliasHandler, "put"),
        (ModelHandler, "patch"),
        (VersionHandler, "patch"),
        (RequestApproveHandler, "post"),
        (RequestRejectHandler, "post"),
    }


@pytest.mark.parametrize(
    "value", ["0", "-1", "1001", "99999999999999999999", "9" * 5000, "ten", "1.5", "", "١٢"]
)
@pytest.mark.parametrize("path", [("models",), ("models", "some-model")])
async def test_page_sizes_that_are_not_1_to_1000_are_400(groups_file, jp_fetch, path, value):
    status, body = await fetch_json(
        jp_fetch, *API, "groups", "team-a", *path, params={"max_results": value}
    )
    assert (status, body["error"]["code"]) == (400, "bad_request")
    message = body["error"]["message"]
    assert "'max_results' must be a whole number" in message or (
        "max_results must be between 1 and 1000" in message
    )
