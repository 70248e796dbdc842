"""``/v1/cards/{card_id}/transactions``: purchases, payments and their listing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from reference_app.api import schemas
from reference_app.api.dependencies import PrincipalDep, ServicesDep, render, render_page
from reference_app.api.links import link
from reference_app.api.preconditions import checked_idempotency_key, checked_if_match
from reference_app.api.problems import documented
from reference_app.api.worker import in_worker
from reference_app.domain.model import TransactionType
from reference_app.service_layer import idempotency, transactions
from reference_app.service_layer.pagination import DEFAULT_LIMIT, MAX_LIMIT
from reference_app.service_layer.views import transaction_view

router = APIRouter(prefix="/v1/cards/{card_id}/transactions", tags=["transactions"])


@router.post(
    "",
    status_code=201,
    operation_id="postTransaction",
    response_model=schemas.Transaction,
    responses={
        **documented(400, 401, 404, 409, 412, 422),
        201: {
            "description": "Recorded",
            "headers": {
                "ETag": {"description": "The card's new version", "schema": {"type": "string"}},
                "Idempotent-Replayed": {
                    "description": "true on a replay",
                    "schema": {"type": "string"},
                },
                "Location": {
                    "description": "/v1/cards/{card_id}/transactions/{id}",
                    "schema": {"type": "string"},
                },
            },
            "links": {
                "GetCard": link("getCard", card_id="$response.body#/card_id"),
                "GetTransaction": link(
                    "getTransaction",
                    card_id="$response.body#/card_id",
                    transaction_id="$response.body#/id",
                ),
                "ListTransactions": link("listTransactions", card_id="$response.body#/card_id"),
            },
        },
    },
)
async def post_transaction(
    body: schemas.TransactionCreate,
    svc: ServicesDep,
    who: PrincipalDep,
    card_id: str,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", description="Required; 1-255 characters")
    ] = None,
    if_match: Annotated[
        str | None, Header(alias="If-Match", description="Optional: pin the card's version")
    ] = None,
) -> Response:
    key = idempotency.validate_key(checked_idempotency_key(idempotency_key), required=True)
    return render(
        await in_worker(
            transactions.post,
            svc,
            who,
            card_id,
            kind=TransactionType(body.type),
            amount_cents=body.amount_cents,
            description=body.description,
            idempotency_key=key,
            if_match=checked_if_match(if_match),
        )
    )


@router.get(
    "",
    operation_id="listTransactions",
    response_model=schemas.TransactionPage,
    responses=documented(400, 401, 404, 422),
)
async def list_transactions(
    svc: ServicesDep,
    who: PrincipalDep,
    card_id: str,
    type: TransactionType | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    """Newest first by (created_at, id); every page but the last is full."""
    page = await in_worker(transactions.listing, svc, who, card_id, type, limit, cursor)
    return render_page(page, transaction_view)


@router.get(
    "/{transaction_id}",
    operation_id="getTransaction",
    response_model=schemas.Transaction,
    responses=documented(401, 404),
)
async def get_transaction(
    svc: ServicesDep, who: PrincipalDep, card_id: str, transaction_id: str
) -> Response:
    """One transaction of a card you can see (another user's card is 404)."""
    return render(await in_worker(transactions.get, svc, who, card_id, transaction_id))
