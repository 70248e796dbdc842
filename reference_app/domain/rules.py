"""Pure business rules: credit tiers, card transitions, ledger arithmetic.

Functions take and return entities; they never read a clock or a database, so the
service layer can retry them on a fresh read without side effects.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from reference_app.domain import errors
from reference_app.domain.model import Card, CardStatus, TransactionType

MAX_SCORE = 1000
AUTO_APPROVE_SCORE = 700
MAX_AMOUNT_CENTS = 1_000_000_000_00  # one billion in major units: far above any limit


@dataclass(frozen=True)
class CreditPolicy:
    """Credit limit by score tier (defaults from the design)."""

    low_limit_cents: int = 500_00
    mid_limit_cents: int = 1_500_00
    high_limit_cents: int = 3_000_00
    mid_tier_from: int = 500
    high_tier_from: int = AUTO_APPROVE_SCORE

    def limit_for(self, score: int) -> int:
        if score >= self.high_tier_from:
            return self.high_limit_cents
        if score >= self.mid_tier_from:
            return self.mid_limit_cents
        return self.low_limit_cents

    def auto_approves(self, score: int) -> bool:
        return score >= self.high_tier_from


# Which status a card may move to from which: closed is final.
_TRANSITIONS: dict[CardStatus, frozenset[CardStatus]] = {
    CardStatus.ACTIVE: frozenset({CardStatus.BLOCKED, CardStatus.CLOSED}),
    CardStatus.BLOCKED: frozenset({CardStatus.ACTIVE, CardStatus.CLOSED}),
    CardStatus.CLOSED: frozenset(),
}


def change_status(card: Card, new_status: CardStatus, now: datetime) -> Card:
    """The card with its new status and version; same status is a no-op change refused."""
    if new_status == card.status:
        raise errors.InvalidTransition(f"card is already {card.status.value}")
    if new_status not in _TRANSITIONS[card.status]:
        raise errors.InvalidTransition(
            f"a {card.status.value} card cannot become {new_status.value}"
        )
    if new_status == CardStatus.CLOSED and card.balance_cents != 0:
        raise errors.InvalidTransition("a card with an outstanding balance cannot be closed")
    return replace(card, status=new_status, version=card.version + 1, updated_at=now)


def apply_transaction(card: Card, kind: TransactionType, amount_cents: int, now: datetime) -> Card:
    """The card after a purchase or payment, or the domain error that refuses it."""
    if amount_cents <= 0 or amount_cents > MAX_AMOUNT_CENTS:
        raise errors.BadRequest("amount_cents must be a positive integer within limits")
    if kind == TransactionType.PURCHASE:
        if card.status != CardStatus.ACTIVE:
            raise errors.CardNotActive(f"card is {card.status.value}")
        if amount_cents > card.available_cents:
            raise errors.InsufficientCredit(
                f"purchase of {amount_cents} exceeds available credit {card.available_cents}"
            )
        balance = card.balance_cents + amount_cents
    else:
        if card.status == CardStatus.CLOSED:
            raise errors.CardNotActive("card is closed")
        if amount_cents > card.balance_cents:
            raise errors.OverPayment(
                f"payment of {amount_cents} exceeds balance {card.balance_cents}"
            )
        balance = card.balance_cents - amount_cents
    return replace(card, balance_cents=balance, version=card.version + 1, updated_at=now)
