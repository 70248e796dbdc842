"""Migration bugs in the SQL backends (SQLite, PostgreSQL, MariaDB): see the package
docstring.

Each bug is one small change to the real backend, written the way a porting team would
write it, with a docstring saying what is wrong and why the team's ordinary tests pass.
Most are a unit of work (the shared :class:`SqlUnitOfWork`, so one class plants the bug
on every SQL engine); the engine-fault ones change how the server's answer is read.
Every bug is registered once per engine it applies to, named
``<class>-<what>-<engine>``, with the scenario (or the contract suite) that must catch
it; ``base`` is the engine whose store the faulty app runs on, hostile settings and
injected faults included (``postgres@local+tz=Pacific/Chatham``).

The drivers (psycopg, PyMySQL) are optional extras of the reference app, so nothing here
imports a PostgreSQL or MariaDB module until a bug is built on that engine.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from parity import AppBinding, Store, register_fault
from reference_app.backends.sql import Dialect
from reference_app.backends.sql.database import TransactionAborted
from reference_app.backends.sql.mapping import IDEMPOTENCY, USERS, TableSpec, spec_for
from reference_app.backends.sql.unit_of_work import SqlBackend, SqlUnitOfWork
from reference_app.backends.sqlite import SqliteBackend
from reference_app.domain.model import Card, OutboxEvent, User
from reference_app.service_layer.unit_of_work import (
    Change,
    ClaimIdempotency,
    CommitConflict,
    Insert,
    PageQuery,
    Update,
    UpdateDelivery,
)
from scenarios.migration_bugs.common import SplitOutbox

#: the API's maximum page size, as a repository that hard-codes it would
REPOSITORY_CAP = 100
#: the non-UTC server time zone the store-settings bugs are caught on (UTC+13:45 in
#: summer: no whole-hour offset hides the shift)
HOSTILE_TZ = "Pacific/Chatham"

SQLITE_BASE = "sqlite"
POSTGRES_BASE = "postgres@local"
MYSQL_BASE = "mysql@local"


# --- Time -------------------------------------------------------------------------------


def _to_millis(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


class MillisUnitOfWork(SqlUnitOfWork):
    """Time: every timestamp written (and every page key compared) at millisecond
    precision, the way a port whose old store (or client) kept epoch milliseconds writes
    them: ``.999999`` comes back ``.999000``. Ordinary tests pass: a real clock's
    timestamps compare after a round trip only to the millisecond in most assertions,
    and nothing the API answers changes while no two events share a millisecond."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._dialect = _millis_dialect(self._dialect)


def _millis_dialect(dialect: Dialect) -> Dialect:
    encode = dialect.encode_ts
    return dataclasses.replace(dialect, encode_ts=lambda value: encode(_to_millis(value)))


# --- Data -------------------------------------------------------------------------------


def _folded(email: str) -> str:
    return unicodedata.normalize("NFKC", email).casefold()


class FoldedEmailUnitOfWork(SqlUnitOfWork):
    """Data: e-mails looked up the way a case- and accent-insensitive collation compares
    them (Unicode case folding and NFKC): ``STRASSE@…`` and an NFD ``é`` find the account
    of ``straße@…``/NFC ``é``, which the app keeps apart (it only strips and lower-cases).
    Ordinary tests pass: ASCII addresses already arrive lower-cased, so folding them
    changes nothing."""

    def get_user_by_email(self, email: str) -> User | None:
        table = self._q.table(USERS)
        where = ' WHERE "ns" = ?' if self._q.ns else ""
        rows = self._query(
            self._dialect.sql(f"SELECT {USERS.column_list} FROM {table}{where}"), self._q.ns
        )
        users = [USERS.decode(row, self._dialect) for row in rows]
        return next((u for u in users if _folded(u.email) == _folded(email)), None)


# --- Volume -----------------------------------------------------------------------------


class TextSequenceUnitOfWork(SqlUnitOfWork):
    """Volume: pending events ordered by (subject, sequence as text), as a string sort
    key built from a number does: ``10`` goes out before ``9``. Ordinary tests pass: an
    aggregate rarely has ten events waiting in one relay run."""

    def pending_events(self, limit: int) -> list[OutboxEvent]:
        events = super().pending_events(limit)
        return sorted(events, key=lambda e: (e.subject, str(e.sequence)))


