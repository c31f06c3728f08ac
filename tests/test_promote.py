"""Promoting through the server, on a real basic-auth MLflow: aliases moved by the group's
policy, a member's request for a protected alias approved or rejected by an admin on the
admin's own Jupyter server, edits of tags and descriptions, and MLflow's refusals.

Two real Jupyter servers share one bindings file, as two members of a team on a JupyterHub:
alice's (a member) and boss's (the group's admin). Kernels get the reader's credentials; the
servers write with the writer's (`registry.write_env`), so a kernel cannot step around the
review.
"""

from __future__ import annotations

import json
import uuid

import pytest
from support.jupyter import JupyterServerProcess
from support.servers import ADMIN_PASSWORD, ADMIN_USER, READER_PASSWORD, READER_USER

GROUP_API = "/mlflow-groups/api/groups/team"


def binding(auth_url: str, **registry: object) -> dict:
    return {
        "tracking_uri": auth_url,
        "tracking_env": {
            "MLFLOW_TRACKING_USERNAME": READER_USER,
            "MLFLOW_TRACKING_PASSWORD": READER_PASSWORD,
        },
        "members": ["alice"],
        "admins": ["boss"],
        "registry": registry,
    }


@pytest.fixture
def model(mlflow_servers) -> str:
    """A model of three versions on the auth server, made by its admin (the reader may read
    it: the reader's permission is granted, as an admin would for a team)."""
    auth = mlflow_servers.auth
    name = f"promo-{uuid.uuid4().hex[:8]}"
    auth.request("POST", "/api/2.0/mlflow/registered-models/create", {"name": name})
    for _ in range(3):
        auth.request(
            "POST",
            "/api/2.0/mlflow/model-versions/create",
            {"name": name, "source": f"s3://bucket/models/{name}"},
        )
    auth.request(
        "POST",
        "/api/3.0/mlflow/users/permissions/grant",
        {
            "username": READER_USER,
            "resource_type": "registered_model",
            "resource_id": name,
            "permission": "READ",
        },
    )
    auth.request(
        "POST",
        "/api/2.0/mlflow/registered-models/alias",
        {"name": name, "alias": "champion", "version": "1"},
    )
    return name


def aliases_in_mlflow(mlflow_servers, model: str) -> dict[str, str]:
    """What MLflow itself says (as its admin), not what our server says."""
    found = mlflow_servers.auth.request(
        "GET", f"/api/2.0/mlflow/registered-models/get?name={model}"
    )["registered_model"]
    return {a["alias"]: a["version"] for a in found.get("aliases", [])}


DEFAULT_REGISTRY = {
    "protected_aliases": ["champion"],
    "write_env": {
        "MLFLOW_TRACKING_USERNAME": ADMIN_USER,
        "MLFLOW_TRACKING_PASSWORD": "${env:TEST_WRITER_PASSWORD}",
    },
}


@pytest.fixture(scope="module")
def servers(mlflow_servers, tmp_path_factory):
    """alice's and boss's servers on one bindings file, for the whole module."""
    root = tmp_path_factory.mktemp("team")
    bindings = root / "bindings.json"
    started: list[JupyterServerProcess] = []

    def write(**registry: object) -> None:
        bindings.write_text(
            json.dumps({"groups": {"team": binding(mlflow_servers.auth.url, **registry)}})
        )

    write(**DEFAULT_REGISTRY)
    try:
        for user in ("alice", "boss"):
            server = JupyterServerProcess(
                root / user,
                env={
                    "JUPYTER_MLFLOW_GROUPS_FILE": str(bindings),
                    "TEST_WRITER_PASSWORD": ADMIN_PASSWORD,
                },
                args=[f"--MlflowGroupsApp.user={user}"],
            )
            started.append(server)
            server.start()
        yield write, *started
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def team(servers):
    """(write the group's registry policy, alice's server, boss's), the policy the default."""
    write = servers[0]
    write(**DEFAULT_REGISTRY)
    yield servers
    write(**DEFAULT_REGISTRY)


