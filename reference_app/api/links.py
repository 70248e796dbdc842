"""OpenAPI link objects: how schemathesis's stateful testing chains create → read.

A link must be one a client can really follow, *as the principal it holds*: reads are
per user (another user's resource is 404), so a link into one names the credentials it
is followed with when they are not the ones the client already sends.
"""

from __future__ import annotations

from typing import Any

#: follow with the token the sign-up answer carries: the new user reads itself
AS_SIGNED_UP_USER = {"header.Authorization": "Bearer {$response.body#/access_token}"}
#: follow with the credentials of the request that produced the answer (same principal)
AS_CALLER = {"header.Authorization": "$request.header.Authorization"}


def link(operation_id: str, **parameters: str) -> dict[str, Any]:
    """A link to ``operation_id`` whose parameters come from runtime expressions,
    e.g. ``card_id="$response.body#/card_id"`` (``header.X`` for a header)."""
    spec: dict[str, Any] = {"operationId": operation_id}
    if parameters:
        spec["parameters"] = parameters
    return spec
