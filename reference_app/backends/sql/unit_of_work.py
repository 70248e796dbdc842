"""The unit of work and backend shared by every SQL store.

A commit replays the staged changes in one transaction, in order, each as a conditional
statement (see :mod:`.queries`); the first condition that does not hold raises
:class:`CommitConflict` naming that change, and the transaction rolls back, so a change
set is applied entirely or not at all, exactly like the memory backend's.
"""

from __future__ import annotations

from typing import Any

from reference_app.backends.sql.database import Database, Executor, TransactionAborted
from reference_app.backends.sql.mapping import (
    CARD_REQUESTS,
    CARDS,
    EVENTS,
    IDEMPOTENCY,
    TRANSACTIONS,
    USERS,
    TableSpec,
    spec_for,
)
from reference_app.backends.sql.migrations import migrate
from reference_app.backends.sql.queries import Queries, queries_for
from reference_app.domain.model import (
    Card,
    CardRequest,
    CardRequestStatus,
    DeliveryStatus,
    IdempotencyRecord,
    OutboxEvent,
    Transaction,
    TransactionType,
    User,
)
from reference_app.service_layer.unit_of_work import (
    Backend,
    Change,
    ClaimIdempotency,
    CommitConflict,
    Insert,
    PageQuery,
    ReleaseIdempotency,
    UnitOfWork,
    Update,
    UpdateDelivery,
)

_HELD = "idempotency record held by another request"
#: retries of a transaction the server aborted (serialization failure, deadlock)
_ABORT_RETRIES = 5