async def test_a_member_moves_an_unprotected_alias_and_the_change_is_recorded(
    team, model, mlflow_servers
):
    _, alice, _ = team
    status, body = alice.answer(
        "PUT", f"{GROUP_API}/models/{model}/aliases/staging", {"version": "2", "reason": "try it"}
    )
    assert status == 200, body
    assert body["applied"] is True
    record = body["record"]
    assert (record["action"], record["alias"], record["version"], record["previous"]) == (
        "set", "staging", "2", None,
    )  # fmt: skip
    assert (record["status"], record["requested_by"], record["decided_by"]) == (
        "applied", "alice", "alice",
    )  # fmt: skip
    assert record["reason"] == "try it"
    assert aliases_in_mlflow(mlflow_servers, model) == {"champion": "1", "staging": "2"}
    # our own reads show it at once (the group's cache was dropped)
    assert alice.request("GET", f"{GROUP_API}/models/{model}")["aliases"]["staging"] == "2"

    status, body = alice.answer("DELETE", f"{GROUP_API}/models/{model}/aliases/staging")
    assert status == 200 and body["record"]["previous"] == "2", body
    assert aliases_in_mlflow(mlflow_servers, model) == {"champion": "1"}


async def test_a_protected_alias_waits_for_an_admin_on_the_admin_s_own_server(
    team, model, mlflow_servers
):
    _, alice, boss = team
    path = f"{GROUP_API}/models/{model}/aliases/champion"
    status, body = alice.answer("PUT", path, {"version": "3", "reason": "better recall"})
    assert status == 202, body
    request = body["request"]
    assert (request["status"], request["version"], request["previous"]) == ("pending", "3", "1")
    assert (request["requested_by"], request["reason"]) == ("alice", "better recall")
    assert aliases_in_mlflow(mlflow_servers, model)["champion"] == "1"  # not moved yet

    pending = boss.request("GET", f"{GROUP_API}/requests")["requests"]
    assert [r["id"] for r in pending] == [request["id"]]  # boss's server sees alice's request
    status, body = alice.answer("POST", f"{GROUP_API}/requests/{request['id']}/approve")
    assert status == 403 and "Only an admin of group 'team'" in body["error"]["message"]

    status, decided = boss.answer(
        "POST", f"{GROUP_API}/requests/{request['id']}/approve", {"comment": "go"}
    )
    assert status == 200, decided
    assert (decided["status"], decided["decided_by"], decided["comment"]) == (
        "approved", "boss", "go",
    )  # fmt: skip
    assert aliases_in_mlflow(mlflow_servers, model)["champion"] == "3"
    assert boss.request("GET", f"{GROUP_API}/requests")["requests"] == []
    everything = alice.request("GET", f"{GROUP_API}/requests?all=1")["requests"]
    assert [(r["id"], r["status"]) for r in everything][:1] == [(request["id"], "approved")]

    status, body = boss.answer("POST", f"{GROUP_API}/requests/{request['id']}/reject")
    assert status == 409 and "was approved by boss" in body["error"]["message"]


async def test_a_rejected_request_changes_nothing_and_an_admin_moves_at_once(
    team, model, mlflow_servers
):
    _, alice, boss = team
    path = f"{GROUP_API}/models/{model}/aliases/champion"
    _, body = alice.answer("DELETE", path, {"reason": "retire it"})
    request = body["request"]
    assert (request["action"], request["status"]) == ("remove", "pending")
    status, decided = boss.answer("POST", f"{GROUP_API}/requests/{request['id']}/reject")
    assert status == 200 and decided["status"] == "rejected"
    assert aliases_in_mlflow(mlflow_servers, model)["champion"] == "1"

    status, body = boss.answer("PUT", path, {"version": "2"})  # an admin needs no review
    assert status == 200 and body["record"]["status"] == "applied", body
    assert aliases_in_mlflow(mlflow_servers, model)["champion"] == "2"


async def test_an_approval_that_can_no_longer_be_made_is_recorded_as_failed(
    team, model, mlflow_servers
):
    _, alice, boss = team
    _, body = alice.answer("PUT", f"{GROUP_API}/models/{model}/aliases/champion", {"version": "3"})
    mlflow_servers.auth.request(
        "DELETE", "/api/2.0/mlflow/model-versions/delete", {"name": model, "version": "3"}
    )
    status, answer = boss.answer("POST", f"{GROUP_API}/requests/{body['request']['id']}/approve")
    assert status == 409 and "could not be made" in answer["error"]["message"], answer
    record = alice.request("GET", f"{GROUP_API}/requests?all=1")["requests"][0]
    assert record["status"] == "failed" and record["message"]
    assert aliases_in_mlflow(mlflow_servers, model)["champion"] == "1"


