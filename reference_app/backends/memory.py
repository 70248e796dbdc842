"""In-memory backend: dicts behind one lock. The parity reference and the fastest engine.

A commit checks every condition first and applies only if all hold, under the same lock
as the reads of other commits: atomic and serialisable, which is the behaviour every
other backend is diffed against.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from reference_app.backends.listing import page_after, sort_newest_first, sort_oldest_first
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

T = TypeVar("T")


@dataclass
class MemoryStore:
    lock: threading.RLock = field(default_factory=threading.RLock)
    users: dict[str, User] = field(default_factory=dict)
    card_requests: dict[str, CardRequest] = field(default_factory=dict)
    cards: dict[str, Card] = field(default_factory=dict)
    transactions: dict[str, Transaction] = field(default_factory=dict)
    events: dict[str, OutboxEvent] = field(default_factory=dict)
    idempotency: dict[str, IdempotencyRecord] = field(default_factory=dict)
    # Unique indexes, as a database would keep them: O(1) checks however large the store.
    emails: dict[str, str] = field(default_factory=dict)
    event_sequences: set[tuple[str, int]] = field(default_factory=set)

    def table_for(self, entity: object) -> dict[str, object]:
        tables: dict[type, dict[str, object]] = {
            User: self.users,  # type: ignore[dict-item]
            CardRequest: self.card_requests,  # type: ignore[dict-item]
            Card: self.cards,  # type: ignore[dict-item]
            Transaction: self.transactions,  # type: ignore[dict-item]
            OutboxEvent: self.events,  # type: ignore[dict-item]
        }
        return tables[type(entity)]


class MemoryUnitOfWork(UnitOfWork):
    def __init__(self, store: MemoryStore) -> None:
        super().__init__()
        self._store = store

    # writes ----------------------------------------------------------------------------

    def _apply(self, changes: list[Change]) -> None:
        store = self._store
        with store.lock:
            for change in changes:
                self._check(change)
                self._wrote()  # staged: a crash here leaves the store untouched
            for change in changes:
                self._write(change)

    def _check(self, change: Change) -> None:
        store = self._store
        if isinstance(change, Insert):
            entity = change.entity
            if entity.id in store.table_for(entity):
                raise CommitConflict(change, f"{entity.id} already exists")
            if isinstance(entity, User) and entity.email in store.emails:
                raise CommitConflict(change, "email already registered")
            if (
                isinstance(entity, OutboxEvent)
                and (entity.subject, entity.sequence) in store.event_sequences
            ):
                raise CommitConflict(change, "event sequence already used")
        elif isinstance(change, Update):
            current = store.table_for(change.entity).get(change.entity.id)
            if current is None or current.version != change.expected_version:  # type: ignore[attr-defined]
                raise CommitConflict(change, f"{change.entity.id} version changed")
        elif isinstance(change, UpdateDelivery):
            stored = store.events.get(change.event.id)
            if (
                stored is None
                or stored.attempts != change.expected.attempts
                or stored.status != change.expected.status
            ):
                raise CommitConflict(change, f"event {change.event.id} delivery changed")
        elif isinstance(change, ClaimIdempotency):
            existing = store.idempotency.get(change.record.scope)
            held_by = existing.token if existing else None
            if held_by != change.replaces_token:
                raise CommitConflict(change, "idempotency record held by another request")
        elif isinstance(change, ReleaseIdempotency):
            existing = store.idempotency.get(change.scope)
            if existing is None or existing.token != change.token:
                raise CommitConflict(change, "idempotency record held by another request")

    def _write(self, change: Change) -> None:
        store = self._store
        if isinstance(change, Insert | Update):
            entity = change.entity
            store.table_for(entity)[entity.id] = entity
            if isinstance(entity, User):
                store.emails[entity.email] = entity.id
            elif isinstance(entity, OutboxEvent):
                store.event_sequences.add((entity.subject, entity.sequence))
        elif isinstance(change, UpdateDelivery):
            store.events[change.event.id] = change.event
        elif isinstance(change, ClaimIdempotency):
            store.idempotency[change.record.scope] = change.record
        elif isinstance(change, ReleaseIdempotency):
            del store.idempotency[change.scope]

    # reads -----------------------------------------------------------------------------

    def _snapshot(self, rows: Iterable[T], keep: Callable[[T], bool]) -> list[T]:
        with self._store.lock:
            return [row for row in rows if keep(row)]

    def get_user(self, user_id: str) -> User | None:
        return self._store.users.get(user_id)

    def get_user_by_email(self, email: str) -> User | None:
        user_id = self._store.emails.get(email)
        return self._store.users.get(user_id) if user_id else None

    def get_card_request(self, request_id: str) -> CardRequest | None:
        return self._store.card_requests.get(request_id)

    def list_card_requests(
        self, user_id: str | None, status: CardRequestStatus | None, page: PageQuery
    ) -> list[CardRequest]:
        rows = self._snapshot(
            self._store.card_requests.values(),
            lambda r: (
                (user_id is None or r.user_id == user_id) and (status is None or r.status == status)
            ),
        )
        return page_after(sort_newest_first(rows), page, newest_first=True)

    def get_card(self, card_id: str) -> Card | None:
        return self._store.cards.get(card_id)

    def list_cards(self, user_id: str | None, page: PageQuery) -> list[Card]:
        rows = self._snapshot(
            self._store.cards.values(), lambda c: user_id is None or c.user_id == user_id
        )
        return page_after(sort_newest_first(rows), page, newest_first=True)

    def list_transactions(
        self, card_id: str, kind: TransactionType | None, page: PageQuery
    ) -> list[Transaction]:
        rows = self._snapshot(
            self._store.transactions.values(),
            lambda t: t.card_id == card_id and (kind is None or t.type == kind),
        )
        return page_after(sort_newest_first(rows), page, newest_first=True)

    def get_idempotency(self, scope: str) -> IdempotencyRecord | None:
        return self._store.idempotency.get(scope)

    def list_events(self, subject: str | None, page: PageQuery) -> list[OutboxEvent]:
        rows = self._snapshot(
            self._store.events.values(), lambda e: subject is None or e.subject == subject
        )
        return page_after(sort_oldest_first(rows), page, newest_first=False)

    def pending_events(self, limit: int) -> list[OutboxEvent]:
        rows = self._snapshot(
            self._store.events.values(), lambda e: e.status == DeliveryStatus.PENDING
        )
        rows.sort(key=lambda e: (e.subject, e.sequence))
        return rows[:limit]


class MemoryBackend(Backend):
    """Process-local storage; ``namespace`` is accepted for symmetry and ignored
    (a fresh instance is already a fresh namespace)."""

    name = "memory"

    def __init__(self, namespace: str = "") -> None:
        self.namespace = namespace
        self.store = MemoryStore()

    def unit_of_work(self) -> MemoryUnitOfWork:
        uow = MemoryUnitOfWork(self.store)
        uow.crash = self.crash
        return uow

    def reopen(self) -> MemoryBackend:
        """The same dicts behind a new handle: the memory store outlives an app restart
        the way a database outlives its client's process."""
        fresh = MemoryBackend(self.namespace)
        fresh.store = self.store
        return fresh

    def check_ready(self) -> None:
        return None

    def drop_namespace(self) -> None:
        with self.store.lock:
            self.store = MemoryStore()

    def describe(self) -> dict[str, object]:
        return {"backend": self.name, "engine": "memory", "version": "builtin"}
