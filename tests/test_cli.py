"""`jupyter mlflow-groups`: status, gc, db-upgrade and demo, run as an admin would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from support.deploying import model_server_pid
from support.jupyter import JupyterServerProcess
from support.processes import stopped
from support.servers import start_mlflow, wait_until_healthy
from support.tour import group_ready, run_the_tour

ROOT = Path(__file__).resolve().parents[1]


def git_status() -> str:
    """The checkout's changes, untracked files included."""
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def cli(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jupyter", "mlflow-groups", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def admin_env(tmp_path):
    """An environment whose Jupyter data dir and bindings file are the test's own."""

    def make(groups: dict) -> dict[str, str]:
        bindings = tmp_path / "bindings.json"
        bindings.write_text(json.dumps({"groups": groups}))
        return {
            **os.environ,
            "JUPYTER_DATA_DIR": str(tmp_path / "data"),
            "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
            "JUPYTER_MLFLOW_GROUPS_FILE": str(bindings),
        }

    return make


def group_root(tmp_path: Path, group: str) -> Path:
    return tmp_path / "data" / "jupyter_mlflow_groups" / "groups" / group


def test_status_lists_every_group(admin_env, mlflow_servers, closed_url):
    env = admin_env(
        {
            "team-a": {"tracking_uri": mlflow_servers.plain.url},
            "down": {"tracking_uri": closed_url},
            "lab": {"mode": "managed"},
            "broken": {"tracking_uri": "ftp://x"},
        }
    )
    done = cli("status", env=env)
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines()}
    assert lines["GROUP"].split() == ["GROUP", "MODE", "STATE", "VERSION", "WHERE"]
    assert "external  ok" in lines["team-a"] and "3." in lines["team-a"]
    assert "unreachable" in lines["down"] and "connection refused" in lines["down"]
    assert "managed" in lines["lab"] and "never started" in lines["lab"]
    assert "not_configured" in lines["broken"]


