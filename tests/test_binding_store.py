"""The bindings file and traitlets config: merging, live reload, and bad files."""

from __future__ import annotations

import json
import logging

import pytest

from jupyter_mlflow_groups.binding_store import BindingStore

LOG = logging.getLogger("test-binding-store")


def store_for(path, configured=None, default=None) -> BindingStore:
    return BindingStore(configured or {}, default, str(path), LOG)


def test_yaml_file_is_read_with_its_default_group(bindings):
    bindings.write(
        {
            "default_group": "team-b",
            "groups": {
                "team-a": {"tracking_uri": "http://a"},
                "team-b": {"tracking_uri": "http://b"},
            },
        }
    )
    current = store_for(bindings.path).current()
    assert list(current.groups) == ["team-a", "team-b"]
    assert current.default_group == "team-b"
    assert current.errors == ()


def test_json_file_is_read(tmp_path):
    path = tmp_path / "bindings.json"
    path.write_text(json.dumps({"groups": {"team-a": {"tracking_uri": "http://a"}}}))
    assert list(store_for(path).current().groups) == ["team-a"]


def test_file_and_config_merge_and_the_file_wins_a_clash(bindings, caplog):
    bindings.write({"groups": {"shared": {"tracking_uri": "http://from-file"}}})
    store = store_for(
        bindings.path,
        configured={
            "shared": {"tracking_uri": "http://from-config"},
            "own": {"tracking_uri": "http://own"},
        },
        default="own",
    )
    with caplog.at_level(logging.WARNING):
        current = store.current()
    assert current.groups["shared"].tracking_uri == "http://from-file"
    assert current.groups["own"].tracking_uri == "http://own"
    assert current.default_group == "own"
    assert "defined in the config and in" in caplog.text


def test_a_changed_file_is_picked_up_without_a_restart(bindings):
    bindings.write({"groups": {"team-a": {"tracking_uri": "http://first"}}})
    store = store_for(bindings.path)
    assert store.current().groups["team-a"].tracking_uri == "http://first"
    bindings.write(
        {"groups": {"team-a": {"tracking_uri": "http://second"}, "new": {"mode": "managed"}}}
    )
    assert store.current().groups["team-a"].tracking_uri == "http://second"
    assert "new" in store.current().groups


def test_an_unchanged_file_is_not_parsed_again(bindings):
    bindings.write({"groups": {"team-a": {"tracking_uri": "http://a"}}})
    store = store_for(bindings.path)
    assert store.current() is store.current()


def test_a_broken_file_keeps_the_last_good_bindings_and_says_why(bindings, caplog):
    bindings.write({"groups": {"team-a": {"tracking_uri": "http://a"}}})
    store = store_for(bindings.path)
    store.current()
    bindings.write("groups:\n  team-a: {tracking_uri: http://a\n  oops")
    with caplog.at_level(logging.ERROR):
        current = store.current()
    assert current.groups["team-a"].tracking_uri == "http://a"
    assert len(current.errors) == 1
    assert "is not valid YAML (line" in current.errors[0]
    assert "last good version stays in force" in current.errors[0]
    assert "is not valid YAML" in caplog.text


def test_a_file_broken_from_the_start_leaves_the_config_groups(bindings):
    bindings.write("{not yaml: [")
    current = store_for(bindings.path, configured={"own": {"tracking_uri": "http://own"}}).current()
    assert list(current.groups) == ["own"]
    assert "is not valid YAML" in current.errors[0]


def test_invalid_json_names_line_and_column(tmp_path):
    path = tmp_path / "bindings.json"
    path.write_text('{"groups": {"a": }')
    (error,) = store_for(path).current().errors
    assert "is not valid JSON (line 1, column 18" in error


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("- a\n- b\n", "must hold a mapping"),
        ("group:\n  a: {}\n", "unknown top-level key(s) group"),
        ("groups: [a, b]\n", "'groups' must be a mapping"),
        ("default_group: [a]\ngroups: {}\n", "'default_group' must be a group name"),
    ],
)
def test_a_file_of_the_wrong_shape_is_reported(bindings, text, fragment):
    bindings.write(text)
    (error,) = store_for(bindings.path).current().errors
    assert fragment in error


def test_a_bad_group_does_not_take_the_others_down(bindings, caplog):
    bindings.write(
        {"groups": {"good": {"tracking_uri": "http://good"}, "bad": {"tracking_uri": "ftp://bad"}}}
    )
    with caplog.at_level(logging.WARNING):
        current = store_for(bindings.path).current()
    assert current.groups["good"].valid
    assert not current.groups["bad"].valid
    assert "group 'bad', field 'tracking_uri'" in caplog.text


