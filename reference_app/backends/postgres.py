"""PostgreSQL backend: psycopg 3, a ``psycopg_pool`` pool shared per database URL.

Namespaces are schemas (``CREATE SCHEMA IF NOT EXISTS ledger_<ns>``) migrated on
start-up; every statement names its tables schema-qualified, so one pool per URL serves
every namespace without ``SET search_path`` round trips, and a harness that builds one
app instance per Hypothesis example does not open a pool (and connections) per example.
``close()`` therefore leaves the shared pool open; :func:`close_pools` (called by the
engines' ``stop()`` and at exit) closes it.

Isolation level: READ COMMITTED, the server default, on purpose. Reads are not part of a
commit (the port's design), and every write carries its own condition that PostgreSQL
evaluates atomically with the write: ``UPDATE ... WHERE id = %s AND version = %s`` waits
for a concurrent writer of the same row and then re-checks the WHERE clause against the
row that writer committed, so of N racing updates of one version exactly one matches and
the rest see rowcount 0 (a :class:`CommitConflict`); inserts are guarded by unique
constraints with ``ON CONFLICT DO NOTHING``, which likewise waits for the other
transaction and then reports 0 rows. REPEATABLE READ or SERIALIZABLE would add nothing
to that guarantee but would turn ordinary races into serialization failures and retries.
Should the server still abort a transaction (deadlock, serialization failure: SQLSTATE
class 40), the unit of work runs the same statements again (nothing was written); only
when that keeps failing does it surface as a CommitConflict.
"""

from __future__ import annotations

import atexit
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from reference_app.backends.sql import POSTGRES, Database, Executor, SqlBackend
from reference_app.backends.sql.database import TransactionAborted
from reference_app.backends.sql.dialect import namespace_ident, quote_ident
from reference_app.service_layer.unit_of_work import BackendUnavailable
from reference_app.settings import Settings

POOL_MIN_SIZE = 1
POOL_MAX_SIZE = 20
CONNECT_TIMEOUT_S = 10.0  # waiting for a pooled connection (server down -> unavailable)
READY_TIMEOUT_S = 3.0  # readiness must answer quickly
_MIGRATION_LOCK_CLASS = 0x5041  # advisory lock key space of this app ("PA")

_UNAVAILABLE_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout)


def normalise_url(url: str | None) -> str:
    """Accept ``postgresql://``, ``postgres://`` and SQLAlchemy-style ``+driver`` URLs."""
    if not url:
        raise ValueError("the postgres backend needs --database-url postgresql://...")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+")[0] not in {"postgresql", "postgres"}:
        raise ValueError(f"not a PostgreSQL URL: {url!r}")
    return f"postgresql://{rest}"


def schema_name(settings: Settings) -> str:
    """The schema that holds ``settings.namespace`` (``ledger`` or ``ledger_<ns>``)."""
    return namespace_ident(settings.table_prefix, settings.namespace)


# --- one pool per database URL ------------------------------------------------------------

_POOLS: dict[str, ConnectionPool] = {}
_POOLS_LOCK = threading.Lock()


def shared_pool(url: str) -> ConnectionPool:
    """The process-wide pool for ``url``, opened on first use."""
    with _POOLS_LOCK:
        pool = _POOLS.get(url)
        if pool is None or pool.closed:
            pool = ConnectionPool(
                url,
                min_size=POOL_MIN_SIZE,
                max_size=POOL_MAX_SIZE,
                timeout=CONNECT_TIMEOUT_S,
                kwargs={"autocommit": True},  # reads are single statements; writes BEGIN
                name=f"reference-app-{len(_POOLS)}",
                open=True,
            )
            _POOLS[url] = pool
        return pool


def close_pools(url: str | None = None) -> None:
    """Close the shared pool of ``url`` (every pool when ``None``)."""
    with _POOLS_LOCK:
        urls = list(_POOLS) if url is None else [url]
        pools = [_POOLS.pop(u) for u in urls if u in _POOLS]
    for pool in pools:
        pool.close(timeout=2.0)


atexit.register(close_pools)


# --- NUL in text ----------------------------------------------------------------------------
# PostgreSQL text cannot hold U+0000; memory, SQLite and DynamoDB can, so a name or an id
# with a NUL in it must not turn into a 5xx on this backend alone. Every string parameter
# goes through a reversible, order-preserving escape (a prefix-free code whose code words
# sort like the characters they stand for, so ``ORDER BY id`` under the "C" collation is
# unchanged): U+0000 -> U+0001 U+0001, U+0001 -> U+0001 U+0002. Strings without either
# character, i.e. all ordinary ones, pass through untouched.

