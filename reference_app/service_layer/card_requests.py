"""Card requests: auto-approval by score tier, admin decisions, card issuance."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from reference_app.backends.listing import key_of
from reference_app.domain import errors
from reference_app.domain.model import Card, CardRequest, CardRequestStatus, CardStatus, User
from reference_app.service_layer.access import owner_filter, require_admin, visible_request
from reference_app.service_layer.context import Services
from reference_app.service_layer.events import new_event
from reference_app.service_layer.idempotency import Claim, run_idempotent
from reference_app.service_layer.outcome import Outcome
from reference_app.service_layer.pagination import Page, paginate
from reference_app.service_layer.ports import Principal
from reference_app.service_layer.unit_of_work import CommitConflict, UnitOfWork
from reference_app.service_layer.views import card_request_view, card_view


def _issue_card(svc: Services, uow: UnitOfWork, req: CardRequest, now: datetime) -> Card:
    card = Card(
        id=svc.ids.new_id("card", now),
        user_id=req.user_id,
        request_id=req.id,
        status=CardStatus.ACTIVE,
        credit_limit_cents=req.credit_limit_cents,
        balance_cents=0,
        created_at=now,
        updated_at=now,
    )
    uow.add(card)
    uow.add(new_event(svc, "card.issued", card.id, card.version, card_view(card)))
    return card


def create(svc: Services, principal: Principal, idempotency_key: str | None) -> Outcome:
    if principal.is_admin:
        raise errors.Forbidden("the admin cannot request a card; sign up as a user")

    def operation(claim: Claim | None) -> Outcome:
        now = svc.clock.now()
        with svc.backend.unit_of_work() as uow:
            user: User | None = uow.get_user(principal.subject)
            if user is None:
                raise errors.NotFound("no user for this token")
            policy = svc.policies.credit
            req = CardRequest(
                id=svc.ids.new_id("creq", now),
                user_id=user.id,
                status=CardRequestStatus.PENDING,
                credit_limit_cents=policy.limit_for(user.score),
                card_id=None,
                created_at=now,
            )
            if policy.auto_approves(user.score):
                card = _issue_card(svc, uow, req, now)
                req = replace(
                    req, status=CardRequestStatus.APPROVED, card_id=card.id, decided_at=now
                )
            uow.add(req)
            uow.add(new_event(svc, "card_request.created", req.id, 1, card_request_view(req)))
            outcome = Outcome(
                201, card_request_view(req), {"location": f"/v1/card-requests/{req.id}"}
            )
            if claim:
                claim.complete(uow, outcome)
            svc.before_commit("create_card_request")
            try:
                uow.commit()
            except CommitConflict as conflict:
                raise errors.ConcurrencyConflict("card request raced another request") from conflict
            return outcome

    return run_idempotent(
        svc,
        principal=principal.subject,
        method="POST",
        path="/v1/card-requests",
        key=idempotency_key,
        body={},
        operation=operation,
    )


def get(svc: Services, principal: Principal, request_id: str) -> Outcome:
    with svc.backend.unit_of_work() as uow:
        return Outcome(200, card_request_view(visible_request(uow, principal, request_id)))


def listing(
    svc: Services,
    principal: Principal,
    status: CardRequestStatus | None,
    limit: int,
    cursor: str | None,
) -> Page[CardRequest]:
    owner = owner_filter(principal)
    with svc.backend.unit_of_work() as uow:
        return paginate(
            svc.cursors,
            "card-requests",
            {"user": owner, "status": status.value if status else None},
            limit,
            cursor,
            lambda page: uow.list_card_requests(owner, status, page),
            key_of,
        )


def decide(svc: Services, principal: Principal, request_id: str, approve: bool) -> Outcome:
    """Approve (issuing the card) or reject a pending request. Admin only."""
    require_admin(principal)
    for _ in range(svc.policies.max_conflict_retries + 1):
        now = svc.clock.now()
        with svc.backend.unit_of_work() as uow:
            req = visible_request(uow, principal, request_id)
            if req.status != CardRequestStatus.PENDING:
                raise errors.InvalidTransition(f"card request is already {req.status.value}")
            decided = replace(
                req,
                status=CardRequestStatus.APPROVED if approve else CardRequestStatus.REJECTED,
                decided_at=now,
                version=req.version + 1,
            )
            if approve:
                card = _issue_card(svc, uow, req, now)
                decided = replace(decided, card_id=card.id)
            kind = "approved" if approve else "rejected"
            uow.update(decided, req.version)
            uow.add(
                new_event(
                    svc, f"card_request.{kind}", req.id, decided.version, card_request_view(decided)
                )
            )
            svc.before_commit(f"card_request_{kind}")
            try:
                uow.commit()
            except CommitConflict:
                continue
            return Outcome(200, card_request_view(decided))
    raise errors.ConcurrencyConflict("card request kept changing; retry")
