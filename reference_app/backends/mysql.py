"""MySQL / MariaDB backend: the shared SQL layer in the MySQL dialect, over PyMySQL.

**Driver: PyMySQL.** Pure Python, no compiler, no ``libmariadb``/``libmysqlclient``
headers: ``pip install`` works wherever the rest of the app does, which is the point of
an optional backend. The alternatives on PyPI build C code: mysqlclient needs a C
toolchain and the client library's headers, MariaDB Connector/Python (``mariadb``)
needs Connector/C and ``mariadb_config``; mysql-connector-python is Oracle's and tracks
MySQL, not MariaDB. PyMySQL speaks to both servers. Its cost is not where the time goes
(the C drivers were not measured here): ``python benchmarks/bench_backends.py`` on this
2-core shared machine measured a purchase-shaped commit (BEGIN, 4 conditional writes,
COMMIT) at 285 commits/s on one thread, p50 0.9 ms, against the throwaway MariaDB 10.11
of ``mysql@local`` (PostgreSQL 15 through psycopg's pipeline: 242/s, p50 1.6 ms; SQLite
in-process: 757/s); that is six loopback round trips more than Python. PyMySQL
interpolates parameters on the client: every value goes through its escaping, never
string formatting of ours.

**Reference semantics chosen explicitly** (every session, whatever the server defaults):

- *Collation*: every text column is ``utf8mb4`` in a binary NO PAD collation
  (``utf8mb4_nopad_bin`` on MariaDB, ``utf8mb4_0900_bin`` on MySQL 8): e-mails and ids
  compare and are unique case- and accent-sensitively, trailing spaces count, and
  ``ORDER BY`` is code-point order — like Python, SQLite's ``BINARY`` and PostgreSQL's
  ``"C"``. The server default (``utf8mb4_general_ci``) would make ``Ada@x.io`` and
  ``ada@x.io`` one account and ``card_01ABC`` findable as ``card_01abc``.
- *Isolation*: ``READ COMMITTED`` (the server default is ``REPEATABLE READ``), for the
  reason the PostgreSQL backend gives: reads are not part of a commit, and every write
  carries its own condition, which InnoDB evaluates on the latest committed row
  (``UPDATE ... WHERE id = %s AND version = %s`` waits for a concurrent writer of the
  row and then re-checks; a duplicate key waits for the other inserter). Under
  ``REPEATABLE READ`` the same writes would be as safe, but the reason lookup after a
  failed condition (``SELECT`` in the same transaction) could read an older snapshot
  than the write that beat it, and next-key locks turn unrelated inserts into deadlocks.
  Connections are ``autocommit``: a pooled connection never sits in an open
  transaction whose snapshot would make later reads stale. A deadlock (1213, SQLSTATE
  ``40001``: InnoDB rolled the transaction back) is run again by the unit of work, as
  PostgreSQL's serialization failures are; lock-wait timeouts surface as
  :class:`CommitConflict`, retried like any lost race.
- *Precision*: timestamps are ``DATETIME(6)`` holding UTC (microseconds, like every other
  backend; ``DATETIME`` alone rounds to seconds), and the session ``time_zone`` is
  ``+00:00`` so nothing is ever converted.
- *Strictness*: ``sql_mode`` is ``STRICT_ALL_TABLES`` (+ ``NO_ZERO_DATE``,
  ``ERROR_FOR_DIVISION_BY_ZERO``, ``NO_ENGINE_SUBSTITUTION``): a value that does not
  fit is an error, never a silent truncation; ``ANSI_QUOTES`` lets the shared SQL quote
  identifiers with ``"``. ``default_storage_engine`` is InnoDB (MyISAM has no
  transactions: a commit would not be atomic).
- *Ids*: stored byte-identical (``utf8mb4``, binary collation, no padding, no case
  folding): what the app minted is what every read returns.
- *Insert-if-absent*: MySQL has no ``ON CONFLICT DO NOTHING``; a plain ``INSERT`` whose
  duplicate-key error (1062) the executor reports as "0 rows written". InnoDB rolls back
  only that statement, so the reason lookup still runs in the transaction, and no
  ``INSERT IGNORE`` (which would also downgrade strict-mode errors to warnings).

**Namespaces** are a key prefix, as on SQLite: one set of tables per database whose
rows lead with an ``ns`` column in every key and index, so a new namespace costs no DDL.
Measured and rejected: a database per namespace (``CREATE DATABASE`` + the tables and
indexes) cost 233 ms to create and 54 ms to drop on a local MariaDB 10.11 (477 ms with
``innodb_file_per_table=0``), per Hypothesis example; the ``ns`` column costs nothing to
create and a few ``DELETE``\\ s to drop. The database is the URL's
(``mysql://user:pw@host:3306/dbname``), else one named after the table prefix
(``ledger``), created if missing with the binary collation as its default.

Schema migrations: MySQL commits every DDL statement on its own, so a migration is
serialised across processes by a named lock (``GET_LOCK``) but is not atomic: a failed
migration must be finished by hand. Connections are pooled per URL and shared by every
namespace; ``close()`` leaves the pool open, :func:`close_pools` closes it.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pymysql
from pymysql.constants import CLIENT

from reference_app.backends.sql import Database, Executor, SqlBackend
from reference_app.backends.sql.database import TransactionAborted
from reference_app.backends.sql.dialect import (
    MARIADB_COLLATION,
    MYSQL_COLLATION,
    Dialect,
    mysql_dialect,
    namespace_ident,
    quote_ident,
)
from reference_app.service_layer.unit_of_work import BackendUnavailable, CommitConflict
from reference_app.settings import Settings

SQL_MODE = (
    "STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ENGINE_SUBSTITUTION,ANSI_QUOTES"
)
ISOLATION = "READ COMMITTED"
CONNECT_TIMEOUT_S = 10
READ_TIMEOUT_S = 60  # a hung server is unavailable, not a hung request
MAX_IDLE_CONNECTIONS = 16
MIGRATION_LOCK_TIMEOUT_S = 60
#: The ``ns`` column is VARCHAR(191): longer namespaces are stored as a slug + hash.
MAX_NAMESPACE = 191

ER_DUP_ENTRY = 1062
ER_LOCK_WAIT_TIMEOUT = 1205
ER_LOCK_DEADLOCK = 1213
ER_CHECKREAD = 1020  # MariaDB >= 10.6 "Record has changed since last read"
ER_BAD_DB_ERROR = 1049
_CONFLICTS = {ER_LOCK_WAIT_TIMEOUT, ER_CHECKREAD}
_SCHEMES = {"mysql", "mariadb"}


@dataclass(frozen=True)
class ConnectParams:
    host: str
    port: int
    user: str
    password: str
    database: str | None
    unix_socket: str | None = None

    def kwargs(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "unix_socket": self.unix_socket,
        }


def parse_url(url: str | None) -> ConnectParams:
    """``mysql://user:pw@host:port/db`` (also ``mariadb://``, ``mysql+pymysql://``,
    ``?unix_socket=/path``); the database may be omitted."""
    if not url:
        raise ValueError("the mysql backend needs --database-url mysql://user@host:port/db")
    scheme = url.partition("://")[0]
    if "://" not in url or scheme.split("+")[0] not in _SCHEMES:
        raise ValueError(f"not a MySQL URL: {url!r}")
    parts = urlsplit(url)
    database = unquote(parts.path.lstrip("/")) or None
    query = parse_qs(parts.query)
    socket_path = query.get("unix_socket", [None])[0]
    return ConnectParams(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
        database=database,
        unix_socket=socket_path,
    )


def normalise_url(url: str | None) -> str:
    """Check the URL and give it back (pools are keyed by it)."""
    parse_url(url)
    assert url is not None
    return url


def namespace_key(namespace: str) -> str:
    """The ``ns`` column value of a namespace (itself when short enough)."""
    if len(namespace) <= MAX_NAMESPACE:
        return namespace
    return namespace[:120] + "~" + hashlib.sha256(namespace.encode()).hexdigest()


def _first_line(exc: BaseException) -> str:
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) == 2 and isinstance(args[0], int):  # PyMySQL: (errno, message)
        message = (str(args[1]).strip().splitlines() or [""])[0]
        return f"({args[0]}) {message}"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _errno(exc: BaseException) -> int | None:
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


_UNAVAILABLE = (pymysql.err.OperationalError, pymysql.err.InterfaceError, OSError)


# --- one pool per URL ------------------------------------------------------------------------


class _Pool:
    """PyMySQL connections to one URL, shared by every namespace (a connection is used by
    one thread at a time; PyMySQL connections are not thread-safe)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.params = parse_url(url)
        self._idle: list[pymysql.connections.Connection[Any]] = []
        self._lock = threading.Lock()
        self.closed = False
        self.version = ""
        self.database = ""
        self.dialect: Dialect = mysql_dialect()

    def open(self, default_database: str) -> None:
        """Learn the server flavour (its binary collation) and make sure the database
        exists, with that collation as its default."""
        self.database = self.params.database or default_database
        conn = self._connect(database=None)
        try:
            self._prepare(conn)
        except _UNAVAILABLE as exc:
            raise BackendUnavailable(f"mysql: {_first_line(exc)}") from exc
        finally:
            conn.close()

    def _prepare(self, conn: pymysql.connections.Connection[Any]) -> None:
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            row = cur.fetchone()
            self.version = str(row[0]) if row else "unknown"
            collation = server_collation(self.version)
            self.dialect = mysql_dialect(collation)
            try:
                cur.execute(f"USE {quote_ident(self.database)}")
            except pymysql.err.OperationalError as exc:
                if _errno(exc) != ER_BAD_DB_ERROR:
                    raise
                cur.execute(
                    f"CREATE DATABASE IF NOT EXISTS {quote_ident(self.database)} "
                    f"CHARACTER SET utf8mb4 COLLATE {collation}"
                )

    def _connect(self, database: str | None = "") -> pymysql.connections.Connection[Any]:
        try:
            conn = pymysql.connect(
                **self.params.kwargs(),
                database=self.database if database == "" else database,
                charset="utf8mb4",
                sql_mode=SQL_MODE,
                init_command=("SET SESSION time_zone = '+00:00', default_storage_engine = InnoDB"),
                client_flag=CLIENT.FOUND_ROWS,  # UPDATE rowcount = rows matched
                autocommit=True,  # reads see committed data; writes BEGIN explicitly
                connect_timeout=CONNECT_TIMEOUT_S,
                read_timeout=READ_TIMEOUT_S,
                write_timeout=READ_TIMEOUT_S,
            )
            with conn.cursor() as cur:
                cur.execute(f"SET SESSION TRANSACTION ISOLATION LEVEL {ISOLATION}")
        except _UNAVAILABLE as exc:
            raise BackendUnavailable(f"mysql: {_first_line(exc)}") from exc
        return conn

    @contextmanager
    def connection(self) -> Iterator[pymysql.connections.Connection[Any]]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        except _UNAVAILABLE:
            conn.close()  # a broken connection never goes back
            raise
        except BaseException:
            self._release(conn)
            raise
        self._release(conn)

    def _release(self, conn: pymysql.connections.Connection[Any]) -> None:
        with self._lock:
            if not self.closed and len(self._idle) < MAX_IDLE_CONNECTIONS and conn.open:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            self.closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(Exception):  # a dead socket may complain
                conn.close()


