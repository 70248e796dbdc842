"""``/v1/events``: the outbox as CloudEvents, for the admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from reference_app.api import schemas
from reference_app.api.dependencies import PrincipalDep, ServicesDep, render_page
from reference_app.api.problems import documented
from reference_app.api.worker import in_worker
from reference_app.service_layer import event_log
from reference_app.service_layer.pagination import DEFAULT_LIMIT, MAX_LIMIT
from reference_app.service_layer.views import event_view

router = APIRouter(tags=["events"])


@router.get(
    "/v1/events",
    operation_id="listEvents",
    response_model=schemas.EventPage,
    responses=documented(400, 401, 403, 422),
)
async def list_events(
    svc: ServicesDep,
    who: PrincipalDep,
    subject: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    """Oldest first; ``subject`` narrows to one aggregate (its gapless sequence)."""
    page = await in_worker(event_log.listing, svc, who, subject, limit, cursor)
    return render_page(page, event_view)
