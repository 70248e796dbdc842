"""The storage port: a unit of work that reads directly and commits a staged change set.

Why a staged change set instead of "open a transaction, write as you go": it is the one
shape every backend can make atomic in the same way. SQL backends replay the changes in
one transaction; DynamoDB sends them as one ``TransactWriteItems``; the memory backend
applies them under a lock. Every write carries its own condition (insert-if-absent,
update-if-version, claim-if-token), so optimistic concurrency is identical everywhere and
a lost race surfaces as :class:`CommitConflict` naming the change that lost.

Reads are not part of the commit: the conditions make stale reads harmless.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

from reference_app.domain.model import (
    Card,
    CardRequest,
    CardRequestStatus,
    Entity,
    IdempotencyRecord,
    OutboxEvent,
    Transaction,
    TransactionType,
    User,
)
from reference_app.service_layer.crash import NO_CRASH, CrashPoints


@dataclass(frozen=True)
class PageKey:
    """Position in a listing: the (created_at, id) of the last item already returned."""

    created_at: datetime
    id: str


@dataclass(frozen=True)
class PageQuery:
    """Ask for at most ``limit`` items strictly after ``after`` in the listing's order.

    The service asks for one item more than the page size to know whether a next page
    exists. Backends must return exactly ``limit`` items whenever that many match (after
    filtering): a DynamoDB backend loops over ``Query`` pages until it has them.
    """

    limit: int
    after: PageKey | None = None


# --- staged changes ------------------------------------------------------------------


@dataclass(frozen=True)
class Insert:
    """Create an entity; conflicts if its id exists (for users: or their email)."""

    entity: Entity


@dataclass(frozen=True)
class Update:
    """Replace a versioned aggregate (User, CardRequest, Card) if its stored version is
    still ``expected_version``; ``entity.version`` is the new one."""

    entity: User | CardRequest | Card
    expected_version: int


@dataclass(frozen=True)
class UpdateDelivery:
    """Replace an outbox event's delivery fields if its stored ``attempts`` and ``status``
    are still those of ``expected`` (one relay at a time owns an attempt)."""

    event: OutboxEvent
    expected: OutboxEvent


@dataclass(frozen=True)
class ClaimIdempotency:
    """Write ``record`` if no record exists for its scope (``replaces_token is None``) or
    the stored record's token is ``replaces_token``. Covers claim, expired-record
    takeover, abandoned-in-flight takeover and completion."""

    record: IdempotencyRecord
    replaces_token: str | None


@dataclass(frozen=True)
class ReleaseIdempotency:
    """Delete the record of ``scope`` if its token is still ``token``."""

    scope: str
    token: str


Change = Insert | Update | UpdateDelivery | ClaimIdempotency | ReleaseIdempotency


class CommitConflict(Exception):
    """A condition of the change set failed; nothing was written.

    ``change`` is the staged change whose condition failed, when the backend can tell
    (DynamoDB's cancellation reasons, SQL's rowcount); ``None`` when it cannot.
    """

    def __init__(self, change: Change | None, reason: str) -> None:
        super().__init__(reason)
        self.change = change
        self.reason = reason


class BackendUnavailable(Exception):
    """The store cannot be reached: an infrastructure fault, never a client error."""


# --- the port ---------------------------------------------------------------------------


@dataclass
class UnitOfWork(abc.ABC):
    """Reads plus a staged change set; ``commit`` applies all of it or none of it."""

    changes: list[Change] = field(default_factory=list)
    #: where a commit may die between writes (parity mode's crash seam; never in production)
    crash: CrashPoints = field(default=NO_CRASH, repr=False)

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.changes.clear()

    # staging -------------------------------------------------------------------------

    def add(self, entity: Entity) -> None:
        self.changes.append(Insert(entity))

    def update(self, entity: User | CardRequest | Card, expected_version: int) -> None:
        self.changes.append(Update(entity, expected_version))

    def update_delivery(self, event: OutboxEvent, expected: OutboxEvent) -> None:
        self.changes.append(UpdateDelivery(event, expected))

    def claim_idempotency(self, record: IdempotencyRecord, replaces_token: str | None) -> None:
        self.changes.append(ClaimIdempotency(record, replaces_token))

    def release_idempotency(self, scope: str, token: str) -> None:
        self.changes.append(ReleaseIdempotency(scope, token))

    def commit(self) -> None:
        """Apply every staged change atomically, or raise :class:`CommitConflict`."""
        staged, self.changes = list(self.changes), []
        if not staged:
            return
        self.crash.begin()
        self._apply(staged)

    def _wrote(self) -> None:
        """Backends call this after each write of a commit: a crash armed for it lands here."""
        self.crash.wrote()

    def _staged_atomically(self, changes: list[Change]) -> None:
        """For a backend whose commit is one all-or-nothing request: every write of it
        lands together, so a crash between any two of them is a crash before it is sent."""
        for _ in changes:
            self._wrote()

    @abc.abstractmethod
    def _apply(self, changes: list[Change]) -> None:
        """Apply ``changes`` atomically, checking every condition; raise CommitConflict."""

    # reads -----------------------------------------------------------------------------

    @abc.abstractmethod
    def get_user(self, user_id: str) -> User | None: ...

    @abc.abstractmethod
    def get_user_by_email(self, email: str) -> User | None: ...

    @abc.abstractmethod
    def get_card_request(self, request_id: str) -> CardRequest | None: ...

    @abc.abstractmethod
    def list_card_requests(
        self, user_id: str | None, status: CardRequestStatus | None, page: PageQuery
    ) -> list[CardRequest]:
        """Newest first by (created_at, id); ``user_id=None`` means every user's."""

    @abc.abstractmethod
    def get_card(self, card_id: str) -> Card | None: ...

    @abc.abstractmethod
    def list_cards(self, user_id: str | None, page: PageQuery) -> list[Card]:
        """Newest first by (created_at, id); ``user_id=None`` means every user's."""

    @abc.abstractmethod
    def list_transactions(
        self, card_id: str, kind: TransactionType | None, page: PageQuery
    ) -> list[Transaction]:
        """Newest first by (created_at, id), optionally only one ``kind``."""

    @abc.abstractmethod
    def get_idempotency(self, scope: str) -> IdempotencyRecord | None:
        """The stored record, expired or not: expiry is the service's decision."""

    @abc.abstractmethod
    def list_events(self, subject: str | None, page: PageQuery) -> list[OutboxEvent]:
        """Oldest first by (time, id), optionally for one subject (aggregate)."""

    @abc.abstractmethod
    def pending_events(self, limit: int) -> list[OutboxEvent]:
        """Up to ``limit`` undelivered, not dead-lettered events, ordered by
        (subject, sequence). The relay picks each subject's head from these."""


