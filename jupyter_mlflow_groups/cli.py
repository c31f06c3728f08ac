"""`jupyter mlflow-groups`: status, garbage collection, database upgrades, and the demo.

It reads the same configuration as the server (`c.MlflowGroupsApp.*` in jupyter_server_config,
the bindings file) and acts on every configured group, as an admin would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

from jupyter_core.application import JupyterApp
from traitlets import Bool, Unicode

from .binding_store import BindingSet, BindingStore
from .bindings import GroupBinding, group_root
from .bridge import BridgeAddress, loopback_bridge
from .managed import HEALTH, ManagedServers, backend_uri, managed_server


class GroupsCommand(JupyterApp):
    """A sub-command: the server's configuration, its groups."""

    config_file_name = Unicode("jupyter_server_config")  # c.MlflowGroupsApp.* lives there
    group = Unicode("", help="Only this group.").tag(config=True)
    aliases = {**JupyterApp.aliases, "group": "GroupsCommand.group"}
    flags = {
        **JupyterApp.flags,
        "yes": ({"JupyterApp": {"answer_yes": True}}, "Do it without asking for confirmation."),
    }

    def settings(self) -> Any:
        from .app import MlflowGroupsApp

        return MlflowGroupsApp(config=self.config)

    @cached_property
    def binding_set(self) -> BindingSet:
        """The groups as the server sees them (read once; errors said once)."""
        settings = self.settings()
        store = BindingStore(
            settings.groups, settings.default_group, settings.bindings_file or None, self.log
        )
        current = store.current()
        for error in current.errors:
            print(f"configuration error: {error}", file=sys.stderr)
        return current

    def bindings(self, *, managed_only: bool = False) -> list[GroupBinding]:
        groups = self.binding_set.groups.values()
        chosen = [b for b in groups if not self.group or b.name == self.group]
        if self.group and not chosen:
            self.exit_with(f"There is no group named '{self.group}'.")
        return [b for b in chosen if b.mode == "managed"] if managed_only else chosen

    def root_of(self, binding: GroupBinding) -> Path:
        return group_root(binding, Path(self.settings().groups_root).expanduser())

    @contextmanager
    def tracking_server(
        self, binding: GroupBinding, hand_over: bool = False
    ) -> Iterator[BridgeAddress]:
        """A managed group's server, for MLflow's client in this command: the one running (a
        Jupyter server's), else one started for this command and stopped after it, unless
        handed over to JupyterLab; reached through a loopback bridge with a one-time token."""
        loop = asyncio.new_event_loop()
        servers = ManagedServers(self.log)

        async def running() -> None:
            servers.ensure(binding.name, self.root_of(binding))
            while (state := servers.state(binding.name)) and state.state != "running":
                if state.state == "restarting":
                    raise RuntimeError(f"its MLflow server did not start: {state.last_error}")
                await asyncio.sleep(0.25)

        try:
            loop.run_until_complete(running())
            upstream = servers.upstream(binding.name)
            assert upstream is not None
            with loopback_bridge(upstream) as address:
                yield address
        except RuntimeError as error:
            self.exit_with(f"{binding.name}: {error}")
        finally:
            if hand_over:  # JupyterLab adopts it after the exec
                loop.run_until_complete(servers.release(binding.name))
            else:
                loop.run_until_complete(servers.stop_all())  # only what this command started
            loop.close()

    def confirm(self, question: str) -> bool:
        if self.answer_yes:
            return True
        if not sys.stdin.isatty():
            print(f"{question} Not confirmed: run again with --yes to do it.")
            return False
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")

    def exit_with(self, message: str) -> None:
        print(message, file=sys.stderr)
        self.exit(1)


