"""Purchases and payments: optimistic concurrency on the card version.

Without ``If-Match`` a lost race is retried on a fresh read, a bounded number of times,
then answered 409. With ``If-Match`` the client pinned a version: a stale one is 412 at
once, and a race lost at commit is 412 too (the version it named is gone).
"""

from __future__ import annotations

from reference_app.backends.listing import key_of
from reference_app.domain import errors, rules
from reference_app.domain.model import Transaction, TransactionType
from reference_app.service_layer.access import plausible_id, visible_card
from reference_app.service_layer.cards import if_match_satisfied
from reference_app.service_layer.context import Services
from reference_app.service_layer.events import new_event
from reference_app.service_layer.idempotency import Claim, lost_claim, run_idempotent
from reference_app.service_layer.outcome import Outcome
from reference_app.service_layer.pagination import Page, paginate
from reference_app.service_layer.ports import Principal
from reference_app.service_layer.unit_of_work import CommitConflict, PageQuery
from reference_app.service_layer.views import etag, transaction_view


def post(
    svc: Services,
    principal: Principal,
    card_id: str,
    *,
    kind: TransactionType,
    amount_cents: int,
    description: str | None,
    idempotency_key: str | None,
    if_match: str | None,
) -> Outcome:
    body = {"type": kind.value, "amount_cents": amount_cents, "description": description}

    def attempt(claim: Claim | None) -> Outcome | None:
        """One read-decide-commit round; ``None`` when the card version moved."""
        with svc.backend.unit_of_work() as uow:
            card = visible_card(uow, principal, card_id)
            if if_match is not None and not if_match_satisfied(if_match, card):
                raise errors.PreconditionFailed(f"card is at version {card.version}")
            now = svc.clock.now()
            updated = rules.apply_transaction(card, kind, amount_cents, now)
            txn = Transaction(
                id=svc.ids.new_id("txn", now),
                card_id=card.id,
                user_id=card.user_id,
                type=kind,
                amount_cents=amount_cents,
                description=description,
                balance_after_cents=updated.balance_cents,
                created_at=now,
            )
            uow.update(updated, card.version)
            uow.add(txn)
            uow.add(
                new_event(
                    svc, f"card.{kind.value}", card.id, updated.version, transaction_view(txn)
                )
            )
            outcome = Outcome(
                201,
                transaction_view(txn),
                {"etag": etag(updated), "location": f"/v1/cards/{card.id}/transactions/{txn.id}"},
            )
            if claim:
                claim.complete(uow, outcome)
            svc.before_commit(f"post_{kind.value}")
            try:
                uow.commit()
            except CommitConflict as conflict:
                if lost_claim(conflict):
                    raise errors.IdempotencyInFlight(
                        "this Idempotency-Key was taken over by a newer request"
                    ) from conflict
                if if_match is not None:
                    raise errors.PreconditionFailed(
                        "the card changed since it was read"
                    ) from conflict
                return None
            return outcome

    def operation(claim: Claim | None) -> Outcome:
        for _ in range(svc.policies.max_conflict_retries + 1):
            outcome = attempt(claim)
            if outcome is not None:
                return outcome
        raise errors.ConcurrencyConflict("the card kept changing; retry the request")

    return run_idempotent(
        svc,
        principal=principal.subject,
        method="POST",
        path=f"/v1/cards/{card_id}/transactions",
        key=idempotency_key,
        body=body,
        operation=operation,
    )


def listing(
    svc: Services,
    principal: Principal,
    card_id: str,
    kind: TransactionType | None,
    limit: int,
    cursor: str | None,
) -> Page[Transaction]:
    with svc.backend.unit_of_work() as uow:
        visible_card(uow, principal, card_id)
        return paginate(
            svc.cursors,
            "transactions",
            {"card": card_id, "type": kind.value if kind else None},
            limit,
            cursor,
            lambda page: uow.list_transactions(card_id, kind, page),
            key_of,
        )


#: rows read per storage round trip while looking one transaction up
_LOOKUP_PAGE = 100


def get(svc: Services, principal: Principal, card_id: str, transaction_id: str) -> Outcome:
    """One transaction of a card the caller can see (what ``Location`` names).

    The storage port has no point read for transactions (their key is the listing's
    (created_at, id)), so this walks the card's listing: every backend pages it the same
    way, and a card's history is short next to what a listing page holds.
    """
    with svc.backend.unit_of_work() as uow:
        visible_card(uow, principal, card_id)
        wanted = plausible_id(transaction_id)
        page = PageQuery(_LOOKUP_PAGE)
        while wanted:
            rows = uow.list_transactions(card_id, None, page)
            for txn in rows:
                if txn.id == wanted:
                    return Outcome(200, transaction_view(txn))
            if len(rows) < page.limit:
                break
            page = PageQuery(_LOOKUP_PAGE, key_of(rows[-1]))
    raise errors.NotFound(f"transaction {transaction_id} not found on card {card_id}")
