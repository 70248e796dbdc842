"""``/v1/card-requests``: apply for a card; admins approve or reject."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from reference_app.api import schemas
from reference_app.api.dependencies import PrincipalDep, ServicesDep, render, render_page
from reference_app.api.links import link
from reference_app.api.preconditions import checked_idempotency_key
from reference_app.api.problems import documented
from reference_app.api.worker import in_worker
from reference_app.domain.model import CardRequestStatus
from reference_app.service_layer import card_requests, idempotency
from reference_app.service_layer.pagination import DEFAULT_LIMIT, MAX_LIMIT
from reference_app.service_layer.views import card_request_view

router = APIRouter(prefix="/v1/card-requests", tags=["card requests"])

_CREATED_LINKS = {
    "GetCardRequest": link("getCardRequest", request_id="$response.body#/id"),
    "GetIssuedCard": link("getCard", card_id="$response.body#/card_id"),
    "ApproveCardRequest": link("approveCardRequest", request_id="$response.body#/id"),
    "RejectCardRequest": link("rejectCardRequest", request_id="$response.body#/id"),
}


@router.post(
    "",
    status_code=201,
    operation_id="createCardRequest",
    response_model=schemas.CardRequest,
    responses={
        **documented(400, 401, 403, 404, 409, 422),
        201: {"links": _CREATED_LINKS, "description": "Created (approved at once if score ≥ 700)"},
    },
)
async def create_card_request(
    svc: ServicesDep,
    who: PrincipalDep,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", description="Required; 1-255 characters")
    ] = None,
    body: schemas.CardRequestCreate | None = None,
) -> Response:
    key = idempotency.validate_key(checked_idempotency_key(idempotency_key), required=True)
    return render(await in_worker(card_requests.create, svc, who, key))


@router.get(
    "",
    operation_id="listCardRequests",
    response_model=schemas.CardRequestPage,
    responses=documented(400, 401, 422),
)
async def list_card_requests(
    svc: ServicesDep,
    who: PrincipalDep,
    status: CardRequestStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    """The admin sees every request (e.g. ``status=pending``); a user their own."""
    page = await in_worker(card_requests.listing, svc, who, status, limit, cursor)
    return render_page(page, card_request_view)


@router.get(
    "/{request_id}",
    operation_id="getCardRequest",
    response_model=schemas.CardRequest,
    responses=documented(401, 404),
)
async def get_card_request(svc: ServicesDep, who: PrincipalDep, request_id: str) -> Response:
    return render(await in_worker(card_requests.get, svc, who, request_id))


_DECIDED = {
    **documented(401, 403, 404, 409),
    200: {
        "links": {"GetIssuedCard": link("getCard", card_id="$response.body#/card_id")},
        "description": "Decided",
    },
}


@router.post(
    "/{request_id}/approve",
    operation_id="approveCardRequest",
    response_model=schemas.CardRequest,
    responses=_DECIDED,
)
async def approve(svc: ServicesDep, who: PrincipalDep, request_id: str) -> Response:
    """Admin only: approve a pending request and issue its card."""
    return render(await in_worker(card_requests.decide, svc, who, request_id, approve=True))


@router.post(
    "/{request_id}/reject",
    operation_id="rejectCardRequest",
    response_model=schemas.CardRequest,
    responses=documented(401, 403, 404, 409),
)
async def reject(svc: ServicesDep, who: PrincipalDep, request_id: str) -> Response:
    """Admin only: reject a pending request."""
    return render(await in_worker(card_requests.decide, svc, who, request_id, approve=False))