def server_collation(version: str) -> str:
    """The binary NO PAD collation of the server flavour ``version`` names."""
    return MARIADB_COLLATION if "mariadb" in version.lower() else MYSQL_COLLATION


#: (url, database when the URL names none) -> pool
_POOLS: dict[tuple[str, str], _Pool] = {}
_POOLS_LOCK = threading.Lock()


def shared_pool(url: str, default_database: str = "ledger") -> _Pool:
    """The process-wide pool for ``url``, opened on first use."""
    key = (url, default_database)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None or pool.closed:
            pool = _Pool(url)
            pool.open(default_database)
            _POOLS[key] = pool
        return pool


def close_pools(url: str | None = None) -> None:
    """Close the shared pools of ``url`` (every pool when ``None``)."""
    with _POOLS_LOCK:
        keys = [k for k in _POOLS if url is None or k[0] == url]
        pools = [_POOLS.pop(k) for k in keys]
    for pool in pools:
        pool.close()


atexit.register(close_pools)


# --- the Database over PyMySQL ----------------------------------------------------------------


class _Executor:
    def __init__(self, conn: pymysql.connections.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._conn.cursor() as cur:
            try:
                return int(cur.execute(sql, tuple(params) or None))
            except pymysql.err.IntegrityError as exc:
                if _errno(exc) == ER_DUP_ENTRY:
                    return 0  # insert-if-absent: the key exists, nothing written
                raise

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._conn.cursor() as cur:
            cur.execute(sql, tuple(params) or None)
            return list(cur.fetchall())

    def execute_batch(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[int]:
        # One round trip each (no pipelining in the protocol); stop at the first failed
        # condition: the unit of work rolls back anyway.
        counts: list[int] = []
        for sql, params in statements:
            counts.append(self.execute(sql, params))
            if counts[-1] != 1:
                break
        return counts + [0] * (len(statements) - len(counts))


class MysqlDatabase(Database):
    def __init__(self, url: str, default_database: str = "ledger") -> None:
        self.url = url
        self._default_database = default_database
        self._pool = shared_pool(url, default_database)
        self.dialect = self._pool.dialect

    @property
    def database(self) -> str:
        return self._pool.database

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._pool.connection() as conn, conn.cursor() as cur:
                cur.execute(sql, tuple(params) or None)
                return list(cur.fetchall())
        except _UNAVAILABLE as exc:
            raise BackendUnavailable(f"mysql: {_first_line(exc)}") from exc

    @contextmanager
    def transaction(self) -> Iterator[Executor]:
        try:
            with self._pool.connection() as conn:
                conn.begin()
                try:
                    yield _Executor(conn)
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
        except pymysql.err.OperationalError as exc:
            if _errno(exc) == ER_LOCK_DEADLOCK:
                # InnoDB rolled the whole transaction back (SQLSTATE 40001): the unit of
                # work runs the same statements again, as PostgreSQL's 40001 is. Until
                # ``mysql@local+serialization-failures`` showed it, a deadlock was a
                # conflict: a card request answered 409 where the reference said 201.
                raise TransactionAborted(_first_line(exc)) from exc
            if _errno(exc) in _CONFLICTS:
                raise CommitConflict(None, f"transaction aborted: {_first_line(exc)}") from exc
            raise BackendUnavailable(f"mysql: {_first_line(exc)}") from exc
        except _UNAVAILABLE as exc:
            raise BackendUnavailable(f"mysql: {_first_line(exc)}") from exc

    @contextmanager
    def migration_transaction(self, ns_ident: str) -> Iterator[Executor]:
        # DDL commits implicitly in MySQL: serialise migrators with a named lock instead
        # of a transaction (names are at most 64 characters).
        name = (
            "reference_app:"
            + hashlib.sha256(f"{self.database}.{ns_ident}".encode()).hexdigest()[:40]
        )
        try:
            with self._pool.connection() as conn:
                ex = _Executor(conn)
                got = ex.query("SELECT GET_LOCK(%s, %s)", (name, MIGRATION_LOCK_TIMEOUT_S))
                if not got or got[0][0] != 1:
                    raise BackendUnavailable(f"mysql: migration lock {name} not granted")
                try:
                    yield ex
                finally:
                    ex.query("SELECT RELEASE_LOCK(%s)", (name,))
        except _UNAVAILABLE as exc:
            raise BackendUnavailable(f"mysql: {_first_line(exc)}") from exc

    def ping(self) -> None:
        try:
            with self._pool.connection() as conn:
                conn.ping(reconnect=False)
        except _UNAVAILABLE as exc:
            raise BackendUnavailable(f"mysql: {_first_line(exc)}") from exc

    def server_version(self) -> str:
        return self._pool.version

    def reopen(self) -> MysqlDatabase:
        return MysqlDatabase(self.url, self._default_database)


class MysqlBackend(SqlBackend):
    name = "mysql"

    @classmethod
    def from_settings(cls, settings: Settings, *, migrate: bool = True) -> MysqlBackend:
        """Use the URL's shared pool and, unless told not to, migrate (once per database:
        namespaces are an ``ns`` column)."""
        db = MysqlDatabase(normalise_url(settings.database_url), settings.table_prefix.lower())
        return cls(
            db,
            namespace_ident(settings.table_prefix, ""),
            namespace=namespace_key(settings.namespace),
            migrate_now=migrate,
        )

    def describe(self) -> dict[str, Any]:
        assert isinstance(self.db, MysqlDatabase)
        return {**super().describe(), "database": self.db.database}


def migrate_database(settings: Settings) -> list[int]:
    """Apply pending migrations to the settings' database (for a ``migrate`` command)."""
    return MysqlBackend.from_settings(settings, migrate=False).migrate()
