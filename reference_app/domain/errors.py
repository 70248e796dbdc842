"""Domain errors. Each has a stable slug: the API maps it to an RFC 9457 problem ``type``.

The slug and HTTP status live here (not in the API layer) so that every entrypoint,
and the parity harness, agrees on one catalogue of failures.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A request the ledger refuses. Never a server fault."""

    slug: ClassVar[str] = "domain-error"
    title: ClassVar[str] = "Request refused"
    status: ClassVar[int] = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadRequest(DomainError):
    slug = "bad-request"
    title = "Bad request"
    status = 400


class InvalidCursor(DomainError):
    slug = "invalid-cursor"
    title = "Invalid pagination cursor"
    status = 400


class InvalidIdempotencyKey(DomainError):
    slug = "invalid-idempotency-key"
    title = "Missing or invalid Idempotency-Key"
    status = 400


class Unauthenticated(DomainError):
    slug = "unauthenticated"
    title = "Authentication required"
    status = 401


class Forbidden(DomainError):
    slug = "forbidden"
    title = "Forbidden"
    status = 403


class NotFound(DomainError):
    slug = "not-found"
    title = "Resource not found"
    status = 404


class EmailTaken(DomainError):
    slug = "email-taken"
    title = "Email already registered"
    status = 409


class ConcurrencyConflict(DomainError):
    slug = "concurrency-conflict"
    title = "Concurrent modification"
    status = 409


class IdempotencyInFlight(DomainError):
    slug = "idempotency-in-flight"
    title = "A request with this Idempotency-Key is still being processed"
    status = 409


class InvalidTransition(DomainError):
    slug = "invalid-transition"
    title = "Invalid state transition"
    status = 409


class PreconditionFailed(DomainError):
    slug = "precondition-failed"
    title = "Precondition failed"
    status = 412


class IdempotencyKeyReused(DomainError):
    slug = "idempotency-key-reused"
    title = "Idempotency-Key reused with a different request"
    status = 422


class CardNotActive(DomainError):
    slug = "card-not-active"
    title = "Card is not active"
    status = 422


class InsufficientCredit(DomainError):
    slug = "insufficient-credit"
    title = "Insufficient available credit"
    status = 422


class OverPayment(DomainError):
    slug = "overpayment"
    title = "Payment exceeds the balance"
    status = 422


class PreconditionRequired(DomainError):
    slug = "precondition-required"
    title = "If-Match required"
    status = 428


ALL_ERRORS: tuple[type[DomainError], ...] = (
    BadRequest,
    InvalidCursor,
    InvalidIdempotencyKey,
    Unauthenticated,
    Forbidden,
    NotFound,
    EmailTaken,
    ConcurrencyConflict,
    IdempotencyInFlight,
    InvalidTransition,
    PreconditionFailed,
    IdempotencyKeyReused,
    CardNotActive,
    InsufficientCredit,
    OverPayment,
    PreconditionRequired,
)
