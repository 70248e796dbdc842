"""Every ``Location`` header names a route that answers 200, for whom it was issued, and
the read routes behind them (``getUser``, ``getTransaction``) keep other users out."""

from __future__ import annotations

from typing import Any

import pytest

from reference_app.bootstrap import create_app
from reference_app.settings import Settings
from tests.api.conftest import Ledger, make_ledger


def _follow(ledger: Ledger, created: Any, token: str) -> dict[str, Any]:
    location = created.headers.get("location")
    assert location, (created.status_code, created.text)
    got = ledger.client.get(location, headers=ledger.auth(token))
    assert got.status_code == 200, (location, got.status_code, got.text)
    body: dict[str, Any] = got.json()
    return body


def test_every_location_header_answers_200(ledger: Ledger) -> None:
    signed = ledger.client.post(
        "/v1/users", json={"name": "Loc", "email": "loc@example.com", "score": 750}
    )
    assert signed.status_code == 201
    token = signed.json()["access_token"]
    user = _follow(ledger, signed, token)
    assert user == {k: signed.json()[k] for k in ("id", "name", "email", "score", "created_at")}

    requested = ledger.client.post(
        "/v1/card-requests", headers=ledger.auth(token, **{"Idempotency-Key": "r1"})
    )
    assert requested.status_code == 201
    assert _follow(ledger, requested, token) == requested.json()
    card_id = requested.json()["card_id"]

    bought = ledger.post_txn(token, card_id, "purchase", 1_234, key="t1")
    assert bought.status_code == 201
    assert _follow(ledger, bought, token) == bought.json()
    # a replay names the same transaction, and it still answers
    replayed = ledger.post_txn(token, card_id, "purchase", 1_234, key="t1")
    assert replayed.headers["idempotent-replayed"] == "true"
    assert _follow(ledger, replayed, token) == bought.json()


def test_a_transaction_deep_in_a_long_history_is_found() -> None:
    """The lookup walks the card's listing page by page: an old row is still found."""
    for ledger in make_ledger("memory"):
        token, card_id = ledger.user_with_card()
        first = ledger.post_txn(token, card_id, "purchase", 1, key="first")
        for i in range(120):  # more than one lookup page
            assert ledger.post_txn(token, card_id, "purchase", 1, key=f"k{i}").status_code == 201
        assert _follow(ledger, first, token)["id"] == first.json()["id"]


def test_another_users_transaction_and_profile_are_404(ledger: Ledger) -> None:
    owner_token, card_id = ledger.user_with_card()
    txn = ledger.post_txn(owner_token, card_id, "purchase", 500)
    owner = ledger.client.get("/v1/users/me", headers=ledger.auth(owner_token)).json()
    other = ledger.sign_up()["access_token"]
    for path in (txn.headers["location"], f"/v1/users/{owner['id']}"):
        got = ledger.client.get(path, headers=ledger.auth(other))
        assert got.status_code == 404, (path, got.text)
        assert got.json()["type"] == "urn:parity:problem:not-found"
        # the admin sees both
        assert ledger.client.get(path, headers=ledger.admin()).status_code == 200, path
        # and nobody without a token
        assert ledger.client.get(path).status_code == 401, path


@pytest.mark.parametrize(
    "path",
    [
        "/v1/users/usr_doesnotexist",
        "/v1/users/not%20an%20id",
        "/v1/cards/{card}/transactions/txn_doesnotexist",
        "/v1/cards/{card}/transactions/not%20an%20id",
        "/v1/cards/crd_doesnotexist/transactions/txn_x",
    ],
)
def test_unknown_ids_are_404_for_the_admin(ledger: Ledger, path: str) -> None:
    _, card_id = ledger.user_with_card()
    got = ledger.client.get(path.format(card=card_id), headers=ledger.admin())
    assert got.status_code == 404, got.text


def test_every_created_response_links_to_its_location_route() -> None:
    """The OpenAPI document chains each creation to the read route its Location names
    (schemathesis follows these links in stateful testing)."""
    doc = create_app(Settings()).openapi()
    ops = {
        op["operationId"]: (path, method)
        for path, item in doc["paths"].items()
        for method, op in item.items()
    }
    expected = {
        ("/v1/users", "signUp"): "getUser",
        ("/v1/card-requests", "createCardRequest"): "getCardRequest",
        ("/v1/cards/{card_id}/transactions", "postTransaction"): "getTransaction",
    }
    for (path, _), target in expected.items():
        created = doc["paths"][path]["post"]["responses"]["201"]
        targets = {link["operationId"] for link in created["links"].values()}
        assert target in targets, (path, target, created["links"])
        assert ops[target][1] == "get", ops[target]
