"""OpenAPI link objects: how schemathesis's stateful testing chains create → read."""

from __future__ import annotations

from typing import Any


def link(operation_id: str, **parameters: str) -> dict[str, Any]:
    """A link to ``operation_id`` whose parameters come from runtime expressions,
    e.g. ``card_id="$response.body#/card_id"``."""
    spec: dict[str, Any] = {"operationId": operation_id}
    if parameters:
        spec["parameters"] = parameters
    return spec
