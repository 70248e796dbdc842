"""``/v1/users``: public sign-up and the caller's profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import Response

from reference_app.api import schemas
from reference_app.api.dependencies import PrincipalDep, ServicesDep, render
from reference_app.api.links import AS_CALLER, AS_SIGNED_UP_USER, link
from reference_app.api.preconditions import checked_idempotency_key
from reference_app.api.problems import documented
from reference_app.api.worker import in_worker
from reference_app.service_layer import idempotency, users

router = APIRouter(prefix="/v1/users", tags=["users"])


@router.post(
    "",
    status_code=201,
    operation_id="signUp",
    response_model=schemas.SignedUpUser,
    responses={
        **documented(400, 409, 422),
        201: {
            # No Location and no link to getUser: the new user is readable only as
            # itself (a Location followed by the anonymous caller, or by anyone else,
            # is 401/404). The link carries the credentials it is followed with.
            "description": "Signed up: the user and a bearer token that acts as them",
            "links": {"GetMe": link("getMe", **AS_SIGNED_UP_USER)},
        },
    },
)
async def sign_up(
    body: schemas.SignUp,
    svc: ServicesDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    """Public sign-up: returns the user and a bearer token. Idempotency-Key optional."""
    key = idempotency.validate_key(checked_idempotency_key(idempotency_key), required=False)
    return render(
        await in_worker(
            users.sign_up,
            svc,
            name=body.name,
            email=body.email,
            score=body.score,
            idempotency_key=key,
        )
    )


@router.get(
    "/me",
    operation_id="getMe",
    response_model=schemas.User,
    responses={
        **documented(401, 404),
        200: {
            "description": "The caller",
            "links": {"GetUser": link("getUser", user_id="$response.body#/id", **AS_CALLER)},
        },
    },
)
async def get_me(svc: ServicesDep, who: PrincipalDep) -> Response:
    return render(await in_worker(users.me, svc, who))


@router.get(
    "/{user_id}",
    operation_id="getUser",
    response_model=schemas.User,
    responses=documented(401, 404),
)
async def get_user(svc: ServicesDep, who: PrincipalDep, user_id: str) -> Response:
    """A user: yourself, or anyone for the admin; another user's is 404 (not revealed)."""
    return render(await in_worker(users.get, svc, who, user_id))
