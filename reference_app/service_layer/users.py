"""Sign-up and the caller's own profile."""

from __future__ import annotations

from reference_app.domain import errors
from reference_app.domain.model import User
from reference_app.service_layer.access import plausible_id
from reference_app.service_layer.context import Services
from reference_app.service_layer.events import new_event
from reference_app.service_layer.idempotency import Claim, run_idempotent
from reference_app.service_layer.outcome import Outcome
from reference_app.service_layer.ports import Principal
from reference_app.service_layer.unit_of_work import CommitConflict, Insert
from reference_app.service_layer.views import user_view


def sign_up(
    svc: Services, *, name: str, email: str, score: int, idempotency_key: str | None
) -> Outcome:
    body = {"name": name, "email": email, "score": score}

    def operation(claim: Claim | None) -> Outcome:
        normalized = email.strip().lower()
        now = svc.clock.now()
        with svc.backend.unit_of_work() as uow:
            if uow.get_user_by_email(normalized) is not None:
                raise errors.EmailTaken(f"{normalized} is already registered")
            user = User(
                id=svc.ids.new_id("usr", now),
                name=name,
                email=normalized,
                score=score,
                created_at=now,
            )
            uow.add(user)
            uow.add(new_event(svc, "user.registered", user.id, 1, user_view(user)))
            token = svc.tokens.issue(user.id, now)
            # No Location: the new user is readable only as itself (or by the admin),
            # and the anonymous caller holds no credentials to follow one with.
            outcome = Outcome(
                201, {**user_view(user), "access_token": token, "token_type": "Bearer"}
            )
            if claim:
                claim.complete(uow, outcome)
            svc.before_commit("sign_up")
            try:
                uow.commit()
            except CommitConflict as conflict:
                if isinstance(conflict.change, Insert) and isinstance(conflict.change.entity, User):
                    raise errors.EmailTaken(f"{normalized} is already registered") from conflict
                raise errors.ConcurrencyConflict("sign-up raced another request") from conflict
            return outcome

    return run_idempotent(
        svc,
        principal="anonymous",
        method="POST",
        path="/v1/users",
        key=idempotency_key,
        body=body,
        operation=operation,
    )


def me(svc: Services, principal: Principal) -> Outcome:
    with svc.backend.unit_of_work() as uow:
        user = uow.get_user(principal.subject)
    if user is None:
        raise errors.NotFound("no user for this token")
    return Outcome(200, user_view(user))


def get(svc: Services, principal: Principal, user_id: str) -> Outcome:
    """A user by id: the user themself or the admin; anyone else's is absent (404)."""
    if not (principal.is_admin or principal.subject == user_id):
        raise errors.NotFound(f"user {user_id} not found")
    key = plausible_id(user_id)
    with svc.backend.unit_of_work() as uow:
        user = uow.get_user(key) if key else None
    if user is None:
        raise errors.NotFound(f"user {user_id} not found")
    return Outcome(200, user_view(user))
