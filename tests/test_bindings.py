"""Parsing and validating one group's binding; its kernel environment; its masked summary."""

from __future__ import annotations

import json

import pytest

from jupyter_mlflow_groups.bindings import (
    UnusableBinding,
    env_for,
    parse_binding,
    secret_values,
    summarize,
    writer_env,
)

BASIC = {"MLFLOW_TRACKING_USERNAME": "svc", "MLFLOW_TRACKING_PASSWORD": "pw"}


def problems(binding) -> dict[str, str]:
    return {problem.field: problem.message for problem in binding.problems}


def test_full_external_binding_gives_every_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("TEAM_A_PASSWORD", "pa=ss word 'quoted' ünïcode")
    key_file = tmp_path / "aws-secret"
    key_file.write_text("s3cr3t=with=equals\n")
    binding = parse_binding(
        "team-a",
        {
            "mode": "external",
            "tracking_uri": "https://mlflow.team-a.example.org",
            "ui_url": "https://ui.team-a.example.org",
            "registry_uri": "https://registry.team-a.example.org",
            "workspace": "team-a",
            "tracking_env": {
                "MLFLOW_TRACKING_USERNAME": "svc-team-a",
                "MLFLOW_TRACKING_PASSWORD": "${env:TEAM_A_PASSWORD}",
            },
            "artifact_env": {
                "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
                "AWS_SECRET_ACCESS_KEY": f"${{file:{key_file}}}",
                "MLFLOW_S3_ENDPOINT_URL": "https://s3.team-a.example.org",
            },
            "members": ["alice", "bob"],
        },
    )
    assert binding.valid, binding.problems
    assert env_for(binding) == {
        "JUPYTER_MLFLOW_GROUP": "team-a",
        "MLFLOW_TRACKING_URI": "https://mlflow.team-a.example.org",
        "MLFLOW_REGISTRY_URI": "https://registry.team-a.example.org",
        "MLFLOW_WORKSPACE": "team-a",
        "MLFLOW_TRACKING_USERNAME": "svc-team-a",
        "MLFLOW_TRACKING_PASSWORD": "pa=ss word 'quoted' ünïcode",
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "s3cr3t=with=equals",
        "MLFLOW_S3_ENDPOINT_URL": "https://s3.team-a.example.org",
    }


def test_literal_values_keep_equals_quotes_and_escaped_references():
    binding = parse_binding(
        "g",
        {
            "tracking_uri": "http://h:5000",
            "tracking_env": {"MLFLOW_TRACKING_TOKEN": 'a=b==c "q" $${env:NOT_A_REFERENCE}'},
        },
    )
    assert env_for(binding)["MLFLOW_TRACKING_TOKEN"] == 'a=b==c "q" ${env:NOT_A_REFERENCE}'


