"""The served OpenAPI document, post-processed where FastAPI cannot express the contract.

- ``Idempotency-Key`` is *required* by the contract but declared optional in the route so
  that a missing key is our documented 400 problem, not FastAPI's generic 422.
- ``If-Match`` likewise: required on ``updateCardStatus`` (missing → 428; empty → 400).
- FastAPI documents its own 422 ``HTTPValidationError``; ours is a problem+json.
- The committed ``openapi.yaml`` must equal this output (a test checks it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from reference_app.api.preconditions import IDEMPOTENCY_KEY_PATTERN
from reference_app.api.schemas import Problem
from reference_app.service_layer.idempotency import MAX_KEY_LENGTH
from reference_app.service_layer.outcome import PROBLEM_JSON

COMMITTED = Path(__file__).resolve().parent.parent / "openapi.yaml"
_REQUIRED_KEY_OPERATIONS = {"createCardRequest", "postTransaction"}
#: If-Match is required here (declared optional in the route so a missing one is our
#: documented 428, not FastAPI's 422)
_REQUIRED_IF_MATCH_OPERATIONS = {"updateCardStatus"}


def _problem_ref() -> dict[str, Any]:
    return {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _fix_operation(op: dict[str, Any]) -> None:
    for param in op.get("parameters", []):
        if param.get("in") == "header" and param["name"] == "Idempotency-Key":
            param["required"] = op.get("operationId") in _REQUIRED_KEY_OPERATIONS
            param["schema"] = {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_KEY_LENGTH,
                "pattern": IDEMPOTENCY_KEY_PATTERN,
            }
        if param.get("in") == "header" and param["name"] == "If-Match":
            param["required"] = op.get("operationId") in _REQUIRED_IF_MATCH_OPERATIONS
            param["schema"] = {"type": "string", "minLength": 1}
    responses = op.setdefault("responses", {})
    if "422" in responses:
        responses["422"]["content"] = _problem_ref()
        responses["422"]["description"] = "Invalid request or refused by a rule"
    if "requestBody" in op and "400" not in responses:
        responses["400"] = {"description": "Malformed JSON", "content": _problem_ref()}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title,
        version=app.version,
        routes=app.routes,
        description="A card ledger whose behaviour is identical on every storage backend.",
    )
    for path_item in doc.get("paths", {}).values():
        for op in path_item.values():
            _fix_operation(op)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = Problem.model_json_schema()
    app.openapi_schema = doc
    return doc


def render_yaml(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def main() -> None:
    """``python -m reference_app.api.openapi_doc``: rewrite the committed contract."""
    from reference_app.bootstrap import create_app
    from reference_app.settings import Settings

    app = create_app(Settings())
    COMMITTED.write_text(render_yaml(app.openapi()), encoding="utf-8")
    print(f"wrote {COMMITTED}")


if __name__ == "__main__":
    main()
