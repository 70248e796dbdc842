"""The card ledger's entities.

Plain frozen dataclasses: the domain imports nothing from FastAPI, SQL or boto3, so every
backend stores exactly these values and parity is a property of the adapters alone.

Every aggregate carries a ``version`` that starts at 1 and grows by one with each state
change. Each state change emits exactly one domain event whose CloudEvents ``sequence``
is the aggregate's new version: the outbox sequence is gapless by construction, and the
same optimistic-concurrency condition that protects the aggregate protects its sequence.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Role(enum.StrEnum):
    USER = "user"
    ADMIN = "admin"


class CardRequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class CardStatus(enum.StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    CLOSED = "closed"


class TransactionType(enum.StrEnum):
    PURCHASE = "purchase"
    PAYMENT = "payment"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class IdempotencyState(enum.StrEnum):
    IN_FLIGHT = "in_flight"
    COMPLETED = "completed"


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str
    score: int
    created_at: datetime
    version: int = 1


@dataclass(frozen=True)
class CardRequest:
    id: str
    user_id: str
    status: CardRequestStatus
    credit_limit_cents: int
    card_id: str | None
    created_at: datetime
    decided_at: datetime | None = None
    version: int = 1


@dataclass(frozen=True)
class Card:
    id: str
    user_id: str
    request_id: str
    status: CardStatus
    credit_limit_cents: int
    balance_cents: int
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def available_cents(self) -> int:
        return self.credit_limit_cents - self.balance_cents


@dataclass(frozen=True)
class Transaction:
    id: str
    card_id: str
    user_id: str
    type: TransactionType
    amount_cents: int
    description: str | None
    balance_after_cents: int
    created_at: datetime


@dataclass(frozen=True)
class OutboxEvent:
    """A CloudEvents 1.0 envelope plus its delivery bookkeeping.

    ``subject`` is the aggregate id and ``sequence`` its version after the change.
    """

    id: str
    source: str
    type: str
    subject: str
    time: datetime
    sequence: int
    data: dict[str, Any]
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    published_at: datetime | None = None

    def envelope(self) -> dict[str, Any]:
        """The CloudEvents 1.0 structured-mode JSON of this event."""
        from reference_app.domain.timefmt import format_ts

        return {
            "specversion": "1.0",
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": format_ts(self.time),
            "datacontenttype": "application/json",
            "sequence": self.sequence,
            "data": self.data,
        }


@dataclass(frozen=True)
class IdempotencyRecord:
    """One IETF ``Idempotency-Key`` use, scoped to (principal, method, path, key).

    ``scope`` is a digest of that tuple; ``fingerprint`` a digest of the request body.
    ``token`` identifies the request that holds the record: every conditional write on the
    record names the token it expects to replace, so two requests can never both own it.
    """

    scope: str
    fingerprint: str
    state: IdempotencyState
    token: str
    created_at: datetime
    expires_at: datetime
    locked_at: datetime
    status_code: int | None = None
    response_body: str | None = None
    response_headers: dict[str, str] = field(default_factory=dict)

    def is_expired(self, now: datetime) -> bool:
        """Expired at and after ``expires_at``: the boundary instant is already expired."""
        return now >= self.expires_at


Entity = User | CardRequest | Card | Transaction | OutboxEvent