class PageCapUnitOfWork(SqlUnitOfWork):
    """Volume: every listing query capped at the API's maximum page size (100), which
    eats the service's "limit + 1" probe: a full page of 100 ends the listing and hides
    the rows behind it. Ordinary tests pass: their listings hold a handful of rows."""

    def _list(
        self,
        spec: TableSpec[Any],
        filters: dict[str, Any],
        page: PageQuery,
        *,
        newest_first: bool = True,
    ) -> list[Any]:
        capped = dataclasses.replace(page, limit=min(page.limit, REPOSITORY_CAP))
        return super()._list(spec, filters, capped, newest_first=newest_first)


# --- Store settings -----------------------------------------------------------------------


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


class SessionZoneUnitOfWork(SqlUnitOfWork):
    """Store settings: timestamps sent to PostgreSQL as naive UTC datetimes (the old
    store's were naive, and the port strips ``tzinfo`` "to be safe"). psycopg sends a
    naive value as ``timestamp``, and the server casts it to the ``TIMESTAMPTZ`` column in
    the *session* time zone, so every stored instant is off by the server's offset from
    UTC. Ordinary tests pass: the team's PostgreSQL, like every container image's, runs
    in UTC; only a server configured in another zone (``+tz=…``) shows it."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._dialect = dataclasses.replace(self._dialect, encode_ts=_naive_utc)


#: MySQL's "no date": what a port whose old store had no NULLs writes for "never"
ZERO_DATE = "0000-00-00 00:00:00"


def _zero_date_dialect(dialect: Dialect) -> Dialect:
    decode = dialect.decode_ts

    def decode_ts(value: Any) -> Any:
        return None if isinstance(value, str) and value.startswith("0000-00-00") else decode(value)

    return dataclasses.replace(dialect, decode_ts=decode_ts)


class ZeroDateUnitOfWork(SqlUnitOfWork):
    """Store settings (MariaDB), with :func:`server_mode_backend`: a timestamp that is not
    set yet (a card request's ``decided_at``, an event's ``published_at``) is written as
    MySQL's zero date instead of NULL and read back as "never". MariaDB's default
    ``sql_mode`` accepts the zero date even in strict mode; a server whose ``sql_mode``
    has ``NO_ZERO_DATE`` (with strict mode) refuses the insert. Ordinary tests pass: the
    team's server keeps the default ``sql_mode``, and the port lets the server's mode
    stand."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._dialect = _zero_date_dialect(self._dialect)

    def _statement(self, change: Change) -> tuple[str, list[Any]]:
        sql, params = super()._statement(change)
        if isinstance(change, Insert | Update | UpdateDelivery):
            entity = change.event if isinstance(change, UpdateDelivery) else change.entity
            spec = spec_for(entity)
            insert = isinstance(change, Insert)
            columns = spec.columns if insert else spec.non_key_columns
            first = len(self._q.ns) if insert else 0  # where the column values start
            for i, column in enumerate(columns, start=first):
                if column.kind == "ts" and params[i] is None:
                    params[i] = ZERO_DATE
        return sql, params


def server_mode_backend(uow_type: type[SqlUnitOfWork]) -> type[SqlBackend]:
    """The MariaDB backend with ``uow_type`` units of work and sessions that keep the
    server's ``sql_mode``, adding only the ``ANSI_QUOTES`` the shared SQL's quoting
    needs (``SET SESSION sql_mode = CONCAT(@@GLOBAL.sql_mode, ',ANSI_QUOTES')``), where
    the reference app sets the whole mode it relies on."""
    from reference_app.backends import mysql

    class ServerModePool(mysql._Pool):
        def _connect(self, database: str | None = "") -> Any:
            conn = super()._connect(database)
            with conn.cursor() as cur:
                cur.execute("SET SESSION sql_mode = CONCAT(@@GLOBAL.sql_mode, ',ANSI_QUOTES')")
            return conn

    class ServerModeDatabase(mysql.MysqlDatabase):
        def __init__(self, url: str, default_database: str = "ledger") -> None:
            self.url = url
            self._default_database = default_database
            key = (url, default_database)
            pool = _SERVER_MODE_POOLS.get(key)
            if pool is None or pool.closed:
                pool = _SERVER_MODE_POOLS[key] = ServerModePool(url)
                pool.open(default_database)
            self._pool = pool
            self.dialect = pool.dialect

        def reopen(self) -> ServerModeDatabase:
            return ServerModeDatabase(self.url, self._default_database)

    class ServerModeBackend(planted_backend(mysql.MysqlBackend, uow_type)):  # type: ignore[misc]
        @classmethod
        def from_settings(cls, settings: Any, *, migrate: bool = True) -> Any:
            db = ServerModeDatabase(
                mysql.normalise_url(settings.database_url), settings.table_prefix.lower()
            )
            return cls(
                db,
                mysql.namespace_ident(settings.table_prefix, ""),
                namespace=mysql.namespace_key(settings.namespace),
                migrate_now=migrate,
            )

    return ServerModeBackend


