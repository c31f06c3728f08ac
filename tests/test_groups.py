"""Memberships from the config, and the active group: default, persistence, refusal."""

from __future__ import annotations

import json
import logging

import pytest

from jupyter_mlflow_groups.app import MlflowGroupsApp
from jupyter_mlflow_groups.binding_store import BindingStore
from jupyter_mlflow_groups.groups import (
    ActiveGroupFile,
    ConfigMemberships,
    GroupAccessError,
    GroupResolver,
)
from jupyter_mlflow_groups.hub import API_TOKEN_VARIABLE, API_URL_VARIABLE, HubMemberships

LOG = logging.getLogger("test-groups")
GROUPS = {
    "default_group": "shared",
    "groups": {
        "team-a": {"tracking_uri": "http://a", "members": ["alice"]},
        "team-b": {"tracking_uri": "http://b", "members": ["bob"], "admins": ["alice"]},
        "shared": {"tracking_uri": "http://shared", "members": ["alice", "bob"]},
        "open": {"tracking_uri": "http://open"},
        "closed": {"tracking_uri": "http://closed", "members": []},
    },
}


@pytest.fixture
def resolver_for(bindings, tmp_path):
    bindings.write(GROUPS)

    def make() -> GroupResolver:
        store = BindingStore({}, None, str(bindings.path), LOG)
        active = ActiveGroupFile(tmp_path / "state" / "active_groups.json", LOG)
        return GroupResolver(store, ConfigMemberships(), active)

    return make


def test_members_admins_and_open_groups(resolver_for):
    resolver = resolver_for()
    assert resolver.groups_of("alice") == ["team-a", "team-b", "shared", "open"]
    assert resolver.groups_of("bob") == ["team-b", "shared", "open"]
    assert resolver.groups_of("carol") == ["open"]


def test_default_group_then_first_group(resolver_for, bindings):
    resolver = resolver_for()
    assert resolver.active_group("alice") == "shared"
    assert resolver.active_group("carol") == "open"  # not in the default group: their first
    bindings.write({"groups": {"closed": {"tracking_uri": "http://c", "members": []}}})
    resolver.store.current()  # as each request and kernel start re-reads it first
    assert resolver.active_group("alice") is None


def test_the_active_group_survives_a_restart(resolver_for, tmp_path):
    resolver_for().set_active("alice", "team-a")
    restarted = resolver_for()
    assert restarted.active_group("alice") == "team-a"
    stored = json.loads((tmp_path / "state" / "active_groups.json").read_text())
    assert stored == {"alice": "team-a"}


def test_a_choice_that_is_no_longer_allowed_falls_back(resolver_for, bindings):
    resolver = resolver_for()
    resolver.set_active("alice", "team-a")
    bindings.write(
        {
            **GROUPS,
            "groups": {**GROUPS["groups"], "team-a": {"tracking_uri": "http://a", "members": []}},
        }
    )
    resolver.store.current()  # as each request and kernel start re-reads it first
    assert resolver.active_group("alice") == "shared"


def test_switching_to_a_group_the_user_is_not_in_is_refused(resolver_for):
    resolver = resolver_for()
    with pytest.raises(GroupAccessError) as refused:
        resolver.set_active("carol", "team-a")
    assert refused.value.status == 403
    assert "not a member of the group 'team-a'" in refused.value.message
    assert resolver.active_group("carol") == "open"


def test_switching_to_an_unknown_group_is_a_404(resolver_for):
    with pytest.raises(GroupAccessError) as missing:
        resolver_for().set_active("alice", "ghost")
    assert missing.value.status == 404


def test_choices_of_other_users_are_kept(resolver_for):
    resolver_for().set_active("alice", "team-a")
    resolver_for().set_active("bob", "team-b")
    fresh = resolver_for()
    assert (fresh.active_group("alice"), fresh.active_group("bob")) == ("team-a", "team-b")


def test_an_unreadable_state_file_is_ignored_with_a_warning(resolver_for, tmp_path, caplog):
    state = tmp_path / "state" / "active_groups.json"
    state.parent.mkdir(parents=True)
    state.write_text("{broken")
    with caplog.at_level(logging.WARNING):
        resolver = resolver_for()
    assert resolver.active_group("alice") == "shared"
    assert "ignoring unreadable state file" in caplog.text


def test_where_memberships_come_from(monkeypatch):
    """`auto`: the Hub when the server runs under one; `jupyterhub` without a Hub: an error."""
    monkeypatch.delenv(API_URL_VARIABLE, raising=False)
    monkeypatch.delenv(API_TOKEN_VARIABLE, raising=False)
    assert isinstance(MlflowGroupsApp()._membership_source(), ConfigMemberships)
    with pytest.raises(ValueError, match="this server was not started by JupyterHub"):
        MlflowGroupsApp(memberships="jupyterhub")._membership_source()

    monkeypatch.setenv(API_URL_VARIABLE, "http://127.0.0.1:8081/hub/api")
    monkeypatch.setenv(API_TOKEN_VARIABLE, "a-hub-token")
    monkeypatch.setenv("JUPYTERHUB_USER", "ada")
    from_hub = MlflowGroupsApp()._membership_source()
    assert isinstance(from_hub, HubMemberships) and from_hub.owner == "ada"
    assert isinstance(MlflowGroupsApp(memberships="config")._membership_source(), ConfigMemberships)