async def test_descriptions_and_tags_are_edited_for_models_and_versions(
    team, model, mlflow_servers
):
    _, alice, _ = team
    status, body = alice.answer(
        "PATCH",
        f"{GROUP_API}/models/{model}",
        {"description": "Scores card payments", "tags": {"team": "fraud"}},
    )
    assert status == 200, body
    assert (body["description"], body["tags"]) == ("Scores card payments", {"team": "fraud"})
    status, body = alice.answer(
        "PATCH", f"{GROUP_API}/models/{model}/versions/2", {"tags": {"validated": "yes"}}
    )
    assert status == 200 and body["tags"] == {"validated": "yes"}, body
    status, body = alice.answer(
        "PATCH", f"{GROUP_API}/models/{model}/versions/2", {"tags": {"validated": None}}
    )
    assert status == 200 and body["tags"] == {}, body
    status, body = alice.answer("PATCH", f"{GROUP_API}/models/{model}/versions/2", {})
    assert status == 400 and "Nothing to change" in body["error"]["message"]


@pytest.mark.parametrize(
    ("registry", "user", "status", "fragment"),
    [
        ({"write": "admins"}, "alice", 403, "lets only its admins change its registry"),
        ({"write": "nobody"}, "boss", 403, "lets nobody change its registry"),
        # no write credentials: the server writes as the kernels' reader, and MLflow says no
        ({}, "alice", 403, "denied access (403)"),
    ],
)
async def test_who_may_write_is_the_group_s_policy_and_mlflow_s(
    team, model, mlflow_servers, registry, user, status, fragment
):
    write, alice, boss = team
    write(**registry)
    server = alice if user == "alice" else boss
    answered, body = server.answer(
        "PUT", f"{GROUP_API}/models/{model}/aliases/staging", {"version": "2"}
    )
    assert answered == status and fragment in body["error"]["message"], body
    assert body["error"]["hint"]
    assert "staging" not in aliases_in_mlflow(mlflow_servers, model)


@pytest.mark.parametrize(
    ("alias", "body", "fragment"),
    [
        ("latest", {"version": "2"}, "'latest' is not an alias name."),
        ("staging", {"version": "two"}, "'two' is not a version number."),
        ("staging", {"reason": "no version"}, "Say which version the alias points at."),
        ("staging", {"version": "2", "reason": "x" * 1001}, "at most 1000 characters"),
        ("staging", {"version": "2", "stage": "Production"}, "Unknown field(s) 'stage'"),
        ("staging", {"version": "9"}, "has no version 9."),
    ],
)
async def test_bad_alias_changes_say_what_is_wrong(team, model, alias, body, fragment):
    _, alice, _ = team
    status, answer = alice.answer("PUT", f"{GROUP_API}/models/{model}/aliases/{alias}", body)
    assert status in (400, 404) and fragment in answer["error"]["message"], answer


async def test_kernels_hold_the_reader_s_credentials_never_the_writer_s(team):
    _, alice, _ = team
    kernel = alice.start_kernel()
    printed = await alice.execute(kernel, "import json, os; print(json.dumps(dict(os.environ)))")
    environment = json.loads(printed)
    assert environment["MLFLOW_TRACKING_USERNAME"] == READER_USER
    assert ADMIN_PASSWORD not in printed and "TEST_WRITER_PASSWORD" not in environment
    assert ADMIN_PASSWORD not in alice.log()


async def test_the_magics_promote_list_requests_and_approve(team, model, mlflow_servers):
    _, alice, boss = team
    member, admin = alice.start_kernel(), boss.start_kernel()
    said = await alice.execute(member, f"%mlflow_group promote {model} 2 @staging --reason tried")
    assert said.strip() == f"Point @staging of '{model}' at v2: done."
    said = await alice.execute(
        member, f'%mlflow_group promote {model} 3 @champion --reason "better recall"'
    )
    assert f"Point @champion of '{model}' at v3 (was v1): @champion is protected" in said
    listed = await boss.execute(
        admin,
        "df = %mlflow_group requests\n"
        "columns = ['model', 'alias', 'version', 'requested_by', 'reason']\n"
        "print(df[columns].to_json(orient='records'))",
    )
    (request,) = json.loads(listed)
    assert request == {
        "model": model, "alias": "champion", "version": "3", "requested_by": "alice",
        "reason": "better recall",
    }  # fmt: skip
    request_id = json.loads(await boss.execute(admin, "print(df['id'].to_json(orient='values'))"))[
        0
    ]
    said = await alice.execute(member, f"%mlflow_group approve {request_id}")
    assert "Only an admin of group 'team' may approve or reject requests." in said
    said = await boss.execute(admin, f"%mlflow_group approve {request_id} --comment ok")
    assert said.strip() == (
        f"Approved request {request_id} of alice: Point @champion of '{model}' at v3 (was v1)."
    )
    assert aliases_in_mlflow(mlflow_servers, model) == {"champion": "3", "staging": "2"}