def test_gc_lists_first_then_removes_only_runs_deleted_before_the_ttl(admin_env, tmp_path):
    env = admin_env({"lab": {"mode": "managed"}})
    root = group_root(tmp_path, "lab")
    server = start_mlflow(root)  # a managed group's layout: <root>/mlflow.db, <root>/artifacts
    try:
        wait_until_healthy(server)
        runs = {}
        for name in ("old", "recent", "active"):
            runs[name] = server.request(
                "POST", "/api/2.0/mlflow/runs/create", {"experiment_id": "0", "run_name": name}
            )["run"]["info"]
            artifact_dir = (
                root / "artifacts" / runs[name]["artifact_uri"].split(":", 1)[1].lstrip("/")
            )
            artifact_dir.mkdir(parents=True)
            (artifact_dir / "weights.bin").write_bytes(b"w" * 1000)
        for name in ("old", "recent"):
            server.request("POST", "/api/2.0/mlflow/runs/delete", {"run_id": runs[name]["run_id"]})
    finally:
        server.stop()
    # Nobody waits 30 days in a test: the old run's deletion moves 40 days back in MLflow's table.
    import sqlite3

    forty_days_ago = int((time.time() - 40 * 86400) * 1000)
    with sqlite3.connect(root / "mlflow.db") as connection:
        connection.execute(
            "update runs set deleted_time = ? where run_uuid = ?",
            (forty_days_ago, runs["old"]["run_id"]),
        )

    dry = cli("gc", "--older-than", "30d0h0m0s", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "lab: 1 run(s) deleted more than 30d0h0m0s ago" in dry.stdout
    assert runs["old"]["run_id"] in dry.stdout and runs["recent"]["run_id"] not in dry.stdout
    assert "Not confirmed: run again with --yes" in dry.stdout

    done = cli("gc", "--older-than", "30d0h0m0s", "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert "lab: deleted 1 run(s)" in done.stdout
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(f"sqlite:///{root / 'mlflow.db'}", default_artifact_root=None)
    remaining = {run.info.run_name for run in store.search_runs(["0"], None, run_view_type=3)}
    assert remaining == {"recent", "active"}
    old_artifacts = root / "artifacts" / runs["old"]["artifact_uri"].split(":", 1)[1].lstrip("/")
    assert not old_artifacts.exists()

    bad = cli("gc", "--older-than", "soon", env=env)
    assert bad.returncode == 1 and "'soon' is not an age like 30d0h0m0s" in bad.stderr


def test_db_upgrade_backs_up_and_brings_an_older_schema_to_head(admin_env, tmp_path):
    from alembic import command
    from alembic.script import ScriptDirectory
    from mlflow.store.db.utils import _get_alembic_config
    from mlflow.store.tracking.dbmodels.initial_models import Base as InitialBase
    from sqlalchemy import create_engine, text

    env = admin_env({"lab": {"mode": "managed"}})
    database = group_root(tmp_path, "lab") / "mlflow.db"
    database.parent.mkdir(parents=True)
    url = f"sqlite:///{database}"
    config = _get_alembic_config(url)
    revisions = [r.revision for r in ScriptDirectory.from_config(config).walk_revisions()]
    head, older = revisions[0], revisions[len(revisions) // 2]
    engine = create_engine(url)
    InitialBase.metadata.create_all(engine)  # what MLflow creates first, then migrates
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, older)  # MLflow's own migrations, stopped halfway: an old schema

    def schema() -> str:
        with create_engine(url).connect() as connection:
            return connection.execute(text("select version_num from alembic_version")).scalar()

    assert schema() == older
    refused = cli("db-upgrade", "--group", "lab", env=env)
    assert "Not confirmed" in refused.stdout and schema() == older

    done = cli("db-upgrade", "--group", "lab", "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert schema() == head
    (backup,) = database.parent.glob("mlflow.db.backup-*")
    assert "lab: backup in" in done.stdout and "lab: upgraded" in done.stdout
    with create_engine(f"sqlite:///{backup}").connect() as connection:
        assert connection.execute(text("select version_num from alembic_version")).scalar() == older


def test_db_upgrade_refuses_while_the_managed_server_runs(admin_env, tmp_path):
    env = admin_env({"lab": {"mode": "managed"}})
    root = group_root(tmp_path, "lab")
    root.mkdir(parents=True)
    (root / "mlflow.db").write_bytes(b"")
    socket = str(tmp_path / "mlflow.sock")  # a running process that names it, as a server does
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", socket])
    try:
        (root / "server.json").write_text(json.dumps({"pid": running.pid, "socket": socket}))
        done = cli("db-upgrade", "--yes", env=env)
    finally:
        running.kill()
        running.wait()
    assert done.returncode == 1
    assert f"its MLflow server is running (pid {running.pid})" in done.stderr


def history_length(client, run_id: str) -> int:
    """Steps logged for the first metric of a run."""
    key = next(iter(client.get_run(run_id).data.metrics))
    return len(client.get_metric_history(run_id, key))


def registry_snapshot(server: JupyterServerProcess) -> dict:
    """The managed group's registry, read with MLflow's own client through the server's proxy
    (its token as MLFLOW_TRACKING_TOKEN, which MLflow's client sends as a Bearer token)."""
    from mlflow import MlflowClient

    client = MlflowClient(f"{server.url}/mlflow-groups/groups/default/mlflow")
    with mock.patch.dict(os.environ, {"MLFLOW_TRACKING_TOKEN": server.token}):
        return _snapshot(client)


def _snapshot(client: Any) -> dict:
    snapshot = {}
    for model in client.search_registered_models():
        versions = sorted(
            client.search_model_versions(f"name='{model.name}'"), key=lambda v: int(v.version)
        )
        snapshot[model.name] = {
            "aliases": dict(model.aliases),
            "tags": dict(model.tags),
            "versions": [(v.version, v.description) for v in versions],
            "histories": [history_length(client, v.run_id) for v in versions],
        }
    return snapshot


@pytest.mark.timeout(900)
async def test_the_demo_seeds_its_group_starts_jupyterlab_is_idempotent_and_runs_the_tour(
    tmp_path,
):
    """The README's run command, end to end: no configuration, `./scripts/run` (which runs
    `jupyter mlflow-groups demo` in a copy of examples/); the checkout stays as it was."""
    checkout_before = git_status()
    workdir = tmp_path / "demo-notebooks"  # .demo/ in the checkout, by default
    server = JupyterServerProcess(
        tmp_path,
        env={
            "JUPYTER_MLFLOW_GROUPS_FILE": "",  # no groups: the zero-configuration "default"
            "JUPYTER_MLFLOW_GROUPS_DEMO_DIR": str(workdir),
        },
        launcher=[str(ROOT / "scripts" / "run")],
        serve_home=False,
    )
    try:
        server.start(timeout=600)  # seeding first, then JupyterLab answers
        managed = (await group_ready(server))["managed"]
        assert managed["owned"] is True  # JupyterLab adopted the server the demo started
        record = json.loads((group_root(tmp_path, "default") / "server.json").read_text())
        assert record["pid"] == managed["pid"] and record["owner"] == server.process.pid

        first = registry_snapshot(server)
        assert set(first) == {"iris-classifier", "diabetes-progression", "wine-cultivar"}
        iris = first["iris-classifier"]
        assert len(iris["versions"]) == 3 and set(iris["aliases"]) == {"champion", "challenger"}
        assert iris["tags"]["demo.seeded"] == "1" and min(iris["histories"]) >= 30

        again = cli("demo", "--no-lab", env=server.env)  # seeding again: against the running server
        assert again.returncode == 0, again.stderr
        assert "iris-classifier: already there (3 versions)" in again.stdout
        assert registry_snapshot(server) == first

        deployment = await run_the_tour(server, workdir / "tour.ipynb")
        model_server = model_server_pid(Path(deployment["path"]).parents[1])
        # what JupyterLab does meanwhile: autosave the tour with its outputs, "New notebook"
        tour = server.request("GET", "/api/contents/tour.ipynb")
        tour["content"]["cells"][0]["source"] = "# ran"
        server.request("PUT", "/api/contents/tour.ipynb", {**tour, "format": "json"})
        new = server.request("POST", "/api/contents", {"type": "notebook"})
    finally:
        server.stop()
    assert (workdir / new["path"]).is_file() and "# ran" in (workdir / "tour.ipynb").read_text()
    assert git_status() == checkout_before
    ignored = subprocess.run(["git", "check-ignore", "-q", ".demo/tour.ipynb"], cwd=ROOT)
    assert ignored.returncode == 0, "the demo's default folder must be ignored by git"
    assert stopped(managed["pid"])  # the MLflow server stopped with JupyterLab
    assert stopped(model_server)  # and so did the deployment's model server
