"""The committed contract is the served contract, and documents what we answer."""

from __future__ import annotations

from typing import Any

import yaml

from reference_app.api.openapi_doc import COMMITTED, render_yaml
from reference_app.bootstrap import create_app
from reference_app.settings import Settings


def _served() -> dict[str, Any]:
    return create_app(Settings()).openapi()


def test_committed_openapi_matches_the_served_schema() -> None:
    committed = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    served = _served()
    assert committed == served, (
        "reference_app/openapi.yaml drifted from the app: run "
        "`python -m reference_app.api.openapi_doc` and review the diff"
    )
    assert render_yaml(served) == COMMITTED.read_text(encoding="utf-8")


def test_every_operation_documents_problem_json_errors() -> None:
    for path, item in _served()["paths"].items():
        for method, op in item.items():
            errors = {code: r for code, r in op["responses"].items() if code.startswith("4")}
            if path.startswith("/v1/") and not (path == "/v1/users" and method == "post"):
                assert "401" in errors, f"{method} {path} must document 401"
            for code, response in errors.items():
                assert "application/problem+json" in response["content"], (method, path, code)


def test_links_chain_creation_to_reads() -> None:
    paths = _served()["paths"]
    created = paths["/v1/card-requests"]["post"]["responses"]["201"]["links"]
    assert created["GetIssuedCard"] == {
        "operationId": "getCard",
        "parameters": {"card_id": "$response.body#/card_id"},
    }
    txn_links = paths["/v1/cards/{card_id}/transactions"]["post"]["responses"]["201"]["links"]
    assert txn_links["ListTransactions"]["operationId"] == "listTransactions"


def test_required_idempotency_keys_are_declared() -> None:
    paths = _served()["paths"]
    for path in ("/v1/card-requests", "/v1/cards/{card_id}/transactions"):
        params = {p["name"]: p for p in paths[path]["post"]["parameters"]}
        assert params["Idempotency-Key"]["required"] is True
        assert params["Idempotency-Key"]["schema"]["maxLength"] == 255
    signup = {p["name"]: p for p in paths["/v1/users"]["post"]["parameters"]}
    assert signup["Idempotency-Key"]["required"] is False


def test_parity_control_router_is_absent_in_production() -> None:
    from fastapi.testclient import TestClient

    prod = TestClient(create_app(Settings()))
    assert prod.post("/_parity/clock/advance", json={"seconds": 1}).status_code == 404
    assert not any(p.startswith("/_parity") for p in _served()["paths"])
