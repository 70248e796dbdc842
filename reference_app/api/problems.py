"""RFC 9457 problem+json for every refusal; nothing else ever leaves as an error body.

Domain errors carry their own slug and status. Validation errors become 422 (400 for a
body that is not JSON at all). Anything unexpected is a 500 with a generic body and no
stack trace; a store that cannot be reached is a 503.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from reference_app.domain import errors
from reference_app.service_layer.idempotency import problem_body
from reference_app.service_layer.outcome import PROBLEM_JSON
from reference_app.service_layer.unit_of_work import BackendUnavailable

log = logging.getLogger("reference_app")

_HTTP_SLUGS = {
    404: ("not-found", "Resource not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def problem_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _problem(slug: str, title: str, status: int, detail: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": f"urn:parity:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.DomainError)
    headers = {"www-authenticate": "Bearer"} if isinstance(exc, errors.Unauthenticated) else None
    return problem_response(exc.status, problem_body(exc), headers)


def _clean(err: dict[str, Any]) -> dict[str, Any]:
    """Keep location, message and type: never echo the input back (it may be huge)."""
    return {
        "loc": [str(p) for p in err.get("loc", ())],
        "msg": str(err.get("msg", "")),
        "type": str(err.get("type", "")),
    }


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = [_clean(e) for e in exc.errors()]
    if any(d["type"] == "json_invalid" for d in details):
        body = _problem("malformed-json", "Malformed JSON", 400, "the body is not valid JSON")
        return problem_response(400, body)
    body = _problem(
        "validation-error",
        "Invalid request",
        422,
        "the request does not match the schema",
        errors=details,
    )
    return problem_response(422, body)


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path. Starlette's 405 names only the first
    partially matching route's methods; RFC 9110 wants the resource's full set, so ask
    the router, method by method, which ones it would fully match."""
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    slug, title = _HTTP_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
    body = _problem(slug, title, exc.status_code, str(exc.detail))
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
        headers["allow"] = allowed_methods(request)
    return problem_response(exc.status_code, body, headers)


async def _unavailable(request: Request, exc: Exception) -> Response:
    log.error("backend unavailable: %s", exc)
    body = _problem("backend-unavailable", "Storage unavailable", 503, "try again later")
    return problem_response(503, body, {"retry-after": "1"})


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    body = _problem("internal-error", "Internal error", 500, "an unexpected error occurred")
    return problem_response(500, body)


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(BackendUnavailable, _unavailable)
    app.add_exception_handler(Exception, _unexpected)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problem statuses an operation can return."""
    titles = {cls.status: cls.title for cls in errors.ALL_ERRORS}
    titles.update(
        {
            400: "Bad request or malformed JSON",
            422: "Invalid request or refused by a rule",
            503: "Storage unavailable",
        }
    )
    return {
        status: {
            "description": titles.get(status, "Problem"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in sorted(set(statuses))
    }