#: pools of :func:`server_mode_backend`, per (url, database), as the backend's are
_SERVER_MODE_POOLS: dict[tuple[str, str], Any] = {}


def immutable_reads_backend(uow_type: type[SqlUnitOfWork]) -> type[SqlBackend]:
    """Store settings (SQLite): reads go through a fresh read-only, lock-free connection
    (``file:…?immutable=1``), and the port leaves the journal mode to the database file.
    In the default rollback journal a commit lands in the database file itself, so the
    team measured faster reads and saw no difference. In WAL mode (a file an operator or
    another tool switched to WAL keeps it for every connection) a commit sits in the
    ``-wal`` file until a checkpoint, which an immutable reader never looks at: a row
    just written is not there."""
    import sqlite3
    from pathlib import Path

    from reference_app.backends import sqlite as sq

    class JournalAsFoundPool(sq._Pool):
        def _connect(self) -> sqlite3.Connection:
            conn = sqlite3.connect(
                self.path,
                timeout=sq.BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout = {sq.BUSY_TIMEOUT_MS}")
            return conn

    class ImmutableReadDatabase(sq.SqliteDatabase):
        def __init__(self, path: str) -> None:
            self.path = path
            self._pool = JournalAsFoundPool(path)
            self._pool.refs = 1
            self._closed = False

        def query(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
            uri = f"{Path(self.path).resolve().as_uri()}?immutable=1"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            try:
                return conn.execute(sql, params).fetchall()
            finally:
                conn.close()

        def reopen(self) -> ImmutableReadDatabase:
            return ImmutableReadDatabase(self.path)

        def close(self) -> None:
            if not self._closed:
                self._closed = True
                self._pool.refs = 0
                self._pool.close_idle()

    class ImmutableReadBackend(planted_backend(sq.SqliteBackend, uow_type)):  # type: ignore[misc]
        @classmethod
        def from_settings(cls, settings: Any, *, migrate: bool = True) -> Any:
            db = ImmutableReadDatabase(sq.database_path(settings.database_url))
            return cls(
                db,
                sq.namespace_ident(settings.table_prefix, ""),
                namespace=settings.namespace,
                migrate_now=migrate,
            )

    return ImmutableReadBackend


# --- Rare paths ---------------------------------------------------------------------------


class ScopeOnlyTakeoverUnitOfWork(SqlUnitOfWork):
    """Rare path: an idempotency record is replaced under its scope alone, without the
    ``AND token = ?`` that says "only if it is still the record I read" (the old store's
    put-item overwrote by key, and the scope *is* the key). On every ordinary path the
    token matches anyway: a request completes its own claim, an expired record is taken
    over by one request. Only after an abandoned request's claim was taken over does it
    matter: the abandoned request, released, completes over the new owner's record
    instead of finding its claim gone, and the purchase is charged twice."""

    def _statement(self, change: Change) -> tuple[str, list[Any]]:
        if not isinstance(change, ClaimIdempotency) or change.replaces_token is None:
            return super()._statement(change)
        q = self._q
        assignments = ", ".join(f"{c.quoted} = ?" for c in IDEMPOTENCY.non_key_columns)
        where = '"ns" = ? AND ' if q.ns else ""
        sql = f"UPDATE {q.table(IDEMPOTENCY)} SET {assignments} WHERE {where}scope = ?"
        values = IDEMPOTENCY.encode_non_key(change.record, self._dialect)
        return self._dialect.sql(sql), [*values, *q.ns, change.record.scope]


# --- Engine faults ------------------------------------------------------------------------


class NoRetryUnitOfWork(SqlUnitOfWork):
    """Engine faults: a transaction the server aborted (serialization failure or
    deadlock, SQLSTATE class 40) is taken for a lost race, a :class:`CommitConflict`,
    instead of being run again. The service layer retries some conflicts on a fresh read,
    so many requests still succeed; the rest answer 409 (or 412) where the reference
    answers 201. Ordinary tests pass: an idle test server never aborts a transaction of
    its own accord; only a loaded one (``+serialization-failures``) does."""

    def _apply(self, changes: list[Change]) -> None:
        statements = [self._statement(change) for change in changes]
        try:
            self._apply_once(changes, statements)
        except TransactionAborted as exc:
            raise CommitConflict(None, f"transaction aborted: {exc}") from exc


# --- Crash windows ------------------------------------------------------------------------


class SplitOutboxUnitOfWork(SplitOutbox, SqlUnitOfWork):
    """Crash window: commits the state changes, then (in a transaction of its own) their
    outbox events: the way a port that "publishes after saving" often starts. It answers
    exactly like the real backend on every request; only a process dying between its two
    transactions shows the difference (a card whose balance moved without its event)."""


# --- Contract -----------------------------------------------------------------------------


class CardRefUnitOfWork(SqlUnitOfWork):
    """Contract: a card read by id answers its own id as the ``request_id`` it was
    issued for: the port's hand-written single-row reader maps ``request_id`` from the
    old store's ``ref`` attribute, which on card items held the item's own key. No rule
    of the ledger reads a card's ``request_id``, so every write still succeeds and the
    team's tests (which checked balances and statuses) pass. The contract suite reaches
    it only because it seeds a real card through the app (before, every generated card
    id was a 404)."""

    def get_card(self, card_id: str) -> Card | None:
        card = super().get_card(card_id)
        if card is None:
            return None
        return dataclasses.replace(card, request_id=card.id)


# --- planting ---------------------------------------------------------------------------


B = TypeVar("B", bound=SqlBackend)


def planted_backend(base: type[B], uow_type: type[SqlUnitOfWork]) -> type[B]:
    """``base`` (the real backend of an engine) handing out ``uow_type`` units of work;
    ``reopen`` keeps the planted type (a restarted process runs the same code)."""

    class Planted(base):  # type: ignore[valid-type,misc]
        name = f"{base.name}+{uow_type.__name__}"

        def unit_of_work(self) -> SqlUnitOfWork:
            uow = uow_type(self.db, self.queries)
            uow.crash = self.crash
            return uow

    Planted.__name__ = Planted.__qualname__ = (
        f"{uow_type.__name__.removesuffix('UnitOfWork')}{base.__name__}"
    )
    return Planted


def _engine_backend(kind: str) -> type[SqlBackend]:
    """The reference app's backend class for a store kind, its driver imported only now."""
    if kind == "sqlite":
        return SqliteBackend
    if kind == "postgres":
        from reference_app.backends.postgres import PostgresBackend

        return PostgresBackend
    if kind == "mysql":
        from reference_app.backends.mysql import MysqlBackend

        return MysqlBackend
    raise ValueError(f"no SQL backend for a {kind!r} store")


#: SplitOutbox on SQLite, imported by the crash-seam tests
SplitOutboxBackend = planted_backend(SqliteBackend, SplitOutboxUnitOfWork)


#: builds a backend of its own around a unit of work (a bug in how the store is opened)
BackendFactory = Callable[[type[SqlUnitOfWork]], type[SqlBackend]]


def builder(
    uow_type: type[SqlUnitOfWork], store_backend: BackendFactory | None = None
) -> Callable[[AppBinding, Store], Any]:
    """The fault's app: the reference app on the store's own SQL backend, planted (or on
    ``store_backend(uow_type)`` when the bug is in how the store is opened)."""

    def build(binding: AppBinding, store: Store) -> Any:
        from reference_app.bootstrap import create_app
        from scenarios.binding import ReferenceBinding

        assert isinstance(binding, ReferenceBinding)
        settings = binding.settings_for(store)
        # every concrete SQL backend has a from_settings classmethod (not on the base)
        backend: Any = (
            store_backend(uow_type)
            if store_backend is not None
            else planted_backend(_engine_backend(store.kind), uow_type)
        )
        return create_app(settings, backend=backend.from_settings(settings))

    return build


@dataclasses.dataclass(frozen=True)
class Bug:
    """One planted bug on one engine (what :func:`register_fault` is given)."""

    name: str
    description: str
    uow_type: type[SqlUnitOfWork]
    base: str
    scenarios: tuple[str, ...]
    suite: str = "scenarios"
    #: the bug is (also) in how the store is opened: this builds the backend
    store_backend: BackendFactory | None = None


def _each(
    what: str,
    description: str,
    uow_type: type[SqlUnitOfWork],
    scenarios: tuple[str, ...],
    bases: dict[str, str],
    suite: str = "scenarios",
) -> list[Bug]:
    return [
        Bug(f"{what}-{engine}", description, uow_type, base, scenarios, suite)
        for engine, base in bases.items()
    ]


BOTH = {"sqlite": SQLITE_BASE, "postgres": POSTGRES_BASE}

BUGS: list[Bug] = [
    *_each(
        "time-millis",
        "Time: timestamps kept to the millisecond (.999999 reads back .999000)",
        MillisUnitOfWork,
        ("texture",),
        BOTH,
    ),
    *_each(
        "data-folded-emails",
        "Data: e-mails compared case- and accent-insensitively (NFKC + case folding)",
        FoldedEmailUnitOfWork,
        ("texture",),
        BOTH,
    ),
    *_each(
        "volume-text-sequence",
        "Volume: pending events ordered by sequence as text (10 before 9)",
        TextSequenceUnitOfWork,
        ("volume",),
        BOTH,
    ),
    *_each(
        "volume-page-cap",
        "Volume: listings capped at 100 rows (a full page hides the rows behind it)",
        PageCapUnitOfWork,
        ("volume",),
        BOTH,
    ),
    *_each(
        "settings-naive-timestamps",
        "Store settings: timestamps sent naive, read in the server's session time zone",
        SessionZoneUnitOfWork,
        ("texture",),
        {"postgres": f"{POSTGRES_BASE}+tz={HOSTILE_TZ}"},
    ),
    Bug(
        "settings-zero-dates-mysql",
        "Store settings: unset timestamps written as MySQL's zero date, in the server's "
        "sql_mode (refused where it has NO_ZERO_DATE)",
        ZeroDateUnitOfWork,
        f"{MYSQL_BASE}+sql-mode",
        ("ledger",),
        store_backend=server_mode_backend,
    ),
    Bug(
        "settings-immutable-reads-sqlite",
        "Store settings: reads through an immutable (lock-free) connection, blind to a "
        "WAL database's uncheckpointed commits",
        SqlUnitOfWork,
        f"{SQLITE_BASE}+journal=wal",
        ("ledger",),
        store_backend=immutable_reads_backend,
    ),
    *_each(
        "rare-scope-only-takeover",
        "Rare path: an idempotency record replaced by scope alone (no token check): an "
        "abandoned request completes over the claim that took it over",
        ScopeOnlyTakeoverUnitOfWork,
        ("idempotency",),
        BOTH,
    ),
    *_each(
        "faults-no-retry",
        "Engine faults: a transaction the server aborted (SQLSTATE 40) taken for a lost "
        "race instead of run again",
        NoRetryUnitOfWork,
        ("ledger",),
        {
            "postgres": f"{POSTGRES_BASE}+serialization-failures",
            "mysql": f"{MYSQL_BASE}+serialization-failures",
        },
    ),
    *_each(
        "crash-split-outbox",
        "Crash window: state change and outbox event committed in two transactions",
        SplitOutboxUnitOfWork,
        ("crash",),
        BOTH,
    ),
    *_each(
        "contract-card-ref",
        "Contract: a card read by id answers its own id as its request_id",
        CardRefUnitOfWork,
        (),
        BOTH,
        suite="contract",
    ),
]


for _bug in BUGS:
    register_fault(
        _bug.name,
        _bug.description,
        builder(_bug.uow_type, _bug.store_backend),
        scenarios=_bug.scenarios,
        base=_bug.base,
        suite=_bug.suite,
    )

__all__ = ["BUGS", "Bug", "SplitOutboxBackend", "builder", "planted_backend"]
