"""Entity → JSON representation: the one place response bodies are shaped."""

from __future__ import annotations

from typing import Any

from reference_app.domain.model import Card, CardRequest, OutboxEvent, Transaction, User
from reference_app.domain.timefmt import format_ts


def user_view(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "score": user.score,
        "created_at": format_ts(user.created_at),
    }


def card_request_view(req: CardRequest) -> dict[str, Any]:
    return {
        "id": req.id,
        "user_id": req.user_id,
        "status": req.status.value,
        "credit_limit_cents": req.credit_limit_cents,
        "card_id": req.card_id,
        "created_at": format_ts(req.created_at),
        "decided_at": format_ts(req.decided_at) if req.decided_at else None,
    }


def card_view(card: Card) -> dict[str, Any]:
    return {
        "id": card.id,
        "user_id": card.user_id,
        "request_id": card.request_id,
        "status": card.status.value,
        "credit_limit_cents": card.credit_limit_cents,
        "balance_cents": card.balance_cents,
        "available_cents": card.available_cents,
        "version": card.version,
        "created_at": format_ts(card.created_at),
        "updated_at": format_ts(card.updated_at),
    }


def transaction_view(txn: Transaction) -> dict[str, Any]:
    return {
        "id": txn.id,
        "card_id": txn.card_id,
        "type": txn.type.value,
        "amount_cents": txn.amount_cents,
        "description": txn.description,
        "balance_after_cents": txn.balance_after_cents,
        "created_at": format_ts(txn.created_at),
    }


def event_view(event: OutboxEvent) -> dict[str, Any]:
    return event.envelope()


def etag(card: Card) -> str:
    """A strong validator from the card's version."""
    return f'"{card.version}"'