class StatusCommand(GroupsCommand):
    description = "Every group: mode, reachability, MLflow server version."

    def start(self) -> None:
        rows = asyncio.run(self._rows())
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            print(
                "  ".join(
                    str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )

    async def _rows(self) -> list[tuple[str, ...]]:
        from .bindings import UnusableBinding, env_for, summarize
        from .status import check_status
        from .upstream import HttpClients, Upstream

        rows = [("GROUP", "MODE", "STATE", "VERSION", "WHERE")]
        clients = HttpClients()
        for binding in self.bindings():
            if binding.mode == "managed":
                rows.append(await self._managed_row(binding, clients))
                continue
            described = summarize(binding)
            try:
                env = env_for(binding)
            except UnusableBinding:
                env = {}
            http = env.get("MLFLOW_TRACKING_URI", "").startswith(("http://", "https://"))
            upstream = Upstream.from_env(env) if http else None
            described["ui_url"] = None
            report = await check_status(binding, described, upstream, clients, timeout=5.0)
            state = "ok" if report["ok"] else f"{report['code']}: {report['message']}"
            rows.append(
                (
                    binding.name,
                    "external",
                    state,
                    report["server_version"] or "-",
                    described["tracking_uri"] or "-",
                )
            )
        clients.close()
        return rows

    async def _managed_row(self, binding: GroupBinding, clients: Any) -> tuple[str, ...]:
        from .upstream import Upstream

        root = self.root_of(binding)
        server = managed_server(root, binding.name)
        record = server.live_record()
        if record and await server.healthy(HEALTH, record["socket"]):
            upstream = Upstream.on_socket(record["socket"])
            response = await clients.for_upstream(upstream).fetch(upstream.url("/version"))
            version = response.body.decode()
            return binding.name, "managed", "running", version, f"{record['socket']} ({root})"
        state = (
            "not running (starts with Jupyter)"
            if (root / "mlflow.db").exists()
            else "never started"
        )
        return binding.name, "managed", state, "-", str(root)


class GcCommand(GroupsCommand):
    description = (
        "MLflow's garbage collection of runs deleted longer ago than --older-than, for managed "
        "groups (and external ones with --backend-store-uri). Lists what would go first."
    )
    older_than = Unicode(
        "", help="Age of deletion, in MLflow's #d#h#m#s format (e.g. 30d0h0m0s)."
    ).tag(config=True)
    backend_store_uri = Unicode("", help="An external group's backend store (database URL).").tag(
        config=True
    )
    aliases = {
        **GroupsCommand.aliases,
        "older-than": "GcCommand.older_than",
        "backend-store-uri": "GcCommand.backend_store_uri",
    }

    def start(self) -> None:
        if not self.older_than:
            self.exit_with("Say how long ago runs must have been deleted: --older-than 30d0h0m0s")
        targets = [(b, backend_uri(self.root_of(b))) for b in self.bindings(managed_only=True)]
        if self.backend_store_uri:
            if not self.group:
                self.exit_with(
                    "--backend-store-uri needs --group (the external group it belongs to)"
                )
            targets = [(b, self.backend_store_uri) for b in self.bindings()]
        for binding, store in targets:
            if store.startswith("sqlite:") and not Path(store.removeprefix("sqlite:///")).exists():
                print(f"{binding.name}: no database yet, nothing to collect")
                continue
            try:
                candidates = _deleted_runs(store, self.older_than)
            except ValueError as error:
                self.exit_with(str(error))
            if not candidates:
                print(f"{binding.name}: no run was deleted more than {self.older_than} ago")
                continue
            print(
                f"{binding.name}: {len(candidates)} run(s) deleted more than {self.older_than} ago:"
            )
            for run_id, name in candidates:
                print(f"  {run_id}  {name or '-'}")
            if not self.confirm(f"Delete them for good from {binding.name}, with their artifacts?"):
                continue
            runs = [run for run, _ in candidates]
            if binding.mode == "managed":  # proxied artifacts: gc goes through the server
                with self.tracking_server(binding) as bridge:
                    _run_mlflow_gc(store, bridge.url, self.older_than, runs, bridge.token)
            else:
                _run_mlflow_gc(store, store, self.older_than, runs)
            print(f"{binding.name}: deleted {len(candidates)} run(s)")


class DbUpgradeCommand(GroupsCommand):
    description = "`mlflow db upgrade` of managed groups' databases, after a backup copy."

    def start(self) -> None:
        for binding in self.bindings(managed_only=True):
            root = self.root_of(binding)
            database = root / "mlflow.db"
            if not database.exists():
                print(f"{binding.name}: no database yet")
                continue
            record = managed_server(root, binding.name).live_record()
            if record:
                self.exit_with(
                    f"{binding.name}: its MLflow server is running (pid {record['pid']}): stop the "
                    "Jupyter server that runs it first"
                )
            if not self.confirm(f"Upgrade the MLflow database of {binding.name} ({database})?"):
                continue
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            backup = database.with_name(f"mlflow.db.backup-{stamp}")
            shutil.copy2(database, backup)
            print(f"{binding.name}: backup in {backup}")
            done = subprocess.run(
                [sys.executable, "-m", "mlflow", "db", "upgrade", backend_uri(root)],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                failure = f"{binding.name}: the upgrade failed; the backup is intact"
                self.exit_with(f"{failure}:\n{done.stderr[-2000:]}")
            print(f"{binding.name}: upgraded")


class DemoCommand(GroupsCommand):
    description = (
        "Seed the default group's managed MLflow with a demo registry (idempotent), then start "
        "JupyterLab. Arguments after -- go to `jupyter lab`."
    )
    no_lab = Bool(False, help="Seed only; do not start JupyterLab.").tag(config=True)
    flags = {**GroupsCommand.flags, "no-lab": ({"DemoCommand": {"no_lab": True}}, "Seed only.")}

    def start(self) -> None:
        name = self.group or self.binding_set.default_group
        binding = self.binding_set.groups.get(name or "")
        if binding is None or binding.mode != "managed":
            self.exit_with(
                f"The demo seeds a managed group, and '{name}' is not one: give one with --group "
                "(the demo never writes to an external MLflow server)"
            )
        with self.tracking_server(binding, hand_over=not self.no_lab) as bridge:
            print(f"Seeding the demo registry of group '{binding.name}' ...")
            from .demo import seed_demo

            os.environ["MLFLOW_TRACKING_TOKEN"] = bridge.token  # MLflow's client reads it
            try:
                seeded = seed_demo(bridge.url)
            finally:
                del os.environ["MLFLOW_TRACKING_TOKEN"]
        summary = ", ".join(f"{model} ({len(seen)} versions)" for model, seen in seeded.items())
        print(f"Ready: {summary}")
        if not self.no_lab:
            lab = [
                sys.executable,
                "-m",
                "jupyter",
                "lab",
                *([] if os.getuid() else ["--allow-root"]),
                *self.extra_args,
            ]
            # exec: the same process, so JupyterLab adopts (and later stops) this MLflow server
            os.execv(sys.executable, lab)


class MlflowGroupsCommand(JupyterApp):
    name = "jupyter-mlflow-groups"
    description = "Administer jupyter-mlflow-groups: status, gc, db-upgrade, demo."
    subcommands = {
        "status": (StatusCommand, StatusCommand.description),
        "gc": (GcCommand, GcCommand.description),
        "db-upgrade": (DbUpgradeCommand, DbUpgradeCommand.description),
        "demo": (DemoCommand, DemoCommand.description),
    }

    def start(self) -> None:
        if self.subapp is None:
            print(f"Say what to do: {', '.join(self.subcommands)} (--help for more).")
            self.exit(2)
        super().start()


_AGE = re.compile(
    r"^((?P<days>[.\d]+)d)?((?P<hours>[.\d]+)h)?((?P<minutes>[.\d]+)m)?((?P<seconds>[.\d]+)s)?$"
)


def parse_age(text: str) -> int:
    """MLflow's #d#h#m#s ages (`30d0h0m0s`, `12h`, `90s`) in milliseconds."""
    match = _AGE.match(text.strip())
    if not text.strip() or match is None or not any(match.groupdict().values()):
        raise ValueError(f"'{text}' is not an age like 30d0h0m0s, 12h or 90s")
    parts = {unit: float(value) for unit, value in match.groupdict().items() if value}
    return int(dt.timedelta(**parts).total_seconds() * 1000)


def _deleted_runs(store: str, older_than: str) -> list[tuple[str, str]]:
    """(run id, name) of runs deleted more than `older_than` ago: exactly what `mlflow gc`
    takes (its own store query, which MLflow keeps private)."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    tracking = SqlAlchemyStore(store, default_artifact_root=None)
    return [
        (run_id, tracking.get_run(run_id).info.run_name)
        for run_id in tracking._get_deleted_runs(older_than=parse_age(older_than))
    ]


def _run_mlflow_gc(
    store: str, tracking_uri: str, older_than: str, runs: list[str], token: str | None = None
) -> None:
    """`mlflow gc` of exactly the runs listed (artifacts included: through the tracking server
    when they are proxied, with its `token`)."""
    command = [sys.executable, "-m", "mlflow", "gc", "--backend-store-uri", store]
    command += ["--tracking-uri", tracking_uri, "--older-than", older_than]
    command += ["--run-ids", ",".join(runs)]
    env = {**os.environ, **({"MLFLOW_TRACKING_TOKEN": token} if token else {})}
    subprocess.run(command, check=True, env=env)


main = MlflowGroupsCommand.launch_instance
