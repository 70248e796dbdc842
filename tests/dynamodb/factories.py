"""Entity builders for the DynamoDB tests (fixed instants, readable ids)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reference_app.domain.model import (
    Card,
    CardStatus,
    IdempotencyRecord,
    IdempotencyState,
    OutboxEvent,
    Transaction,
    TransactionType,
    User,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def user(uid: str = "usr_1", email: str = "ada@example.com") -> User:
    return User(uid, "Ada", email, 720, T0)


def card(cid: str = "crd_1", uid: str = "usr_1", balance: int = 0, version: int = 1) -> Card:
    return Card(cid, uid, "req_1", CardStatus.ACTIVE, 3_000_00, balance, T0, T0, version)


def txn(tid: str, cid: str = "crd_1", kind: TransactionType = TransactionType.PURCHASE,
        when: datetime = T0, amount: int = 100) -> Transaction:  # fmt: skip
    return Transaction(tid, cid, "usr_1", kind, amount, None, amount, when)


def event(eid: str, subject: str = "crd_1", sequence: int = 1, when: datetime = T0) -> OutboxEvent:
    return OutboxEvent(eid, "urn:test", "card.updated", subject, when, sequence, {"n": sequence})


def record(scope: str = "scope-1", token: str = "tok-1") -> IdempotencyRecord:
    return IdempotencyRecord(scope, "fp", IdempotencyState.IN_FLIGHT, token, T0, at(86400), T0)
