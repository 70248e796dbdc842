"""IETF ``Idempotency-Key`` (draft-ietf-httpapi-idempotency-key-header).

Protocol, per (principal, method, path, key):
1. *Claim*: write an in-flight record in its own small commit, conditional on there being
   no live record (absent, expired, or an in-flight one abandoned past its timeout, which
   is taken over by naming its token). Losing that race means another request owns it.
2. *Execute*: the operation stages its state changes **and** the completed record
   (conditional on still holding our token) in one unit of work, so a replay can never
   observe a half-done request.
3. Refusals that are a final answer (422 business rules, 409 e-mail taken) are stored too
   and replayed; transient failures (version conflicts, 412, 404, infrastructure) release
   the claim so the client can retry with the same key.

Expiry is decided here, from the injected clock, never by the store: DynamoDB deletes
TTL'd items lazily (moto never), so an expired record that is still physically present
must behave exactly like an absent one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from reference_app.domain import errors
from reference_app.domain.model import IdempotencyRecord, IdempotencyState
from reference_app.service_layer.context import Services
from reference_app.service_layer.outcome import PROBLEM_JSON, Outcome
from reference_app.service_layer.unit_of_work import ClaimIdempotency, CommitConflict, UnitOfWork

MAX_KEY_LENGTH = 255
_CLAIM_ATTEMPTS = 5
#: Refusals whose answer will never change for the same request: stored and replayed.
FINAL_ERRORS: tuple[type[errors.DomainError], ...] = (
    errors.InsufficientCredit,
    errors.CardNotActive,
    errors.OverPayment,
    errors.EmailTaken,
    errors.InvalidTransition,
)


def problem_body(error: errors.DomainError) -> dict[str, Any]:
    """The RFC 9457 body of a domain error (shared with the API's error handler)."""
    return {
        "type": f"urn:parity:problem:{error.slug}",
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
    }


def validate_key(key: str | None, required: bool) -> str | None:
    if key is None:
        if required:
            raise errors.InvalidIdempotencyKey("the Idempotency-Key header is required")
        return None
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise errors.InvalidIdempotencyKey(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters"
        )
    return key


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def fingerprint(body: Any) -> str:
    return _digest(json.dumps(body, sort_keys=True, separators=(",", ":")))


@dataclass(frozen=True)
class Claim:
    """Our hold on an idempotency record; staged into the operation's commit."""

    record: IdempotencyRecord

    def complete(self, uow: UnitOfWork, outcome: Outcome) -> None:
        done = replace(
            self.record,
            state=IdempotencyState.COMPLETED,
            status_code=outcome.status,
            response_body=outcome.body_text(),
            response_headers=dict(outcome.headers),
        )
        uow.claim_idempotency(done, replaces_token=self.record.token)


def _replay(record: IdempotencyRecord) -> Outcome:
    assert record.status_code is not None and record.response_body is not None
    return Outcome(
        record.status_code,
        json.loads(record.response_body),
        dict(record.response_headers),
        replayed=True,
    )


def _claim(svc: Services, scope: str, print_: str) -> Claim | Outcome:
    """Take the record for ``scope``, or answer from it (replay / 422 / 409)."""
    for _ in range(_CLAIM_ATTEMPTS):
        now = svc.clock.now()
        with svc.backend.unit_of_work() as uow:
            existing = uow.get_idempotency(scope)
            replaces: str | None = None
            if existing is not None:
                if existing.is_expired(now):
                    replaces = existing.token
                elif existing.state == IdempotencyState.COMPLETED:
                    if existing.fingerprint != print_:
                        raise errors.IdempotencyKeyReused(
                            "this Idempotency-Key was used with a different request body"
                        )
                    return _replay(existing)
                elif now - existing.locked_at < svc.policies.idempotency_inflight_timeout:
                    raise errors.IdempotencyInFlight(
                        "a request with this Idempotency-Key is still in progress"
                    )
                else:
                    replaces = existing.token  # abandoned in flight: take it over
            record = IdempotencyRecord(
                scope=scope,
                fingerprint=print_,
                state=IdempotencyState.IN_FLIGHT,
                token=secrets.token_hex(16),
                created_at=now,
                expires_at=now + svc.policies.idempotency_ttl,
                locked_at=now,
            )
            uow.claim_idempotency(record, replaces_token=replaces)
            svc.before_claim()
            try:
                uow.commit()
            except CommitConflict:
                continue  # someone else moved first: look again
            return Claim(record)
    raise errors.IdempotencyInFlight("a request with this Idempotency-Key is still in progress")


def _settle_refusal(svc: Services, claim: Claim, error: errors.DomainError) -> None:
    """Store a final refusal, or release the key after a transient one."""
    with svc.backend.unit_of_work() as uow:
        if isinstance(error, FINAL_ERRORS):
            outcome = Outcome(error.status, problem_body(error), {"content-type": PROBLEM_JSON})
            claim.complete(uow, outcome)
        else:
            uow.release_idempotency(claim.record.scope, claim.record.token)
        # A conflict means our claim was taken over after its timeout: the new owner decides.
        with contextlib.suppress(CommitConflict):
            uow.commit()


def run_idempotent(
    svc: Services,
    *,
    principal: str,
    method: str,
    path: str,
    key: str | None,
    body: Any,
    operation: Callable[[Claim | None], Outcome],
) -> Outcome:
    """Run ``operation`` at most once per key; ``operation`` must call
    ``claim.complete(uow, outcome)`` in the same unit of work that commits its changes."""
    if key is None:
        return operation(None)
    scope = _digest(principal, method.upper(), path, key)
    claimed = _claim(svc, scope, fingerprint(body))
    if isinstance(claimed, Outcome):
        return claimed
    try:
        return operation(claimed)
    except errors.DomainError as error:
        _settle_refusal(svc, claimed, error)
        raise
    except BaseException:
        _release_quietly(svc, claimed)
        raise


def _release_quietly(svc: Services, claim: Claim) -> None:
    try:
        with svc.backend.unit_of_work() as uow:
            uow.release_idempotency(claim.record.scope, claim.record.token)
            uow.commit()
    except Exception:  # the store is failing already; the in-flight timeout recovers it
        pass


def lost_claim(conflict: CommitConflict) -> bool:
    """Did the commit fail because our idempotency claim was taken over?"""
    return isinstance(conflict.change, ClaimIdempotency)