def test_a_rotated_secret_file_is_read_at_each_resolution(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("first")
    binding = parse_binding(
        "g",
        {
            "tracking_uri": "http://h",
            "tracking_env": {"MLFLOW_TRACKING_TOKEN": f"${{file:{secret}}}"},
        },
    )
    assert env_for(binding)["MLFLOW_TRACKING_TOKEN"] == "first"
    secret.write_text("second\n")
    assert env_for(binding)["MLFLOW_TRACKING_TOKEN"] == "second"


def test_a_reference_that_stops_resolving_makes_the_binding_unusable(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("t")
    binding = parse_binding(
        "g",
        {
            "tracking_uri": "http://h",
            "tracking_env": {"MLFLOW_TRACKING_TOKEN": f"${{file:{secret}}}"},
        },
    )
    secret.unlink()
    with pytest.raises(UnusableBinding, match="no such file"):
        env_for(binding)


@pytest.mark.parametrize(
    ("raw", "field", "fragment"),
    [
        ({}, "tracking_uri", "required for an external group"),
        ({"tracking_uri": ""}, "tracking_uri", "required for an external group"),
        ({"tracking_uri": "ftp://host/x"}, "tracking_uri", "unsupported scheme 'ftp'"),
        ({"tracking_uri": "mlflow.example.org"}, "tracking_uri", "has no scheme"),
        ({"tracking_uri": "http:///nohost"}, "tracking_uri", "has no host"),
        ({"tracking_uri": "file:relative/path"}, "tracking_uri", "file:///absolute/path"),
        ({"tracking_uri": "http://h", "ui_url": "sqlite:///x.db"}, "ui_url", "unsupported scheme"),
        ({"tracking_uri": "http://h", "registry_uri": "gopher://x"}, "registry_uri", "unsupported"),
        ({"mode": "embedded"}, "mode", "must be one of external, managed"),
        ({"mode": "managed", "tracking_uri": "http://h"}, "tracking_uri", "managed group gets"),
        (
            {"tracking_uri": "http://h", "tracking_url": "x"},
            "tracking_url",
            "did you mean 'tracking_uri'",
        ),
        (
            {"tracking_uri": "http://h", "workspace": "Team_A"},
            "workspace",
            "not an MLflow workspace",
        ),
        ({"tracking_uri": "http://h", "workspace": "api"}, "workspace", "not an MLflow workspace"),
        (
            {"tracking_uri": "http://h", "tracking_env": {"MLFLOW_TRACKING_USERNAME": "u"}},
            "tracking_env.MLFLOW_TRACKING_PASSWORD",
            "needs both",
        ),
        (
            {"tracking_uri": "http://h", "tracking_env": {"MLFLOW_TRACKING_PASSWORD": "p"}},
            "tracking_env.MLFLOW_TRACKING_USERNAME",
            "needs both",
        ),
        (
            {
                "tracking_uri": "https://h",
                "tracking_env": {
                    "MLFLOW_TRACKING_INSECURE_TLS": "true",
                    "MLFLOW_TRACKING_SERVER_CERT_PATH": "/etc/ca.pem",
                },
            },
            "tracking_env.MLFLOW_TRACKING_INSECURE_TLS",
            "cannot be true together",
        ),
        (
            {
                "tracking_uri": "https://h",
                "tracking_env": {"MLFLOW_TRACKING_INSECURE_TLS": "maybe"},
            },
            "tracking_env.MLFLOW_TRACKING_INSECURE_TLS",
            "not a boolean",
        ),
        (
            {"tracking_uri": "http://h", "artifact_env": {"1BAD": "x"}},
            "artifact_env.1BAD",
            "not a valid",
        ),
        (
            {"tracking_uri": "http://h", "artifact_env": {"A-B": "x"}},
            "artifact_env.A-B",
            "not a valid",
        ),
        (
            {"tracking_uri": "http://h", "tracking_env": {"MLFLOW_TRACKING_URI": "http://x"}},
            "tracking_env.MLFLOW_TRACKING_URI",
            "'tracking_uri' field instead",
        ),
        (
            {"tracking_uri": "http://h", "artifact_env": {"MLFLOW_RUN_ID": "abc"}},
            "artifact_env.MLFLOW_RUN_ID",
            "set by the extension itself",
        ),
        (
            {"tracking_uri": "http://h", "artifact_env": {"MLFLOW_TRACKING_TOKEN": "t"}},
            "artifact_env.MLFLOW_TRACKING_TOKEN",
            "belongs in tracking_env",
        ),
        (
            {"tracking_uri": "http://h", "artifact_env": {"X": ["a"]}},
            "artifact_env.X",
            "must be a string",
        ),
        (
            {"tracking_uri": "http://h", "artifact_env": {"X": None}},
            "artifact_env.X",
            "has no value",
        ),
        ({"tracking_uri": "http://h", "artifact_env": {"X": "a\x00b"}}, "artifact_env.X", "NUL"),
        (
            {"tracking_uri": "http://h", "artifact_env": ["X=1"]},
            "artifact_env",
            "must be a mapping",
        ),
        ({"tracking_uri": "http://h", "members": "alice"}, "members", "list of user names"),
        (
            {"tracking_uri": "http://h", "members": ["alice", 3]},
            "members[1]",
            "non-empty user name",
        ),
        ({"tracking_uri": "http://h", "root": "relative/dir"}, "root", "absolute path"),
        (
            {"tracking_uri": "http://h", "registry": {"write": "everyone"}},
            "registry.write",
            "must be one of members, admins, nobody",
        ),
        (
            {"tracking_uri": "http://h", "registry": {"protected_alias": ["champion"]}},
            "registry.protected_alias",
            "did you mean 'protected_aliases'",
        ),
        (
            {"tracking_uri": "http://h", "registry": {"protected_aliases": "champion"}},
            "registry.protected_aliases",
            "must be a list of names",
        ),
        (
            {"tracking_uri": "http://h", "registry": {"protected_aliases": ["champion", "v2"]}},
            "registry.protected_aliases[1]",
            "'v2' is not an alias name",
        ),
        (
            {"tracking_uri": "http://h", "registry": {"write_env": {"AWS_SECRET_ACCESS_KEY": "x"}}},
            "registry.write_env.AWS_SECRET_ACCESS_KEY",
            "only credentials go here",
        ),
        (
            {
                "tracking_uri": "http://h",
                "registry": {"write_env": {"MLFLOW_TRACKING_USERNAME": "w"}},
            },
            "registry.write_env.MLFLOW_TRACKING_PASSWORD",
            "needs both",
        ),
        ({"tracking_uri": "http://h", "registry": ["members"]}, "registry", "must be a mapping"),
        (
            {"tracking_uri": "http://h", "deploy": {"rooot": "/x"}},
            "deploy.rooot",
            "did you mean 'root'",
        ),
        ({"tracking_uri": "http://h", "deploy": "local"}, "deploy", "must be a mapping"),
        (
            {
                "tracking_uri": "http://h",
                "tracking_env": {"MLFLOW_TRACKING_TOKEN": "${env:SURELY_UNSET_VAR}"},
            },
            "tracking_env.MLFLOW_TRACKING_TOKEN",
            "no variable SURELY_UNSET_VAR",
        ),
        (
            {
                "tracking_uri": "http://h",
                "tracking_env": {"MLFLOW_TRACKING_TOKEN": "${file:/no/such/file}"},
            },
            "tracking_env.MLFLOW_TRACKING_TOKEN",
            "no such file",
        ),
        (
            {
                "tracking_uri": "http://h",
                "tracking_env": {"MLFLOW_TRACKING_TOKEN": "${file:relative}"},
            },
            "tracking_env.MLFLOW_TRACKING_TOKEN",
            "must be absolute",
        ),
        ("http://h", "*", "a mapping of fields"),
    ],
)
def test_validation_names_the_group_and_the_field(raw, field, fragment):
    binding = parse_binding("team-a", raw)
    assert not binding.valid
    found = problems(binding)
    assert field in found, found
    assert fragment in found[field]
    assert all(problem.group == "team-a" for problem in binding.problems)
    assert str(binding.problems[0]).startswith("group 'team-a', field ")
    with pytest.raises(UnusableBinding):
        env_for(binding)


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:5000",
        "https://mlflow.example.org/prefix",
        "file:///var/mlruns",
        "sqlite:///relative.db",
        "sqlite:////abs/mlflow.db",
        "postgresql://u@db/mlflow",
        "postgresql+psycopg2://u@db:5432/mlflow",
        "mysql+pymysql://u@db/mlflow",
        "mssql+pyodbc://u@db/mlflow",
        "databricks",
        "databricks://profile",
    ],
)
def test_known_tracking_uri_schemes_are_accepted(uri):
    binding = parse_binding("g", {"tracking_uri": uri})
    assert binding.valid, binding.problems


