"""Admin mistakes and hostile files: secret references to FIFOs, devices, directories, huge files
and files that never answer; bindings and secret files other users could change (ssh's
StrictModes); a deployment name that matches a folder the extension did not create.

Everything here uses real files, real permissions and a real second Unix account. A file that
"does not answer" is a fanotify permission event nobody answers: every open of the file waits, as
on a hung network filesystem, until the test releases it."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import pwd
import select
import shutil
import struct
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.bindings import BindingsFile
from support.rest import fetch_json

from jupyter_mlflow_groups import trusted_files
from jupyter_mlflow_groups.binding_store import BindingStore
from jupyter_mlflow_groups.bindings import env_for, parse_binding
from jupyter_mlflow_groups.deploy.layout import (
    MARKER,
    DeploymentLayout,
    UnsafePath,
    leftover_staging,
)
from jupyter_mlflow_groups.secrets import SecretReferenceError, resolve

API = ("mlflow-groups", "api")
LOG = logging.getLogger("test-admin-mistakes")
OTHER_USER = "mlflowgroups-other"
SECRET = "hunter2-secret-7c1d"
#: Generous bounds for "does not hang": far above what the code needs, far below pytest's timeout.
HANG_BOUND = 30.0
#: fanotify(7): a permission event for each open, answered by whoever holds the group.
FAN_CLOEXEC, FAN_CLASS_CONTENT, FAN_MARK_ADD, FAN_OPEN_PERM, AT_FDCWD = 1, 4, 1, 0x10000, -100


class HungFile:
    """Opens of `path` wait until release(), as on a hung network filesystem."""

    def __init__(self, path: Path) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.fanotify_mark.argtypes = [
            ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int, ctypes.c_char_p
        ]  # fmt: skip
        self.fd = libc.fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, os.O_RDONLY)
        if self.fd < 0:
            pytest.skip(f"fanotify is unavailable here ({os.strerror(ctypes.get_errno())})")
        if libc.fanotify_mark(self.fd, FAN_MARK_ADD, FAN_OPEN_PERM, AT_FDCWD, bytes(path)) < 0:
            os.close(self.fd)
            pytest.skip(f"fanotify cannot watch opens here ({os.strerror(ctypes.get_errno())})")
        self._event_fds: list[int] = []

    def wait_for_an_open(self) -> None:
        """Return once some thread is stuck opening the file."""
        ready, _, _ = select.select([self.fd], [], [], HANG_BOUND)
        assert ready, "nothing opened the file"
        data = os.read(self.fd, 4096)
        offset = 0
        while offset < len(data):  # struct fanotify_event_metadata
            length, _, _, _, _, event_fd, _ = struct.unpack_from("IBBHQii", data, offset)
            self._event_fds.append(event_fd)
            offset += length

    def release(self) -> None:
        """Let every waiting open through: closing the group allows its pending events."""
        if self.fd < 0:
            return
        os.close(self.fd)
        for fd in self._event_fds:
            os.close(fd)
        self.fd, self._event_fds = -1, []


@pytest.fixture
def hung() -> Iterator[Callable[[Path], HungFile]]:
    made: list[HungFile] = []

    def hang(path: Path) -> HungFile:
        made.append(HungFile(path))
        return made[-1]

    yield hang
    for hung_file in made:
        hung_file.release()


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(trusted_files, "READ_TIMEOUT", 0.5)
    return 0.5


@pytest.fixture(scope="session")
def other_user() -> pwd.struct_passwd:
    """A second Unix account (neither root nor the server's user) to own files."""
    if os.geteuid() != 0:
        pytest.skip("giving a file to another account needs root")
    try:
        return pwd.getpwnam(OTHER_USER)
    except KeyError:
        pass
    if shutil.which("useradd") is None:
        pytest.skip(f"useradd is missing: cannot create the account {OTHER_USER}")
    subprocess.run(
        ["useradd", "--system", "--no-create-home", OTHER_USER], check=True, capture_output=True
    )
    return pwd.getpwnam(OTHER_USER)


@pytest.fixture
def bindings(tmp_path: Path) -> BindingsFile:
    """The bindings file in a directory of its own, whose mode some tests change."""
    directory = tmp_path / "etc"
    directory.mkdir()
    return BindingsFile(directory / "bindings.yaml")


def file_reference_group(path: Path | str) -> dict[str, Any]:
    """A group whose token is read from `path`."""
    return {
        "tracking_uri": "http://h",
        "tracking_env": {"MLFLOW_TRACKING_TOKEN": f"${{file:{path}}}"},
    }


def resolution_error(path: Path | str) -> str:
    with pytest.raises(SecretReferenceError) as caught:
        resolve(f"${{file:{path}}}")
    return str(caught.value)


def in_thread(function: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Run `function` in a thread; the dict gets its `result` or `error`."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = function()
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def secret_file(directory: Path, name: str = "token", text: str = SECRET + "\n") -> Path:
    path = directory / name
    path.write_text(text)
    return path


# -- secret files ----------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_a_fifo_secret_is_refused_at_once_while_another_group_resolves(tmp_path):
    fifo = tmp_path / "token-fifo"
    os.mkfifo(fifo)  # nobody ever writes: a plain read would wait forever
    good = secret_file(tmp_path)
    fifo_run = in_thread(lambda: parse_binding("fifo", file_reference_group(fifo)))
    good_run = in_thread(lambda: env_for(parse_binding("good", file_reference_group(good))))
    for thread, _ in (fifo_run, good_run):
        thread.join(HANG_BOUND)
        assert not thread.is_alive(), "a secret resolution hung"
    (problem,) = fifo_run[1]["result"].problems
    assert problem.message == (
        f"${{file:{fifo}}}: is a named pipe (FIFO), not a regular file: name a regular file"
    )
    assert good_run[1]["result"]["MLFLOW_TRACKING_TOKEN"] == SECRET


def test_dev_zero_and_a_directory_are_refused(tmp_path):
    assert resolution_error("/dev/zero") == (
        "${file:/dev/zero}: is a character device, not a regular file: name a regular file"
    )
    assert resolution_error(tmp_path) == (
        f"${{file:{tmp_path}}}: is a directory, not a regular file: name a regular file"
    )


def test_a_one_mib_secret_file_is_refused_without_showing_it(tmp_path):
    huge = secret_file(tmp_path, "huge", SECRET * (2**20 // len(SECRET) + 1))
    message = resolution_error(huge)
    assert message == f"${{file:{huge}}}: is larger than 64 KiB: is it the right file?"


@pytest.mark.timeout(120)
def test_a_secret_file_that_does_not_answer_blocks_no_other_group_and_times_out(
    tmp_path, hung, monkeypatch
):
    stuck_path, good = secret_file(tmp_path, "on-hung-nfs"), secret_file(tmp_path)
    monkeypatch.setattr(trusted_files, "READ_TIMEOUT", HANG_BOUND)
    stuck = hung(stuck_path)
    waiting, outcome = in_thread(lambda: resolve(f"${{file:{stuck_path}}}"))
    stuck.wait_for_an_open()
    assert resolve(f"${{file:{good}}}") == SECRET  # while the other read is stuck
    assert waiting.is_alive()
    stuck.release()
    waiting.join(HANG_BOUND)
    assert outcome == {"result": SECRET}  # it answered within the timeout

    monkeypatch.setattr(trusted_files, "READ_TIMEOUT", 0.5)
    stuck = hung(stuck_path)
    assert resolution_error(stuck_path) == (
        f"${{file:{stuck_path}}}: did not answer within 0.5 s (a hung network filesystem?): "
        "check the filesystem it is on"
    )
    # the stuck read holds its thread; later reads of that file fail at once, not after 0.5 s more
    assert "has not answered an earlier read yet" in resolution_error(stuck_path)
    assert resolve(f"${{file:{good}}}") == SECRET
    stuck.release()
    for _ in range(int(HANG_BOUND / 0.05)):  # until the stuck read has returned
        try:
            assert resolve(f"${{file:{stuck_path}}}") == SECRET
            break
        except SecretReferenceError:
            threading.Event().wait(0.05)
    else:
        pytest.fail("the file still fails once it answers again")


def test_a_group_writable_secret_file_is_refused_with_the_fix(tmp_path):
    token = secret_file(tmp_path)
    token.chmod(0o660)
    message = resolution_error(token)
    assert message.startswith(f"${{file:{token}}}: {token} is writable by its group or others")
    assert message.endswith(f"run `chmod go-w {token}`")
    assert SECRET not in message


def test_a_secret_file_owned_by_another_user_is_refused_with_the_fix(tmp_path, other_user):
    token = secret_file(tmp_path)
    os.chown(token, other_user.pw_uid, other_user.pw_gid)
    message = resolution_error(token)
    assert f"{token} belongs to {OTHER_USER}, not to root" in message
    assert message.endswith(f"run `chown root {token}`")


def test_a_secret_under_a_world_writable_directory_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    message = resolution_error(secret_file(shared))
    assert f"its directory {shared} is writable by its group or others (drwxrwxrwx)" in message
    assert message.endswith(f"run `chmod go-w {shared}`")


def test_a_kubernetes_style_secret_in_a_sticky_directory_is_accepted(tmp_path):
    """A Kubernetes secret volume: a sticky world-writable mount, the key a symlink into a
    timestamped directory through `..data`."""
    volume = tmp_path / "volume"
    (volume / "..2024_01_01").mkdir(parents=True)
    volume.chmod(0o1777)
    secret_file(volume / "..2024_01_01", "token")
    (volume / "..data").symlink_to("..2024_01_01")
    (volume / "token").symlink_to("..data/token")
    assert resolve(f"${{file:{volume / 'token'}}}") == SECRET


async def test_unusable_secret_files_are_reported_per_group_and_the_others_work(
    tmp_path, bindings, jp_fetch
):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writable = secret_file(tmp_path, "writable")
    writable.chmod(0o666)
    groups = {
        "fifo": file_reference_group(fifo),
        "device": file_reference_group("/dev/zero"),
        "writable": file_reference_group(writable),
        "good": file_reference_group(secret_file(tmp_path)),
    }
    bindings.write({"groups": groups})
    status, body = await fetch_json(jp_fetch, *API, "groups")
    assert status == 200 and body["errors"] == []
    described = {group["name"]: group for group in body["groups"]}
    problems = {
        name: [problem["message"] for problem in group["problems"]]
        for name, group in described.items()
    }
    assert described["good"]["valid"] and problems["good"] == []
    assert "is a named pipe (FIFO), not a regular file" in problems["fifo"][0]
    assert "is a character device, not a regular file" in problems["device"][0]
    assert f"run `chmod go-w {writable}`" in problems["writable"][0]
    assert SECRET not in str(body)


# -- the bindings file -------------------------------------------------------------------------


async def test_a_group_writable_bindings_file_is_refused_and_the_last_good_version_stays(
    bindings, jp_fetch
):
    bindings.write({"groups": {"team-a": {"tracking_uri": "http://a"}}})
    _, body = await fetch_json(jp_fetch, *API, "groups")
    assert [group["name"] for group in body["groups"]] == ["team-a"] and body["errors"] == []

    bindings.path.chmod(0o664)  # only the mode changes: the refusal must still be noticed
    _, body = await fetch_json(jp_fetch, *API, "groups")
    (error,) = body["errors"]
    assert error.startswith(f"bindings file {bindings.path}: {bindings.path} is writable by")
    assert f"run `chmod go-w {bindings.path}`" in error
    assert error.endswith("(its last good version stays in force)")
    assert [group["name"] for group in body["groups"]] == ["team-a"]

    bindings.path.chmod(0o644)  # the fix is picked up without a restart
    _, body = await fetch_json(jp_fetch, *API, "groups")
    assert body["errors"] == [] and [group["name"] for group in body["groups"]] == ["team-a"]


async def test_a_world_writable_parent_is_refused_and_a_sticky_one_accepted(bindings, jp_fetch):
    directory = bindings.path.parent
    directory.chmod(0o777)
    bindings.write({"groups": {"team-a": {"tracking_uri": "http://a"}}})
    _, body = await fetch_json(jp_fetch, *API, "groups")
    (error,) = body["errors"]
    assert error == (
        f"bindings file {bindings.path}: its directory {directory} is writable by its group or "
        "others (drwxrwxrwx), so another user could change what the server reads: "
        f"run `chmod go-w {directory}`"
    )
    assert body["groups"] == []  # never read: nothing of it is used

    directory.chmod(0o1777)  # like /tmp: nobody can replace the file of another
    _, body = await fetch_json(jp_fetch, *API, "groups")
    assert body["errors"] == [] and [group["name"] for group in body["groups"]] == ["team-a"]


def test_a_bindings_file_owned_by_another_user_is_refused(bindings, other_user):
    bindings.write({"groups": {"team-a": {"tracking_uri": "http://a"}}})
    os.chown(bindings.path, other_user.pw_uid, other_user.pw_gid)
    current = BindingStore({}, None, str(bindings.path), LOG).current()
    (error,) = current.errors
    assert f"{bindings.path} belongs to {OTHER_USER}, not to root" in error
    assert f"run `chown root {bindings.path}`" in error
    assert current.groups == {}


@pytest.mark.timeout(120)
def test_a_bindings_file_that_does_not_answer_keeps_the_last_good_version(
    bindings, hung, short_timeout
):
    bindings.write({"groups": {"old": {"tracking_uri": "http://old"}}})
    store = BindingStore({}, None, str(bindings.path), LOG)
    assert list(store.current().groups) == ["old"]
    bindings.write({"groups": {"new": {"tracking_uri": "http://new"}}})
    stuck = hung(bindings.path)
    runs = [in_thread(store.current) for _ in range(3)]
    for thread, _ in runs:
        thread.join(HANG_BOUND)
        assert not thread.is_alive(), "a call waited for the hung file"
    for _, outcome in runs:
        (error,) = outcome["result"].errors
        assert error.startswith(f"bindings file {bindings.path}: ")
        assert "(a hung network filesystem?)" in error
        assert error.endswith("(its last good version stays in force)")
        assert list(outcome["result"].groups) == ["old"]
    stuck.release()
    for _ in range(int(HANG_BOUND / 0.05)):  # read again once the file answers
        if list(store.current().groups) == ["new"]:
            break
        threading.Event().wait(0.05)
    assert list(store.current().groups) == ["new"] and store.current().errors == ()


@pytest.mark.timeout(120)
async def test_refresh_reads_the_file_off_the_event_loop(bindings, hung, monkeypatch):
    monkeypatch.setattr(trusted_files, "READ_TIMEOUT", HANG_BOUND)
    bindings.write({"groups": {"old": {"tracking_uri": "http://old"}}})
    store = BindingStore({}, None, str(bindings.path), LOG)
    assert list((await store.refresh()).groups) == ["old"]
    bindings.write({"groups": {"new": {"tracking_uri": "http://new"}}})
    stuck = hung(bindings.path)
    refreshing = asyncio.ensure_future(store.refresh())
    await asyncio.to_thread(stuck.wait_for_an_open)  # the loop runs while the read is stuck
    assert not refreshing.done()
    stuck.release()
    assert list((await asyncio.wait_for(refreshing, HANG_BOUND)).groups) == ["new"]


# -- deployment directories --------------------------------------------------------------------


def tree(directory: Path) -> dict[str, bytes | str | None]:
    """Every entry under `directory`: file contents, symlink targets, None for directories."""
    entries: dict[str, bytes | str | None] = {}
    for path in sorted(directory.rglob("*")):
        relative = str(path.relative_to(directory))
        if path.is_symlink():
            entries[relative] = os.readlink(path)
        else:
            entries[relative] = path.read_bytes() if path.is_file() else None
    return entries


def write_what_a_deployment_writes(layout: DeploymentLayout) -> None:
    (layout.staging / "job-2").mkdir(parents=True)
    (layout.staging / "job-2" / "model.pkl").write_bytes(b"half")
    (layout.releases / "job-1").mkdir(parents=True)
    (layout.releases / "job-1" / "model.pkl").write_bytes(b"model")
    layout.point_current_at(layout.releases / "job-1")
    for name in ("jobs.log", "serve.log", "serve.pid"):
        (layout.directory / name).write_text(name)


@pytest.mark.parametrize("kind", ["folder", "symlink to a folder"])
def test_a_directory_we_did_not_create_is_refused_and_never_deleted(tmp_path, kind):
    root, admin = tmp_path / "models", tmp_path / "admin-fraud"
    admin.mkdir()
    (admin / "notes.txt").write_text("the admin's own work")
    (admin / "releases").mkdir()
    (admin / "releases" / "v1.pkl").write_bytes(b"admin model")
    (admin / "staging" / "draft").mkdir(parents=True)
    (admin / "current").symlink_to("releases")
    (admin / "serve.log").write_text("the admin's log")
    root.mkdir()
    if kind == "folder":
        admin = admin.rename(root / "fraud")
    else:
        (root / "fraud").symlink_to(admin)
    before = tree(admin)
    layout = DeploymentLayout(root, "fraud")
    with pytest.raises(UnsafePath) as refused:
        layout.claim()
    assert str(refused.value) == (
        f"{root / 'fraud'} exists and was not created by jupyter-mlflow-groups: "
        "choose another deployment name or remove it"
    )
    layout.remove()
    assert leftover_staging(root) == []
    assert tree(admin) == before


def test_a_deployment_directory_we_created_is_removed_with_all_we_wrote(tmp_path):
    layout = DeploymentLayout(tmp_path / "models", "fraud")
    layout.claim()
    layout.claim()  # ours: accepted again (every later job of the deployment)
    write_what_a_deployment_writes(layout)
    assert leftover_staging(tmp_path / "models") == [layout.staging / "job-2"]
    layout.remove()
    assert not layout.directory.exists()
    assert list((tmp_path / "models").iterdir()) == []


def test_removal_keeps_what_others_put_in_a_deployment_directory(tmp_path):
    layout = DeploymentLayout(tmp_path, "fraud")
    layout.claim()
    write_what_a_deployment_writes(layout)
    (layout.directory / "README").write_text("an admin's note")
    layout.remove()
    assert sorted(tree(layout.directory)) == [MARKER, "README"]
    assert (layout.directory / "README").read_text() == "an admin's note"
    layout.claim()  # still ours: the name can be deployed again


async def test_deploying_under_an_admins_folder_name_leaves_the_folder_alone(
    bindings, jp_fetch, tmp_path
):
    """A shared deploy.root holds a folder of the admin's whose name a member deploys to: the
    deploy is refused at once, and not one file of the folder changes."""
    root = tmp_path / "shared-deployments"
    folder = root / "fraud"
    (folder / "notes").mkdir(parents=True)
    (folder / "notes" / "plan.txt").write_text("the admin's own")
    (folder / "current").write_text("not a link of ours")
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    bindings.write(
        {"groups": {"g": {"tracking_uri": "http://127.0.0.1:9", "deploy": {"root": str(root)}}}}
    )
    body = {"name": "fraud", "model": "m", "version": "1"}
    status, answer = await fetch_json(
        jp_fetch, "mlflow-groups", "api", "groups", "g", "deployments", method="POST", body=body
    )
    assert (status, answer["error"]["code"]) == (409, "conflict")
    assert "was not created by jupyter-mlflow-groups" in answer["error"]["message"]
    after = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before and sorted(os.listdir(folder)) == ["current", "notes"]
