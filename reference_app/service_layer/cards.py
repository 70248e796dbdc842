"""Cards: reads with ETags, status changes under ``If-Match``, the dashboard."""

from __future__ import annotations

from reference_app.backends.listing import key_of
from reference_app.domain import errors, rules
from reference_app.domain.model import Card, CardStatus, Transaction
from reference_app.service_layer.access import owner_filter, visible_card
from reference_app.service_layer.context import Services
from reference_app.service_layer.events import new_event
from reference_app.service_layer.outcome import Outcome
from reference_app.service_layer.pagination import Page, paginate
from reference_app.service_layer.ports import Principal
from reference_app.service_layer.unit_of_work import CommitConflict, PageQuery
from reference_app.service_layer.views import card_view, etag, transaction_view

DASHBOARD_CARDS = 20
DASHBOARD_TRANSACTIONS = 10


def if_match_satisfied(header: str, card: Card) -> bool:
    """RFC 9110 strong comparison; ``*`` matches any current card."""
    tags = [part.strip() for part in header.split(",")]
    return "*" in tags or etag(card) in tags


def get(svc: Services, principal: Principal, card_id: str) -> Outcome:
    with svc.backend.unit_of_work() as uow:
        card = visible_card(uow, principal, card_id)
    return Outcome(200, card_view(card), {"etag": etag(card)})


def listing(svc: Services, principal: Principal, limit: int, cursor: str | None) -> Page[Card]:
    owner = owner_filter(principal)
    with svc.backend.unit_of_work() as uow:
        return paginate(
            svc.cursors,
            "cards",
            {"user": owner},
            limit,
            cursor,
            lambda page: uow.list_cards(owner, page),
            key_of,
        )


def change_status(
    svc: Services, principal: Principal, card_id: str, status: CardStatus, if_match: str | None
) -> Outcome:
    """Optimistic concurrency made explicit: no ``If-Match`` → 428, stale → 412."""
    with svc.backend.unit_of_work() as uow:
        card = visible_card(uow, principal, card_id)
        if if_match is None:
            raise errors.PreconditionRequired("send If-Match with the card's current ETag")
        if not if_match_satisfied(if_match, card):
            raise errors.PreconditionFailed(f"card is at version {card.version}")
        now = svc.clock.now()
        updated = rules.change_status(card, status, now)
        uow.update(updated, card.version)
        uow.add(new_event(svc, "card.status_changed", card.id, updated.version, card_view(updated)))
        svc.before_commit("change_card_status")
        try:
            uow.commit()
        except CommitConflict as conflict:
            raise errors.PreconditionFailed("the card changed since it was read") from conflict
    return Outcome(200, card_view(updated), {"etag": etag(updated)})


def dashboard(svc: Services, principal: Principal) -> Outcome:
    owner = owner_filter(principal)
    with svc.backend.unit_of_work() as uow:
        cards = uow.list_cards(owner, PageQuery(limit=DASHBOARD_CARDS))
        recent: list[Transaction] = []
        for card in cards:
            recent.extend(uow.list_transactions(card.id, None, PageQuery(DASHBOARD_TRANSACTIONS)))
    recent.sort(key=lambda t: (t.created_at, t.id), reverse=True)
    return Outcome(
        200,
        {
            "cards": [card_view(c) for c in cards],
            "recent_transactions": [transaction_view(t) for t in recent[:DASHBOARD_TRANSACTIONS]],
        },
    )


__all__ = ["Page", "change_status", "dashboard", "get", "listing"]
