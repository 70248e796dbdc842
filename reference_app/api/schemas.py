"""Request and response models: the OpenAPI contract's schemas.

Responses are rendered by :mod:`reference_app.service_layer.views`; these models
document them (and the schema-drift test keeps the two honest). Text fields refuse NUL
and lone surrogates, which no backend can store: a 422, never a 500.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from reference_app.domain.rules import MAX_AMOUNT_CENTS, MAX_SCORE


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value


def _integral(value: object) -> object:
    """JSON has one number type: ``5.0`` *is* the integer 5 (JSON Schema agrees), so it is
    accepted as 5; ``5.5``, strings and booleans still fail :class:`StrictInt`."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: no NUL: no backend can store it, so the contract says so (a 422 the schema predicts)
NO_NUL = r"^[^\x00]*$"
#: whitespace spelled out: ECMA-262 (the contract's regex dialect), Python and Rust
#: (pydantic) disagree on what ``\s`` means, and a pattern must mean one thing
_NOT_SPACE = r"[^@\t\n\v\f\r \x00\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
EMAIL_PATTERN = rf"^{_NOT_SPACE}+@{_NOT_SPACE}+\.{_NOT_SPACE}+$"

Name = Annotated[
    str, Field(min_length=1, max_length=100, pattern=NO_NUL), AfterValidator(_storable)
]
Email = Annotated[
    str,
    Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN),
    AfterValidator(_storable),
]
Description = Annotated[str, Field(max_length=200, pattern=NO_NUL), AfterValidator(_storable)]
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignUp(_Strict):
    name: Name
    email: Email
    score: Annotated[StrictInt, Field(ge=0, le=MAX_SCORE), BeforeValidator(_integral)]


class User(BaseModel):
    id: str
    name: str
    email: str
    score: int
    created_at: Timestamp


class SignedUpUser(User):
    access_token: str
    token_type: Literal["Bearer"]


class CardRequestCreate(_Strict):
    """No fields: the credit limit follows from the caller's score."""


class CardRequest(BaseModel):
    id: str
    user_id: str
    status: Literal["pending", "approved", "rejected"]
    credit_limit_cents: int
    card_id: str | None
    created_at: Timestamp
    decided_at: Timestamp | None


class Card(BaseModel):
    id: str
    user_id: str
    request_id: str
    status: Literal["active", "blocked", "closed"]
    credit_limit_cents: int
    balance_cents: int
    available_cents: int
    version: int
    created_at: Timestamp
    updated_at: Timestamp


class CardPatch(_Strict):
    status: Literal["active", "blocked", "closed"]


class TransactionCreate(_Strict):
    type: Literal["purchase", "payment"]
    amount_cents: Annotated[StrictInt, Field(ge=1, le=MAX_AMOUNT_CENTS), BeforeValidator(_integral)]
    description: Description | None = None


class Transaction(BaseModel):
    id: str
    card_id: str
    type: Literal["purchase", "payment"]
    amount_cents: int
    description: str | None
    balance_after_cents: int
    created_at: Timestamp


class CloudEvent(BaseModel):
    specversion: Literal["1.0"]
    id: str
    source: str
    type: str
    subject: str
    time: Timestamp
    datacontenttype: Literal["application/json"]
    sequence: int = Field(ge=1, description="Per subject: 1, 2, 3, ... with no gaps")
    data: dict[str, object]


class CardRequestPage(BaseModel):
    items: list[CardRequest]
    next_cursor: str | None


class CardPage(BaseModel):
    items: list[Card]
    next_cursor: str | None


class TransactionPage(BaseModel):
    items: list[Transaction]
    next_cursor: str | None


class EventPage(BaseModel):
    items: list[CloudEvent]
    next_cursor: str | None


class Dashboard(BaseModel):
    cards: list[Card]
    recent_transactions: list[Transaction]


class Health(BaseModel):
    status: Literal["ok"]


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[dict[str, object]] | None = None
