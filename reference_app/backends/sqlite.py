"""SQLite backend: one database file, WAL, a small connection pool, ``BEGIN IMMEDIATE``.

Namespaces are a key prefix: one set of tables per file (``ledger_cards``), whose rows
lead with an ``ns`` column in every primary key, unique constraint and index. A new
namespace costs no DDL at all, which matters because the parity harness makes one per
Hypothesis example. Rejected alternatives: a table-name prefix per namespace (measured:
every ``CREATE TABLE`` makes each pooled connection re-parse the whole growing schema,
70 ms per new namespace by the 600th), and ATTACHed databases (a per-connection
``ATTACH`` for every namespace a pooled connection may serve, capped at 10 per
connection by default, and commits spanning files).

Concurrency: WAL lets readers run alongside the one writer; every write transaction
starts with ``BEGIN IMMEDIATE`` so it takes the write lock up front (no deadlock-prone
read-to-write upgrade), and ``busy_timeout`` makes concurrent writers queue instead of
failing. Connections are pooled per database file and shared by every namespace on it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from reference_app.backends.sql import SQLITE, Database, Executor, SqlBackend
from reference_app.backends.sql.dialect import namespace_ident
from reference_app.service_layer.unit_of_work import BackendUnavailable
from reference_app.settings import Settings

BUSY_TIMEOUT_MS = 30_000
MAX_IDLE_CONNECTIONS = 8
_UNAVAILABLE = ("locked", "busy", "unable to open", "disk i/o", "readonly", "read-only")


def database_path(url: str | None) -> str:
    """``sqlite:///relative.db`` or ``sqlite:////absolute.db`` -> the file path."""
    if not url or not url.startswith("sqlite:///"):
        raise ValueError(f"the sqlite backend needs --database-url sqlite:///path.db (got {url!r})")
    path = url.removeprefix("sqlite:///")
    if not path or path == ":memory:":
        raise ValueError("the sqlite backend needs a file path: connections share one file")
    return path


def _unavailable(exc: sqlite3.Error) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and any(
        word in str(exc).lower() for word in _UNAVAILABLE
    )


class _Cursor:
    """The :class:`Executor` over one sqlite3 connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params).fetchall()

    def execute_batch(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[int]:
        # In-process: no round trips to save; stop at the first failed condition.
        counts = []
        for sql, params in statements:
            counts.append(self.execute(sql, params))
            if counts[-1] != 1:
                break
        return counts + [0] * (len(statements) - len(counts))


class _Pool:
    """Connections to one file, reused across threads (``check_same_thread=False``;
    a connection is only ever used by the thread that checked it out)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.refs = 0
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,  # autocommit: transactions are explicit BEGINs
                check_same_thread=False,
                cached_statements=256,
            )
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # durable enough with WAL
        except sqlite3.Error as exc:
            raise BackendUnavailable(f"sqlite database {self.path}: {exc}") from exc
        return conn

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:  # never hand back a connection mid-transaction
                conn.close()
                raise
            self._release(conn)
            raise
        self._release(conn)

    def _release(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE_CONNECTIONS and self.refs > 0:
                self._idle.append(conn)
                return
        conn.close()

    def close_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


_POOLS: dict[str, _Pool] = {}
_POOLS_LOCK = threading.Lock()


def _acquire_pool(path: str) -> _Pool:
    key = str(Path(path).resolve())
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            pool = _POOLS[key] = _Pool(path)
        pool.refs += 1
        return pool


def _release_pool(pool: _Pool) -> None:
    with _POOLS_LOCK:
        pool.refs -= 1
        if pool.refs > 0:
            return
        _POOLS.pop(str(Path(pool.path).resolve()), None)
    pool.close_idle()


class SqliteDatabase(Database):
    dialect = SQLITE

    def __init__(self, path: str) -> None:
        self.path = path
        self._pool = _acquire_pool(path)
        self._closed = False

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._pool.connection() as conn:
                return conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            if _unavailable(exc):
                raise BackendUnavailable(f"sqlite: {exc}") from exc
            raise

    @contextmanager
    def transaction(self) -> Iterator[Executor]:
        try:
            with self._pool.connection() as conn:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield _Cursor(conn)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if _unavailable(exc):
                raise BackendUnavailable(f"sqlite: {exc}") from exc
            raise

    def migration_transaction(self, ns_ident: str) -> AbstractContextManager[Executor]:
        # BEGIN IMMEDIATE already serialises every writer of the file, migrators included.
        return self.transaction()

    def ping(self) -> None:
        self.query("SELECT 1")

    def server_version(self) -> str:
        return sqlite3.sqlite_version

    def reopen(self) -> SqliteDatabase:
        return SqliteDatabase(self.path)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _release_pool(self._pool)


class SqliteBackend(SqlBackend):
    name = "sqlite"

    @classmethod
    def from_settings(cls, settings: Settings, *, migrate: bool = True) -> SqliteBackend:
        """Open the file's shared pool and, unless told not to, migrate the namespace."""
        db = SqliteDatabase(database_path(settings.database_url))
        try:
            return cls(
                db,
                namespace_ident(settings.table_prefix, ""),  # namespaces: an ns column
                namespace=settings.namespace,
                migrate_now=migrate,
            )
        except BaseException:
            db.close()
            raise


def migrate_database(settings: Settings) -> list[int]:
    """Apply pending migrations to the settings' namespace (for a ``migrate`` command)."""
    backend = SqliteBackend.from_settings(settings, migrate=False)
    try:
        return backend.migrate()
    finally:
        backend.close()