class Backend(abc.ABC):
    """A storage backend: a factory of units of work over one namespace.

    ``namespace`` isolates data cheaply (a key prefix, a schema, a table prefix): the
    parity harness gives every Hypothesis example a fresh one instead of new tables.
    """

    name: str = "backend"
    #: handed to every unit of work; the composition root sets it in parity mode
    crash: CrashPoints = NO_CRASH
    #: parity mode: the manual clock's latest reading, without moving it. A store whose
    #: behaviour depends on time (DynamoDB TTL) cannot see the app's manual clock; a
    #: backend may tell it (the DynamoDB backend sends it as ``X-Parity-Now``)
    app_time: Callable[[], datetime] | None = None

    @abc.abstractmethod
    def unit_of_work(self) -> UnitOfWork: ...

    def reopen(self) -> Backend:
        """A new handle on the same store and namespace, as a restarted process would
        open it: nothing of this handle's in-memory state (caches, sessions) carries over.
        The parity harness restarts an app this way after a crash."""
        raise NotImplementedError(f"the {self.name} backend cannot be reopened")

    @abc.abstractmethod
    def check_ready(self) -> None:
        """Raise :class:`BackendUnavailable` if the store cannot be reached."""

    def describe(self) -> dict[str, Any]:
        """Name and version facts for reports (engine, server version, ...)."""
        return {"backend": self.name}

    @abc.abstractmethod
    def drop_namespace(self) -> None:
        """Delete everything this namespace stored. The parity harness calls it after each
        example, so a long run's store only ever holds the examples still running: stores
        whose cost grows with their size (moto copied a whole table per transaction) stay
        fast, and a shared server or a real table is left as it was found."""

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections; the data stays."""