class SqlUnitOfWork(UnitOfWork):
    def __init__(self, db: Database, queries: Queries) -> None:
        super().__init__()
        self._db = db
        self._q = queries
        self._dialect = db.dialect

    # writes ----------------------------------------------------------------------------

    def _apply(self, changes: list[Change]) -> None:
        statements = [self._statement(change) for change in changes]
        for _ in range(_ABORT_RETRIES):
            try:
                return self._apply_once(changes, statements)
            except TransactionAborted:
                continue  # rolled back, nothing written: run the same statements again
        try:
            return self._apply_once(changes, statements)
        except TransactionAborted as exc:
            raise CommitConflict(None, f"transaction aborted: {exc}") from exc

    def _apply_once(self, changes: list[Change], statements: list[tuple[str, list[Any]]]) -> None:
        with self._db.transaction() as ex:
            # All statements go out together (one round trip on PostgreSQL's pipeline);
            # a statement whose condition failed wrote nothing, and raising rolls back
            # whatever the others wrote, so checking afterwards is still all-or-nothing.
            for change, written in zip(changes, ex.execute_batch(statements), strict=True):
                if written != 1:
                    raise CommitConflict(change, self._reason(ex, change))
                self._wrote()  # a crash here leaves the transaction uncommitted

    def _statement(self, change: Change) -> tuple[str, list[Any]]:
        """The conditional statement of ``change``: it writes one row iff the condition
        holds. Parameter order follows each statement's comment in :mod:`.queries`."""
        q, dialect = self._q, self._dialect
        if isinstance(change, Insert):
            spec = spec_for(change.entity)
            return q.insert[spec.table], [*q.ns, *spec.encode(change.entity, dialect)]
        if isinstance(change, Update):
            spec = spec_for(change.entity)
            values = spec.encode_non_key(change.entity, dialect)
            condition = [change.entity.id, change.expected_version]
            return q.update_versioned[spec.table], [*values, *q.ns, *condition]
        if isinstance(change, UpdateDelivery):
            values = EVENTS.encode_non_key(change.event, dialect)
            expected = change.expected
            condition = [change.event.id, expected.attempts, expected.status.value]
            return q.update_delivery, [*values, *q.ns, *condition]
        if isinstance(change, ClaimIdempotency):
            record = change.record
            if change.replaces_token is None:
                return q.insert[IDEMPOTENCY.table], [*q.ns, *IDEMPOTENCY.encode(record, dialect)]
            values = IDEMPOTENCY.encode_non_key(record, dialect)
            return q.claim_takeover, [*values, *q.ns, record.scope, change.replaces_token]
        if isinstance(change, ReleaseIdempotency):
            return q.release, [*q.ns, change.scope, change.token]
        raise TypeError(f"unknown change {change!r}")  # pragma: no cover - closed union

    def _reason(self, ex: Executor, change: Change) -> str:
        """Why ``change``'s condition failed, in the memory backend's words."""
        if isinstance(change, Insert):
            return self._insert_conflict(ex, spec_for(change.entity), change.entity)
        if isinstance(change, Update):
            return f"{change.entity.id} version changed"
        if isinstance(change, UpdateDelivery):
            return f"event {change.event.id} delivery changed"
        return _HELD

    def _insert_conflict(self, ex: Executor, spec: TableSpec[Any], entity: Any) -> str:
        """Which unique constraint refused the insert, in the memory backend's words."""
        if ex.query(self._q.exists[spec.table], (*self._q.ns, entity.id)):
            return f"{entity.id} already exists"
        if spec is USERS:
            return "email already registered"
        if spec is EVENTS:
            return "event sequence already used"
        return f"{entity.id} conflicts with a stored row"

    # reads -----------------------------------------------------------------------------

    def _query(self, sql: str, params: Any) -> list[tuple[Any, ...]]:
        """A read; a parameter the driver cannot encode (a lone surrogate from a URL)
        cannot equal any stored value, since no write of it could succeed: no rows."""
        try:
            return self._db.query(sql, params)
        except UnicodeEncodeError:
            return []

    def _get(self, spec: TableSpec[Any], key: str) -> Any:
        rows = self._query(self._q.get[spec.table], (*self._q.ns, key))
        return spec.decode(rows[0], self._dialect) if rows else None

    def _list(
        self,
        spec: TableSpec[Any],
        filters: dict[str, Any],
        page: PageQuery,
        *,
        newest_first: bool = True,
    ) -> list[Any]:
        present = {k: v for k, v in filters.items() if v is not None}
        sql = self._q.listing(spec, tuple(present), newest_first, page.after is not None)
        params: list[Any] = [*self._q.ns, *present.values()]
        if page.after is not None:
            params += [self._dialect.encode_ts(page.after.created_at), page.after.id]
        params.append(page.limit)
        return [spec.decode(row, self._dialect) for row in self._query(sql, params)]

    def get_user(self, user_id: str) -> User | None:
        user: User | None = self._get(USERS, user_id)
        return user

    def get_user_by_email(self, email: str) -> User | None:
        rows = self._query(self._q.user_by_email, (*self._q.ns, email))
        return USERS.decode(rows[0], self._dialect) if rows else None

    def get_card_request(self, request_id: str) -> CardRequest | None:
        request: CardRequest | None = self._get(CARD_REQUESTS, request_id)
        return request

    def list_card_requests(
        self, user_id: str | None, status: CardRequestStatus | None, page: PageQuery
    ) -> list[CardRequest]:
        filters = {"user_id": user_id, "status": status.value if status else None}
        return self._list(CARD_REQUESTS, filters, page)

    def get_card(self, card_id: str) -> Card | None:
        card: Card | None = self._get(CARDS, card_id)
        return card

    def list_cards(self, user_id: str | None, page: PageQuery) -> list[Card]:
        return self._list(CARDS, {"user_id": user_id}, page)

    def list_transactions(
        self, card_id: str, kind: TransactionType | None, page: PageQuery
    ) -> list[Transaction]:
        filters = {"card_id": card_id, "type": kind.value if kind else None}
        return self._list(TRANSACTIONS, filters, page)

    def get_idempotency(self, scope: str) -> IdempotencyRecord | None:
        record: IdempotencyRecord | None = self._get(IDEMPOTENCY, scope)
        return record

    def list_events(self, subject: str | None, page: PageQuery) -> list[OutboxEvent]:
        return self._list(EVENTS, {"subject": subject}, page, newest_first=False)

    def pending_events(self, limit: int) -> list[OutboxEvent]:
        status = DeliveryStatus.PENDING.value
        rows = self._db.query(self._q.pending_events, (*self._q.ns, status, limit))
        return [EVENTS.decode(row, self._dialect) for row in rows]


class SqlBackend(Backend):
    """A namespace of a SQL database: migrated on construction, then units of work."""

    def __init__(self, db: Database, ns_ident: str, *, namespace: str, migrate_now: bool = True):
        self.db = db
        self.namespace = namespace
        self.ns_ident = ns_ident
        self.queries = queries_for(db.dialect, ns_ident, namespace)
        if migrate_now:
            self.migrate()

    def migrate(self) -> list[int]:
        """Apply pending schema migrations to this namespace; return the versions applied."""
        return migrate(self.db, self.ns_ident)

    def unit_of_work(self) -> SqlUnitOfWork:
        uow = SqlUnitOfWork(self.db, self.queries)
        uow.crash = self.crash
        return uow

    def reopen(self) -> SqlBackend:
        """The same namespace through a new database handle (already migrated)."""
        return type(self)(
            self.db.reopen(), self.ns_ident, namespace=self.namespace, migrate_now=False
        )

    def check_ready(self) -> None:
        self.db.ping()

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "engine": self.db.dialect.name,
            "version": self.db.server_version(),
            "namespace": self.namespace,
            "tables": self.ns_ident,
        }

    def drop_namespace(self) -> None:
        """PostgreSQL: drop the namespace's schema; SQLite: delete its rows (the tables
        are shared by every namespace through the ``ns`` column)."""
        with self.db.transaction() as ex:
            for statement in self.queries.drop_namespace:
                ex.execute(statement, self.queries.ns)

    def close(self) -> None:
        self.db.close()
