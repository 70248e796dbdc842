"""Every ``Location`` header names a route that answers 200, for whom it was issued; every
declared link, followed as the contract says (with the credentials it names), answers
200; and the read routes behind them (``getUser``, ``getTransaction``) keep other users
out."""

from __future__ import annotations

import re
from typing import Any

import httpx
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
    # the anonymous caller could follow no Location to the new user: none is sent
    assert "location" not in signed.headers
    token = signed.json()["access_token"]

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
    """The OpenAPI document chains each creation that answers a Location to the read
    route it names (schemathesis follows these links in stateful testing); sign-up
    declares no Location, and every link out of it carries the new user's token."""
    doc = create_app(Settings()).openapi()
    ops = {
        op["operationId"]: (path, method)
        for path, item in doc["paths"].items()
        for method, op in item.items()
    }
    expected = {
        ("/v1/card-requests", "createCardRequest"): "getCardRequest",
        ("/v1/cards/{card_id}/transactions", "postTransaction"): "getTransaction",
    }
    for (path, _), target in expected.items():
        created = doc["paths"][path]["post"]["responses"]["201"]
        targets = {link["operationId"] for link in created["links"].values()}
        assert target in targets, (path, target, created["links"])
        assert ops[target][1] == "get", ops[target]
    signed_up = doc["paths"]["/v1/users"]["post"]["responses"]["201"]
    assert "Location" not in signed_up.get("headers", {})
    for name, link in signed_up["links"].items():
        assert link["parameters"]["header.Authorization"].endswith(
            "{$response.body#/access_token}"
        ), name


# following a link as the document declares it -------------------------------------------


def _runtime(expression: str, sent: httpx.Headers, answer: httpx.Response) -> str:
    """The value of one runtime expression of the two forms the document uses."""
    if expression.startswith("$response.body#/"):
        value: Any = answer.json()
        for part in expression.split("#/", 1)[1].split("/"):
            value = value[part]
        return str(value)
    if expression.startswith("$request.header."):
        return sent[expression.removeprefix("$request.header.")]
    raise AssertionError(f"a runtime expression this test does not know: {expression}")


def _value(expression: str, sent: httpx.Headers, answer: httpx.Response) -> str:
    if expression.startswith("$"):
        return _runtime(expression, sent, answer)
    return re.sub(r"\{(\$[^}]+)\}", lambda m: _runtime(m.group(1), sent, answer), expression)


def _follow_link(
    ledger: Ledger, doc: dict[str, Any], link: dict[str, Any], answer: httpx.Response
) -> httpx.Response:
    """Call the link's target with exactly what the link supplies: path parameters and
    headers (``header.Authorization`` included: nothing else authenticates it)."""
    path, method = next(
        (path, method)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if op["operationId"] == link["operationId"]
    )
    params: dict[str, str] = {}
    headers: dict[str, str] = {}
    for key, expression in link.get("parameters", {}).items():
        location, _, name = key.rpartition(".")
        value = _value(expression, answer.request.headers, answer)
        (headers if location == "header" else params)[name] = value
    return ledger.client.request(method.upper(), path.format(**params), headers=headers)


def test_sign_up_links_are_followed_as_the_new_user(ledger: Ledger) -> None:
    """signUp → GetMe → GetUser, each link followed with what it declares: the new user
    reads itself twice, although the sign-up itself carried no credentials."""
    doc = create_app(Settings()).openapi()
    signed = ledger.client.post(
        "/v1/users", json={"name": "Linked", "email": "linked@example.com", "score": 640}
    )
    assert signed.status_code == 201, signed.text
    user = {k: signed.json()[k] for k in ("id", "name", "email", "score", "created_at")}
    get_me = doc["paths"]["/v1/users"]["post"]["responses"]["201"]["links"]["GetMe"]
    me = _follow_link(ledger, doc, get_me, signed)
    assert (me.status_code, me.json()) == (200, user)
    get_user = doc["paths"]["/v1/users/me"]["get"]["responses"]["200"]["links"]["GetUser"]
    again = _follow_link(ledger, doc, get_user, me)
    assert (again.status_code, again.json()) == (200, user)
    # read by anyone else (no token from the link), it is the 404 per-user authorization promises
    other = ledger.sign_up()["access_token"]
    foreign = ledger.client.get(f"/v1/users/{user['id']}", headers=ledger.auth(other))
    assert foreign.status_code == 404