_ESCAPE = str.maketrans({"\x00": "\x01\x01", "\x01": "\x01\x02"})
_ESCAPED = re.compile("\x01([\x01\x02])")


def escape_text(value: str) -> str:
    if "\x00" in value or "\x01" in value:
        return value.translate(_ESCAPE)
    return value


def unescape_text(value: str) -> str:
    if "\x01" not in value:
        return value
    return _ESCAPED.sub(lambda m: "\x00" if m[1] == "\x01" else "\x01", value)


def _params(params: Sequence[Any]) -> Sequence[Any] | None:
    if not params:
        return None
    return [escape_text(p) if isinstance(p, str) else p for p in params]


def _rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [tuple(unescape_text(v) if isinstance(v, str) else v for v in row) for row in rows]


# --- the Database over psycopg ---------------------------------------------------------


class _PgExecutor:
    """Statements in a transaction on a connection in pipeline mode: a commit's change
    set is BEGIN + all its statements in one round trip, then COMMIT or ROLLBACK in a
    second one, instead of one round trip per statement."""

    def __init__(self, conn: psycopg.Connection[Any], pipeline: psycopg.Pipeline) -> None:
        self._conn = conn
        self._pipeline = pipeline

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.execute_batch([(sql, params)])[0]

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self._conn.cursor()
        cur.execute(sql, _params(params))
        self._pipeline.sync()
        return _rows(cur.fetchall())

    def execute_batch(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[int]:
        cursors = []
        for sql, params in statements:
            cur = self._conn.cursor()
            cur.execute(sql, _params(params))
            cursors.append(cur)
        self._pipeline.sync()
        return [cur.rowcount for cur in cursors]


class PostgresDatabase(Database):
    dialect = POSTGRES

    def __init__(self, url: str) -> None:
        self.url = url
        self._pool = shared_pool(url)
        self._version: str | None = None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._pool.connection() as conn:
                return _rows(conn.execute(sql, _params(params)).fetchall())
        except _UNAVAILABLE_ERRORS as exc:
            raise BackendUnavailable(f"postgres: {_first_line(exc)}") from exc

    @contextmanager
    def transaction(self) -> Iterator[Executor]:
        try:
            with self._pool.connection() as conn, conn.pipeline() as pipe, conn.transaction():
                yield _PgExecutor(conn, pipe)
        except psycopg.Error as exc:
            # SQLSTATE class 40 (serialization failure, deadlock): psycopg's
            # SerializationFailure is not a TransactionRollback subclass, so match the code
            if (exc.sqlstate or "").startswith("40"):
                raise TransactionAborted(_first_line(exc)) from exc
            if isinstance(exc, _UNAVAILABLE_ERRORS):
                raise BackendUnavailable(f"postgres: {_first_line(exc)}") from exc
            raise
        except _UNAVAILABLE_ERRORS as exc:
            raise BackendUnavailable(f"postgres: {_first_line(exc)}") from exc

    @contextmanager
    def migration_transaction(self, ns_ident: str) -> Iterator[Executor]:
        with self.transaction() as ex:
            # Serialise migrators of this schema (CREATE SCHEMA IF NOT EXISTS itself
            # races on the catalog's unique index when two processes start at once).
            ex.query(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                (_MIGRATION_LOCK_CLASS, ns_ident),
            )
            ex.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(ns_ident)}")
            yield ex

    def ping(self) -> None:
        try:
            with self._pool.connection(timeout=READY_TIMEOUT_S) as conn:
                conn.execute("SELECT 1").fetchone()
        except _UNAVAILABLE_ERRORS as exc:
            raise BackendUnavailable(f"postgres: {_first_line(exc)}") from exc

    def server_version(self) -> str:
        if self._version is None:
            rows = self.query("SHOW server_version")
            self._version = str(rows[0][0])
        return self._version

    def reopen(self) -> PostgresDatabase:
        return PostgresDatabase(self.url)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


class PostgresBackend(SqlBackend):
    name = "postgres"

    @classmethod
    def from_settings(cls, settings: Settings, *, migrate: bool = True) -> PostgresBackend:
        """Use the URL's shared pool and, unless told not to, migrate the namespace."""
        db = PostgresDatabase(normalise_url(settings.database_url))
        return cls(db, schema_name(settings), namespace=settings.namespace, migrate_now=migrate)


def migrate_database(settings: Settings) -> list[int]:
    """Apply pending migrations to the settings' namespace (for a ``migrate`` command)."""
    return PostgresBackend.from_settings(settings, migrate=False).migrate()