def test_every_problem_is_reported_not_just_the_first():
    binding = parse_binding(
        "g", {"mode": "bogus", "tracking_uri": "ftp://x", "artifact_env": {"bad name": "v"}}
    )
    assert set(problems(binding)) == {"mode", "tracking_uri", "artifact_env.bad name"}


def test_yaml_scalars_become_strings():
    binding = parse_binding(
        "g",
        {
            "tracking_uri": "https://h",
            "tracking_env": {
                "MLFLOW_TRACKING_INSECURE_TLS": True,
                "MLFLOW_HTTP_REQUEST_TIMEOUT": 30,
            },
        },
    )
    assert binding.valid, binding.problems
    assert env_for(binding)["MLFLOW_TRACKING_INSECURE_TLS"] == "true"
    assert env_for(binding)["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "30"


@pytest.mark.parametrize("name", ["", "../etc", "a/b", "-leading", "x" * 129, "with space"])
def test_group_names_that_could_escape_a_path_or_url_are_refused(name):
    binding = parse_binding(name, {"tracking_uri": "http://h"})
    assert "name" in problems(binding)


def test_managed_binding_needs_no_tracking_uri():
    binding = parse_binding("sandbox", {"mode": "managed"})
    assert binding.valid, binding.problems
    assert binding.mode == "managed"


def test_basic_wins_over_token_as_in_mlflow():
    both = parse_binding(
        "g",
        {
            "tracking_uri": "http://h",
            "tracking_env": {
                "MLFLOW_TRACKING_USERNAME": "u",
                "MLFLOW_TRACKING_PASSWORD": "p",
                "MLFLOW_TRACKING_TOKEN": "t",
            },
        },
    )
    token = parse_binding(
        "g", {"tracking_uri": "http://h", "tracking_env": {"MLFLOW_TRACKING_TOKEN": "t"}}
    )
    assert both.auth_scheme == "basic"
    assert token.auth_scheme == "bearer"
    assert parse_binding("g", {"tracking_uri": "http://h"}).auth_scheme == "none"


def test_summary_masks_secrets_and_uri_passwords(monkeypatch):
    monkeypatch.setenv("SUMMARY_SECRET", "token-value-xyz")
    binding = parse_binding(
        "g",
        {
            "tracking_uri": "https://svc:uri-password-xyz@mlflow.example.org",
            "tracking_env": {
                "MLFLOW_TRACKING_USERNAME": "svc",
                "MLFLOW_TRACKING_PASSWORD": "password-xyz",
                "MLFLOW_TRACKING_TOKEN": "${env:SUMMARY_SECRET}",
            },
            "artifact_env": {
                "AWS_ACCESS_KEY_ID": "key-id-xyz",
                "AWS_SECRET_ACCESS_KEY": "secret-key-xyz",
                "MLFLOW_S3_ENDPOINT_URL": "https://s3.example.org",
            },
        },
    )
    summary = summarize(binding)
    text = repr(summary)
    for secret in (
        "uri-password-xyz",
        "password-xyz",
        "token-value-xyz",
        "key-id-xyz",
        "secret-key-xyz",
    ):
        assert secret not in text
    assert summary["tracking_uri"] == "https://svc:***@mlflow.example.org"
    assert summary["tracking_env"]["MLFLOW_TRACKING_PASSWORD"] == {"set": True, "secret": True}
    assert summary["tracking_env"]["MLFLOW_TRACKING_USERNAME"]["value"] == "svc"
    assert summary["artifact_env"]["MLFLOW_S3_ENDPOINT_URL"]["value"] == "https://s3.example.org"
    assert summary["auth"] == "basic"


def test_a_ui_is_shown_through_jupyter_when_it_would_ask_for_credentials():
    plain = parse_binding("g", {"tracking_uri": "http://h:5000"})
    assert (plain.ui_mode, plain.direct_ui_url) == ("direct", "http://h:5000")
    basic = parse_binding("g", {"tracking_uri": "http://h", "tracking_env": BASIC})
    assert basic.ui_mode == "proxy"
    token = parse_binding(
        "g", {"tracking_uri": "http://h", "tracking_env": {"MLFLOW_TRACKING_TOKEN": "t"}}
    )
    assert token.ui_mode == "proxy"
    in_url = parse_binding("g", {"tracking_uri": "https://svc:pw@h"})
    assert (in_url.ui_mode, in_url.direct_ui_url) == ("proxy", None)  # no link with a secret
    chosen = parse_binding("g", {"tracking_uri": "http://h", "ui": "direct", "tracking_env": BASIC})
    assert chosen.ui_mode == "direct"
    store = parse_binding("g", {"tracking_uri": "sqlite:///x.db"})
    assert (store.ui_mode, store.direct_ui_url) == ("direct", None)
    assert parse_binding("g", {"mode": "managed"}).ui_mode == "proxy"


def test_a_tracking_uri_with_a_reference_is_never_linked_directly(monkeypatch):
    monkeypatch.setenv("TEAM_URL", "https://mlflow.example.org/?token=secret-in-url")
    binding = parse_binding("g", {"tracking_uri": "${env:TEAM_URL}"})
    assert binding.valid and binding.ui_mode == "proxy" and binding.direct_ui_url is None
    assert summarize(binding)["tracking_uri"] == "${env:TEAM_URL}"  # shown as written
    assert binding.referenced_variables() == {"TEAM_URL"}


@pytest.mark.parametrize(
    ("raw", "field", "fragment"),
    [
        ({"mode": "managed", "ui": "direct"}, "ui", "reachable only through Jupyter"),
        ({"tracking_uri": "sqlite:///x.db", "ui": "proxy"}, "ui", "only an http(s)"),
        ({"tracking_uri": "http://h", "ui": "iframe"}, "ui", "must be one of direct, proxy"),
        ({"tracking_uri": "http://h", "deploy": {"download_hosts": "h"}}, "deploy.download_hosts",
         "list of host names"),
        ({"tracking_uri": "http://h", "deploy": {"download_hosts": ["a b"]}},
         "deploy.download_hosts[0]", "host name"),
    ],
)  # fmt: skip
def test_ui_and_download_hosts_are_checked(raw, field, fragment):
    problems = parse_binding("g", raw).problems
    assert any(p.field == field and fragment in p.message for p in problems), problems


def test_download_hosts_are_kept_lowercase():
    binding = parse_binding(
        "g", {"tracking_uri": "http://h", "deploy": {"download_hosts": ["S3.Example.org:9000"]}}
    )
    assert binding.deploy.download_hosts == ("s3.example.org:9000",)


def test_a_problem_with_a_resolved_uri_never_echoes_the_secret(monkeypatch):
    monkeypatch.setenv("TEAM_URL", "ftp://mlflow.example.org/?token=secret-in-url")
    binding = parse_binding("g", {"tracking_uri": "${env:TEAM_URL}"})
    (problem,) = binding.problems
    assert problem.field == "tracking_uri" and "unsupported scheme" in problem.message
    assert "secret-in-url" not in str(problem) and "${env:TEAM_URL}" in problem.message


def test_the_registry_policy_defaults_to_members_writing_and_nothing_protected():
    policy = parse_binding("team", {"tracking_uri": "http://h"}).registry
    assert (policy.write, policy.protected_aliases, dict(policy.write_env)) == ("members", (), {})


def test_write_credentials_replace_the_kernels_own_and_are_never_a_kernel_s(monkeypatch):
    monkeypatch.setenv("TEST_WRITER_PASSWORD", "writer-pw-never-in-kernels")
    binding = parse_binding(
        "team",
        {
            "tracking_uri": "http://h",
            "tracking_env": {
                "MLFLOW_TRACKING_USERNAME": "reader",
                "MLFLOW_TRACKING_PASSWORD": "reader-pw",
                "MLFLOW_TRACKING_INSECURE_TLS": "true",
            },
            "registry": {
                "protected_aliases": ["champion"],
                "write_env": {
                    "MLFLOW_TRACKING_USERNAME": "writer",
                    "MLFLOW_TRACKING_PASSWORD": "${env:TEST_WRITER_PASSWORD}",
                },
            },
        },
    )
    assert binding.valid, binding.problems
    assert binding.registry.protects("champion") and not binding.registry.protects("staging")
    kernel = env_for(binding)
    assert kernel["MLFLOW_TRACKING_USERNAME"] == "reader"
    assert "writer-pw-never-in-kernels" not in kernel.values()
    writer = writer_env(binding)
    assert (writer["MLFLOW_TRACKING_USERNAME"], writer["MLFLOW_TRACKING_PASSWORD"]) == (
        "writer",
        "writer-pw-never-in-kernels",
    )
    assert writer["MLFLOW_TRACKING_INSECURE_TLS"] == "true"  # the rest of the binding stays
    assert "TEST_WRITER_PASSWORD" in binding.referenced_variables()  # no kernel inherits it
    assert "writer-pw-never-in-kernels" in secret_values(binding)
    shown = json.dumps(summarize(binding))
    assert "writer" not in shown and "TEST_WRITER_PASSWORD" not in shown
    assert summarize(binding)["registry"] == {"write": "members", "protected_aliases": ["champion"]}
