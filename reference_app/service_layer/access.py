"""Per-user authorization: another user's resource is *absent*, not forbidden."""

from __future__ import annotations

import re

from reference_app.domain import errors
from reference_app.domain.model import Card, CardRequest
from reference_app.service_layer.ports import Principal
from reference_app.service_layer.unit_of_work import UnitOfWork


def owner_filter(principal: Principal) -> str | None:
    """The user id a listing is restricted to; ``None`` (everyone's) for the admin."""
    return None if principal.is_admin else principal.subject


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise errors.Forbidden("this operation needs the admin role")


#: Ids this API issues are ``prefix_`` + base32: anything else cannot exist. Checking
#: first turns inputs some stores reject loudly (NUL in PostgreSQL text, over-long
#: DynamoDB keys) into the clean 404 every backend agrees on.
_ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def plausible_id(value: str) -> str | None:
    return value if _ID_SHAPE.fullmatch(value) else None


def visible_card(uow: UnitOfWork, principal: Principal, card_id: str) -> Card:
    key = plausible_id(card_id)
    card = uow.get_card(key) if key else None
    if card is None or not (principal.is_admin or card.user_id == principal.subject):
        raise errors.NotFound(f"card {card_id} not found")
    return card


def visible_request(uow: UnitOfWork, principal: Principal, request_id: str) -> CardRequest:
    key = plausible_id(request_id)
    req = uow.get_card_request(key) if key else None
    if req is None or not (principal.is_admin or req.user_id == principal.subject):
        raise errors.NotFound(f"card request {request_id} not found")
    return req
