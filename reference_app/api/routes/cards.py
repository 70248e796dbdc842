"""``/v1/cards`` and ``/v1/dashboard``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from reference_app.api import schemas
from reference_app.api.dependencies import PrincipalDep, ServicesDep, render, render_page
from reference_app.api.links import link
from reference_app.api.preconditions import checked_if_match
from reference_app.api.problems import documented
from reference_app.api.worker import in_worker
from reference_app.domain.model import CardStatus
from reference_app.service_layer import cards
from reference_app.service_layer.pagination import DEFAULT_LIMIT, MAX_LIMIT
from reference_app.service_layer.views import card_view

router = APIRouter(tags=["cards"])

_ETAG = {
    "ETag": {
        "description": "The card's version as a strong validator",
        "schema": {"type": "string"},
    }
}


@router.get(
    "/v1/cards",
    operation_id="listCards",
    response_model=schemas.CardPage,
    responses=documented(400, 401, 422),
)
async def list_cards(
    svc: ServicesDep,
    who: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    return render_page(await in_worker(cards.listing, svc, who, limit, cursor), card_view)


@router.get(
    "/v1/cards/{card_id}",
    operation_id="getCard",
    response_model=schemas.Card,
    responses={
        **documented(401, 404),
        200: {
            "description": "The card",
            "headers": _ETAG,
            "links": {
                "ListTransactions": link("listTransactions", card_id="$response.body#/id"),
                "PostTransaction": link("postTransaction", card_id="$response.body#/id"),
                "UpdateCardStatus": link(
                    "updateCardStatus",
                    card_id="$response.body#/id",
                    **{"header.If-Match": "$response.header.ETag"},
                ),
            },
        },
    },
)
async def get_card(svc: ServicesDep, who: PrincipalDep, card_id: str) -> Response:
    return render(await in_worker(cards.get, svc, who, card_id))


@router.patch(
    "/v1/cards/{card_id}",
    operation_id="updateCardStatus",
    response_model=schemas.Card,
    responses={
        **documented(400, 401, 404, 409, 412, 422, 428),
        200: {"description": "Updated", "headers": _ETAG},
    },
)
async def update_card(
    body: schemas.CardPatch,
    svc: ServicesDep,
    who: PrincipalDep,
    card_id: str,
    if_match: Annotated[
        str | None, Header(alias="If-Match", description="Required: the card's current ETag")
    ] = None,
) -> Response:
    """Block, unblock or close a card. ``If-Match`` missing → 428, stale → 412."""
    status = CardStatus(body.status)
    if_match = checked_if_match(if_match)
    return render(await in_worker(cards.change_status, svc, who, card_id, status, if_match))


@router.get(
    "/v1/dashboard",
    operation_id="getDashboard",
    response_model=schemas.Dashboard,
    responses=documented(401),
)
async def dashboard(svc: ServicesDep, who: PrincipalDep) -> Response:
    """The caller's cards and most recent transactions."""
    return render(await in_worker(cards.dashboard, svc, who))
