"""Request-scoped dependencies: the wired services, the caller, rendering.

The dependencies are ``async`` on purpose: a lookup and a JWT check cost less than the
worker-thread hand-off FastAPI gives every sync dependency (see :mod:`.worker`).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from reference_app.domain import errors
from reference_app.service_layer.context import Services
from reference_app.service_layer.outcome import PROBLEM_JSON, Outcome
from reference_app.service_layer.pagination import Page
from reference_app.service_layer.ports import Principal

T = TypeVar("T")

_bearer = HTTPBearer(auto_error=False, description="A user's access_token, or the admin token")


async def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise errors.Unauthenticated("send Authorization: Bearer <token>")
    svc: Services = request.app.state.services
    return svc.tokens.verify(credentials.credentials, svc.clock.now())


ServicesDep = Annotated[Services, Depends(services)]
PrincipalDep = Annotated[Principal, Depends(principal)]


def _json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def render(outcome: Outcome) -> Response:
    headers = {k: v for k, v in outcome.headers.items() if k.lower() != "content-type"}
    media = outcome.headers.get("content-type", "application/json")
    if outcome.replayed:
        headers["idempotent-replayed"] = "true"
    return Response(_json(outcome.body), outcome.status, headers=headers, media_type=media)


def render_page(page: Page[T], view: Any) -> Response:
    body = {"items": [view(item) for item in page.items], "next_cursor": page.next_cursor}
    return Response(_json(body), 200, media_type="application/json")


__all__ = ["PROBLEM_JSON", "PrincipalDep", "ServicesDep", "render", "render_page"]