def test_a_deleted_file_drops_its_groups(bindings):
    bindings.write({"groups": {"team-a": {"tracking_uri": "http://a"}}})
    store = store_for(bindings.path)
    store.current()
    bindings.path.unlink()
    current = store.current()
    assert current.groups == {}
    assert "does not exist" in current.errors[0]


def test_an_unknown_default_group_is_reported(bindings):
    bindings.write({"default_group": "ghost", "groups": {"team-a": {"tracking_uri": "http://a"}}})
    current = store_for(bindings.path).current()
    assert current.default_group is None
    assert "default_group 'ghost' is not a configured group" in current.errors


def test_nothing_configured_gives_the_zero_config_managed_group(bindings):
    bindings.write("")
    current = store_for(bindings.path).current()
    assert list(current.groups) == ["default"]
    assert current.groups["default"].mode == "managed" and current.groups["default"].valid
    assert current.default_group == "default"
    assert current.errors == ()


def test_managed_variables_include_every_binding_s_names(bindings):
    bindings.write(
        {
            "groups": {
                "a": {
                    "tracking_uri": "http://a",
                    "artifact_env": {"AZURE_STORAGE_CONNECTION_STRING": "x"},
                },
                "b": {
                    "tracking_uri": "http://b",
                    "artifact_env": {"GOOGLE_APPLICATION_CREDENTIALS": "/k"},
                },
            }
        }
    )
    names = store_for(bindings.path).current().managed_variables()
    assert names == {"AZURE_STORAGE_CONNECTION_STRING", "GOOGLE_APPLICATION_CREDENTIALS"}


def billion_laughs(levels: int = 9) -> str:
    """A YAML alias bomb of a few hundred bytes: 9^9 values once its aliases are expanded."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]")
    return (
        "\n".join(lines)
        + f"\ngroups:\n  g:\n    tracking_uri: http://h\n    members: *a{levels - 1}\n"
    )


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("garbage.yaml", bytes(range(256)) * 16, "is not UTF-8 text (byte 128)"),
        ("bomb.yaml", billion_laughs().encode(), "more than 200,000 values once YAML aliases"),
        ("deep.yaml", b"groups: " + b"[" * 50_000, "nests deeper than 32 levels"),
        ("deep.json", b'{"groups": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "nests deeper"),
        (
            "duplicate.yaml",
            b"groups:\n  g: {tracking_uri: 'http://a'}\n  g: {tracking_uri: 'http://b'}\n",
            "(line 3, column 3): duplicate key 'g'",
        ),
        (
            "duplicate.yaml",
            b"groups:\n  g:\n    tracking_uri: http://a\n    tracking_uri: http://b\n",
            "(line 4, column 5): duplicate key 'tracking_uri'",
        ),
        (
            "duplicate.json",
            b'{"groups": {"g": {"tracking_uri": "http://a"}, "g": {}}}',
            "has duplicate key(s) 'g'",
        ),
        ("tag.yaml", b"groups: !!python/object/apply:os.system [id]\n", "could not determine"),
    ],
)
def test_hostile_files_are_refused_with_a_clear_reason(tmp_path, name, content, fragment):
    path = tmp_path / name
    path.write_bytes(content)
    current = store_for(path).current()
    (error,) = current.errors
    assert fragment in error, error
    assert not current.groups  # nothing of the file is used


def test_an_alias_bomb_is_refused_without_eating_memory(tmp_path):
    import tracemalloc

    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs())
    tracemalloc.start()
    try:
        (error,) = store_for(path).current().errors
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "alias bomb" in error
    assert peak < 64 * 1024 * 1024  # expanded, it would be 387 million strings


def test_a_huge_file_is_refused_unread(tmp_path):
    from jupyter_mlflow_groups.binding_store import MAX_FILE_BYTES

    path = tmp_path / "huge.yaml"
    with path.open("wb") as file:
        file.write(b"groups:\n  g: {tracking_uri: 'http://h'}\n#")
        file.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk eaten
    (error,) = store_for(path).current().errors
    assert "is larger than 4 MiB" in error


def test_yaml_anchors_still_share_settings(bindings):
    bindings.write("groups:\n  a: &s {tracking_uri: 'http://h'}\n  b: *s\n")
    current = store_for(bindings.path).current()
    assert not current.errors
    assert current.groups["a"].valid and current.groups["b"].valid
