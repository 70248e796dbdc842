"""Liveness (the process answers) and readiness (the store answers)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from reference_app.api import schemas
from reference_app.api.dependencies import ServicesDep, render
from reference_app.api.problems import documented
from reference_app.api.worker import in_worker
from reference_app.service_layer.outcome import Outcome

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/liveness", operation_id="liveness", response_model=schemas.Health)
async def liveness() -> Response:
    return render(Outcome(200, {"status": "ok"}))


@router.get(
    "/readiness",
    operation_id="readiness",
    response_model=schemas.Health,
    responses=documented(503),
)
async def readiness(svc: ServicesDep) -> Response:
    await in_worker(svc.backend.check_ready)  # BackendUnavailable → 503 problem
    return render(Outcome(200, {"status": "ok"}))
