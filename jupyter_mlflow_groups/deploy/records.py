"""Deployment records of one group: what serves what, where, and how it got there.

A sqlite file under the group's deployment root (`deployments.sqlite`): transactions keep a
record and its history consistent even when the server dies mid-write, and two Jupyter servers
sharing the root see the same records. Calls are blocking and short: the async side runs them in
a thread.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_SCHEMA = """
create table if not exists deployments (
    name text primary key,
    model text not null,
    version text not null,
    requested text not null,
    status text not null,
    release text,
    target text not null,
    updated_at text not null,
    updated_by text not null,
    message text
);
create table if not exists history (
    id integer primary key autoincrement,
    name text not null,
    at text not null,
    by text not null,
    model text not null,
    from_version text,
    to_version text not null,
    job text not null
);
"""
#: Columns added since the first files were written: (table, column, declaration).
_ADDED_COLUMNS = (
    ("deployments", "follow", "integer not null default 0"),  # redeploy when the alias moves
    ("history", "note", "text"),  # e.g. "followed @champion from v3 to v4"
)


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class DeploymentRecord:
    name: str
    model: str
    version: str
    requested: str
    status: str  # deploying, starting, serving, stopped, failed
    target: str
    updated_at: str
    updated_by: str
    release: str | None = None
    message: str | None = None
    follow: bool = False  # `requested` is an @alias, and the deployment follows it
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


#: Columns a record is made of (files written by earlier versions may hold more: a port).
_RECORD_FIELDS = frozenset(DeploymentRecord.__dataclass_fields__) - {"history"}


class DeploymentStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._transaction() as connection:
            connection.executescript(_SCHEMA)
            for table, column, declaration in _ADDED_COLUMNS:
                present = {row["name"] for row in connection.execute(f"pragma table_info({table})")}
                if column in present:
                    continue
                try:  # a file written by an earlier version
                    connection.execute(f"alter table {table} add column {column} {declaration}")
                except sqlite3.OperationalError as error:
                    if "duplicate column" not in str(error):  # added meanwhile by another opener
                        raise

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            connection = sqlite3.connect(self.path, timeout=30)
            connection.row_factory = sqlite3.Row
            try:
                with connection:  # commit, or roll back on an exception
                    yield connection
            finally:
                connection.close()

    def all(self) -> list[DeploymentRecord]:
        with self._transaction() as connection:
            rows = connection.execute("select * from deployments order by name").fetchall()
            return [self._record(connection, row) for row in rows]

    def get(self, name: str) -> DeploymentRecord | None:
        with self._transaction() as connection:
            row = connection.execute("select * from deployments where name = ?", (name,)).fetchone()
            return self._record(connection, row) if row else None

    def serving(self, model: str) -> dict[str, list[str]]:
        """`{version: [deployment names]}` for one model: the "Deployed By" of its versions."""
        with self._transaction() as connection:
            rows = connection.execute(
                "select name, version from deployments where model = ? and status != 'stopped' "
                "order by name",
                (model,),
            ).fetchall()
        served: dict[str, list[str]] = {}
        for row in rows:
            served.setdefault(row["version"], []).append(row["name"])
        return served

    def switch(
        self,
        record: DeploymentRecord,
        *,
        job: str,
        from_version: str | None,
        note: str | None = None,
    ) -> DeploymentRecord:
        """Store the record of a deployment that now serves a new version, with its history."""
        with self._transaction() as connection:
            connection.execute(
                "insert or replace into deployments (name, model, version, requested, status,"
                " release, target, updated_at, updated_by, message, follow)"
                " values (:name, :model, :version, :requested, :status, :release, :target,"
                " :updated_at, :updated_by, :message, :follow)",
                {k: v for k, v in record.to_json().items() if k != "history"},
            )
            connection.execute(
                "insert into history (name, at, by, model, from_version, to_version, job, note)"
                " values (?, ?, ?, ?, ?, ?, ?, ?)",
                (record.name, record.updated_at, record.updated_by, record.model, from_version,
                 record.version, job, note),
            )  # fmt: skip
            return self._record(
                connection,
                connection.execute(
                    "select * from deployments where name = ?", (record.name,)
                ).fetchone(),
            )

    def set_status(self, name: str, status: str, message: str | None = None) -> None:
        with self._transaction() as connection:
            connection.execute(
                "update deployments set status = ?, message = ? where name = ?",
                (status, message, name),
            )

    def set_message(self, name: str, message: str | None) -> None:
        """Say something of a deployment without changing its status (a follow that failed)."""
        with self._transaction() as connection:
            connection.execute("update deployments set message = ? where name = ?", (message, name))

    def delete(self, name: str) -> None:
        with self._transaction() as connection:
            connection.execute("delete from deployments where name = ?", (name,))
            connection.execute("delete from history where name = ?", (name,))

    @staticmethod
    def _record(connection: sqlite3.Connection, row: sqlite3.Row) -> DeploymentRecord:
        history = connection.execute(
            "select at, by, model, from_version, to_version, job, note from history"
            " where name = ? order by id desc",
            (row["name"],),
        ).fetchall()
        fields = {key: value for key, value in dict(row).items() if key in _RECORD_FIELDS}
        fields["follow"] = bool(fields.get("follow"))
        return DeploymentRecord(**fields, history=[dict(entry) for entry in history])
