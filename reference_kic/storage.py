"""SQLite storage of the reference KIC: one file, WAL, one connection per thread.

Every resource is a table with its ``uuid``, the stored representation as JSON (``data``,
local relations held as uuids) and a few indexed columns the API filters, joins or checks
uniqueness on; the kinds (kinds.py) declare them and their indexes. Foreign keys cascade like
the reference's, except verzoekinformatieobjecten: their rows may only disappear through the
kic-001 service, so deleting a verzoek that still has one fails loudly instead of silently
skipping the DRC.

Several gunicorn workers share the file; writes that check uniqueness run inside
``BEGIN IMMEDIATE`` so they are serialised across processes. Writers queue on a lock first
(a thread lock, and ``flock`` on ``<db>-writelock`` between processes): SQLite's own busy
handler polls with sleeps of up to 100 ms, which turned write contention into p99 latency.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading

try:
    import fcntl
except ImportError:  # not POSIX: SQLite's busy handler alone serialises the processes
    fcntl = None  # type: ignore[assignment]
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from .kinds import KINDS, MIRRORED, Kind

#: table -> its extra columns (the data keys they mirror have the same name).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    kind.collection: kind.columns for kind in KINDS.values()
}

_COMMON_COLUMNS = (
    "seq INTEGER PRIMARY KEY AUTOINCREMENT",
    "uuid TEXT NOT NULL UNIQUE",
    "hidden INTEGER NOT NULL DEFAULT 0",
    "data TEXT NOT NULL",
)
#: The kic-001 bookkeeping of a verzoekinformatieobject (see drc_sync.py): ``sync`` is NULL
#: once the DRC mirror is confirmed, 'mirror' while it must be made or checked, 'unmirror'
#: while the row (hidden) waits for its mirror to go. A row inserted by any other means than
#: the service gets 'mirror' by default, so the reconciler mirrors it too. ``sync_due`` and
#: ``sync_attempts``: the reconciler's back-off for a row whose DRC work keeps failing.
_SYNC_COLUMNS = {
    "sync": "TEXT DEFAULT 'mirror'",
    "sync_owner": "TEXT",
    "sync_since": "REAL",
    "sync_due": "REAL",
    "sync_attempts": "INTEGER NOT NULL DEFAULT 0",
}
_SYNC_INDEXES = (
    f"CREATE INDEX IF NOT EXISTS vio_sync ON {MIRRORED.collection}(sync) WHERE sync IS NOT NULL;"
    f"CREATE INDEX IF NOT EXISTS vio_sync_due ON {MIRRORED.collection}(sync_due) "
    "WHERE sync IS NOT NULL;"
)
#: Pairs (mirror object, document) whose DRC mirrors the reconciler compares with the rows once
#: the DRC had time to finish what was under way (``due``): a delete that overtook a create in
#: progress may have missed a mirror the DRC was still writing (see drc_sync.py).
TOUCHED_TABLE = "vio_touched"
_TOUCHED_SQL = (
    f"CREATE TABLE IF NOT EXISTS {TOUCHED_TABLE} (mirror_object TEXT NOT NULL, "
    "informatieobject TEXT NOT NULL, due REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
    "PRIMARY KEY (mirror_object, informatieobject));\n"
    f"CREATE INDEX IF NOT EXISTS vio_touched_due ON {TOUCHED_TABLE}(due);\n"
)


def _column_sql(kind: Kind, name: str) -> str:
    """A column of its own for a data key; a link references its target (ON DELETE: above)."""
    sql = f"{name} TEXT" if name in kind.nullable else f"{name} TEXT NOT NULL"
    if name in kind.links:
        on_delete = "RESTRICT" if kind.drc_mirrored else "CASCADE"
        sql += f" REFERENCES {kind.links[name]}(uuid) ON DELETE {on_delete}"
    return sql


def _table_sql(kind: Kind) -> str:
    """CREATE TABLE and CREATE INDEX statements of one kind (for a new or older file)."""
    columns = [*_COMMON_COLUMNS, *(_column_sql(kind, name) for name in kind.columns)]
    if kind.drc_mirrored:
        columns += [f"{name} {sql_type}" for name, sql_type in _SYNC_COLUMNS.items()]
    statements = [f"CREATE TABLE IF NOT EXISTS {kind.collection} ({', '.join(columns)})"]
    statements += [
        f"CREATE INDEX IF NOT EXISTS {index} ON {kind.collection}({', '.join(indexed)})"
        for index, indexed in kind.indexes.items()
    ]
    return ";\n".join(statements) + ";\n"


_SCHEMA = "".join(_table_sql(kind) for kind in KINDS.values()) + _TOUCHED_SQL


class Duplicate(NamedTuple):
    """A row that already holds the values a new or changed row wants for itself."""

    uuid: str
    hidden: bool


class StorageError(Exception):
    """The database could not be opened or prepared; the message names the file."""


def _row_to_dict(row: tuple[str, str]) -> dict[str, Any]:
    data = json.loads(row[1])
    data["uuid"] = row[0]
    return data


def _add_sync_columns(conn: sqlite3.Connection) -> None:
    """Bring a database made before the kic-001 bookkeeping up to date.

    Existing rows get sync 'mirror' (their mirrors are checked once by the reconciler),
    hidden ones 'unmirror' (a delete that was interrupted).
    """
    # Inside one write transaction: several gunicorn workers may open an old file at once.
    with _immediate(conn):
        table = MIRRORED.collection
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for name, sql_type in _SYNC_COLUMNS.items():
            if name not in present:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}")
        if "sync" not in present:
            # Hidden meant "being deleted" before: finish those deletes.
            conn.execute(f"UPDATE {table} SET sync = 'unmirror' WHERE hidden != 0")
        for statement in _SYNC_INDEXES.split(";"):
            if statement.strip():
                conn.execute(statement)


@contextlib.contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """A ``BEGIN IMMEDIATE`` transaction, committed unless the block raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class Store:
    """Thread-safe access to the KIC database file (a connection per thread and process)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._lock_file: tuple[int, int] | None = None  # (pid, fd) of the flock file
        try:
            with contextlib.closing(self._connect()) as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
                _add_sync_columns(conn)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot use database file {path!r}: {exc}") from None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (a fresh one after a fork: connections never cross it)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.conn = self._connect()
            local.pid = os.getpid()
        return local.conn

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken with BEGIN IMMEDIATE; committed unless the block raises."""
        conn = self.conn
        with self._write_lock, self._process_lock(), _immediate(conn):
            yield conn

    @contextlib.contextmanager
    def _process_lock(self) -> Iterator[None]:
        """``flock`` on a file of its own per process (an inherited one would be shared)."""
        fd = self._lock_fd()
        if fd is None:
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _lock_fd(self) -> int | None:
        if fcntl is None:
            return None
        if self._lock_file is None or self._lock_file[0] != os.getpid():
            try:
                fd = os.open(f"{self.path}-writelock", os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                return None  # e.g. a read-only directory: SQLite's busy handler still works
            self._lock_file = (os.getpid(), fd)
        return self._lock_file[1]

    # -- reads ------------------------------------------------------------------------------
    def get(self, table: str, uuid: str, *, include_hidden: bool = False) -> dict[str, Any] | None:
        """One row as its stored dict (plus ``uuid``), or None."""
        hidden = "" if include_hidden else " AND hidden = 0"
        row = self.conn.execute(
            f"SELECT uuid, data FROM {table} WHERE uuid = ?{hidden}", (uuid,)
        ).fetchone()
        return _row_to_dict(row) if row else None

    def exists(self, table: str, uuid: str) -> bool:
        """True when a visible row with this uuid exists."""
        sql = f"SELECT 1 FROM {table} WHERE uuid = ? AND hidden = 0"
        return self.conn.execute(sql, (uuid,)).fetchone() is not None

    def list(
        self, table: str, where: Mapping[str, Any] | None = None, *, include_hidden: bool = False
    ) -> list[dict[str, Any]]:
        """Visible rows in insertion order, filtered on exact column values."""
        clauses = [] if include_hidden else ["hidden = 0"]
        params: list[Any] = []
        for column, value in (where or {}).items():
            clauses.append(f"{column} = ?")
            params.append(value)
        sql = f"SELECT uuid, data FROM {table}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY seq"
        return [_row_to_dict(row) for row in self.conn.execute(sql, params)]

    def list_linked(
        self, table: str, chain: list[tuple[str, str]], uuid: str
    ) -> list[dict[str, Any]]:
        """Rows of ``table`` (hidden ones too) whose ``chain`` of links ends at row ``uuid``.

        ``chain`` as :func:`~reference_kic.kinds.link_chain` gives it: (field, target) pairs.
        """
        sql = f"SELECT t0.uuid, t0.data FROM {table} t0"
        for step, (name, target) in enumerate(chain[:-1]):
            sql += f" JOIN {target} t{step + 1} ON t{step + 1}.uuid = t{step}.{name}"
        last = len(chain) - 1
        sql += f" WHERE t{last}.{chain[-1][0]} = ? ORDER BY t0.seq"
        return [_row_to_dict(row) for row in self.conn.execute(sql, (uuid,))]

    @staticmethod
    def duplicate(
        conn: sqlite3.Connection,
        table: str,
        values: Mapping[str, Any],
        other_than: str | None = None,
    ) -> Duplicate | None:
        """A row (hidden ones too) other than ``other_than`` with these column ``values``."""
        clauses = " AND ".join(f"{column} = ?" for column in values)
        row = conn.execute(
            f"SELECT uuid, hidden FROM {table} WHERE {clauses} AND uuid IS NOT ? LIMIT 1",
            (*values.values(), other_than),
        ).fetchone()
        return Duplicate(row[0], bool(row[1])) if row else None

    # -- writes (inside ``write()``) -----------------------------------------------------------
    @staticmethod
    def insert(conn: sqlite3.Connection, table: str, uuid: str, data: Mapping[str, Any]) -> None:
        columns = TABLE_COLUMNS[table]
        names = ", ".join(("uuid", "data", *columns))
        marks = ", ".join("?" * (2 + len(columns)))
        values = [uuid, json.dumps(data), *(data.get(c) for c in columns)]
        conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)

    @staticmethod
    def update(conn: sqlite3.Connection, table: str, uuid: str, data: Mapping[str, Any]) -> None:
        columns = TABLE_COLUMNS[table]
        assignments = ", ".join(f"{c} = ?" for c in ("data", *columns))
        values = [json.dumps(data), *(data.get(c) for c in columns), uuid]
        conn.execute(f"UPDATE {table} SET {assignments} WHERE uuid = ?", values)

    @staticmethod
    def delete(conn: sqlite3.Connection, table: str, uuid: str) -> None:
        conn.execute(f"DELETE FROM {table} WHERE uuid = ?", (uuid,))

    @staticmethod
    def set_hidden(conn: sqlite3.Connection, table: str, uuids: list[str], hidden: bool) -> None:
        conn.executemany(
            f"UPDATE {table} SET hidden = ? WHERE uuid = ?", [(int(hidden), u) for u in uuids]
        )
