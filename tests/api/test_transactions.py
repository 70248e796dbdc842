"""Purchases, payments, credit rules, If-Match, and newest-first cursor listing."""

from __future__ import annotations

from typing import Any

import pytest

from reference_app.domain.rules import MAX_AMOUNT_CENTS
from tests.api.conftest import Ledger


def test_purchase_and_payment_move_the_balance(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card(score=750)
    p = ledger.post_txn(token, card_id, "purchase", 12_345)
    assert p.status_code == 201
    assert p.json()["balance_after_cents"] == 12_345
    assert p.headers["etag"] == '"2"'
    pay = ledger.post_txn(token, card_id, "payment", 345)
    assert pay.json()["balance_after_cents"] == 12_000
    card = ledger.card(token, card_id)
    assert (card["balance_cents"], card["available_cents"], card["version"]) == (
        12_000,
        3_000_00 - 12_000,
        3,
    )


def test_credit_rules_are_422(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card(score=750)
    over = ledger.post_txn(token, card_id, "purchase", 3_000_01)
    assert over.status_code == 422
    assert over.json()["type"] == "urn:parity:problem:insufficient-credit"
    exact = ledger.post_txn(token, card_id, "purchase", 3_000_00)
    assert exact.status_code == 201
    overpay = ledger.post_txn(token, card_id, "payment", 3_000_01)
    assert overpay.json()["type"] == "urn:parity:problem:overpayment"
    ledger.client.patch(
        f"/v1/cards/{card_id}",
        json={"status": "blocked"},
        headers=ledger.auth(token, **{"If-Match": "*"}),
    )
    blocked = ledger.post_txn(token, card_id, "purchase", 1)
    assert blocked.json()["type"] == "urn:parity:problem:card-not-active"
    assert ledger.post_txn(token, card_id, "payment", 1).status_code == 201  # payments allowed
    assert ledger.card(token, card_id)["balance_cents"] == 3_000_00 - 1


@pytest.mark.parametrize(
    "body",
    [
        {"type": "purchase", "amount_cents": 0},
        {"type": "purchase", "amount_cents": -5},
        {"type": "purchase", "amount_cents": MAX_AMOUNT_CENTS + 1},
        {"type": "purchase", "amount_cents": 10**30},
        {"type": "purchase", "amount_cents": 1.5},
        {"type": "purchase", "amount_cents": "100"},
        {"type": "refund", "amount_cents": 100},
        {"type": "purchase"},
        {"type": "purchase", "amount_cents": 1, "description": "x" * 201},
    ],
)
def test_invalid_transactions_are_422(ledger: Ledger, body: dict[str, Any]) -> None:
    token, card_id = ledger.user_with_card()
    r = ledger.client.post(
        f"/v1/cards/{card_id}/transactions",
        json=body,
        headers=ledger.auth(token, **{"Idempotency-Key": ledger.key()}),
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert ledger.card(token, card_id)["version"] == 1


def test_if_match_pins_the_version(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    assert ledger.post_txn(token, card_id, "purchase", 5, **{"If-Match": '"1"'}).status_code == 201
    stale = ledger.post_txn(token, card_id, "purchase", 5, **{"If-Match": '"1"'})
    assert stale.status_code == 412
    assert ledger.card(token, card_id)["balance_cents"] == 5


def _collect(ledger: Ledger, token: str, card_id: str, **params: Any) -> list[list[dict[str, Any]]]:
    pages = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        r = ledger.client.get(
            f"/v1/cards/{card_id}/transactions", params=query, headers=ledger.auth(token)
        )
        assert r.status_code == 200, r.text
        pages.append(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return pages


def test_listing_is_newest_first_with_full_filtered_pages(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    kinds = []
    for i in range(11):
        kind = "purchase" if i % 3 else "payment"
        if kind == "payment" and ledger.card(token, card_id)["balance_cents"] == 0:
            kind = "purchase"
        assert ledger.post_txn(token, card_id, kind, 1).status_code == 201
        kinds.append(kind)
        if i % 2:
            ledger.clock.advance(0.5)  # several rows share a timestamp: ordered by id
    pages = _collect(ledger, token, card_id, limit=3)
    flat = [t for page in pages for t in page]
    assert len(flat) == 11 and [len(p) for p in pages] == [3, 3, 3, 2]
    assert flat == sorted(flat, key=lambda t: (t["created_at"], t["id"]), reverse=True)
    purchases = _collect(ledger, token, card_id, limit=2, type="purchase")
    sizes = [len(p) for p in purchases]
    assert sum(sizes) == kinds.count("purchase")
    assert all(s == 2 for s in sizes[:-1]) and sizes[-1] >= 1
    assert all(t["type"] == "purchase" for p in purchases for t in p)


def test_cursor_survives_new_rows_without_skips_or_repeats(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    for _ in range(5):
        ledger.post_txn(token, card_id, "purchase", 1)
        ledger.clock.advance(1)
    url = f"/v1/cards/{card_id}/transactions"
    first = ledger.client.get(url, params={"limit": 2}, headers=ledger.auth(token)).json()
    for _ in range(3):  # new rows arrive while paging
        ledger.post_txn(token, card_id, "purchase", 1)
    rest = _collect(ledger, token, card_id, limit=2, cursor=first["next_cursor"])
    ids = [t["id"] for t in first["items"]] + [t["id"] for p in rest for t in p]
    assert len(ids) == len(set(ids)) == 5


@pytest.mark.parametrize("cursor", ["garbage", "a.b", "e30.AAAA", "x" * 900])
def test_bad_cursors_are_400(ledger: Ledger, cursor: str) -> None:
    token, card_id = ledger.user_with_card()
    r = ledger.client.get(
        f"/v1/cards/{card_id}/transactions", params={"cursor": cursor}, headers=ledger.auth(token)
    )
    assert r.status_code == 400
    assert r.json()["type"] == "urn:parity:problem:invalid-cursor"


def test_cursor_from_another_filter_or_tampered_is_400(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    for _ in range(3):
        ledger.post_txn(token, card_id, "purchase", 1)
    url = f"/v1/cards/{card_id}/transactions"
    cursor = ledger.client.get(url, params={"limit": 1}, headers=ledger.auth(token)).json()[
        "next_cursor"
    ]
    other = ledger.client.get(
        url, params={"limit": 1, "type": "payment", "cursor": cursor}, headers=ledger.auth(token)
    )
    assert other.status_code == 400
    payload, sig = cursor.split(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    tampered = ledger.client.get(
        url, params={"cursor": f"{flipped}.{sig}"}, headers=ledger.auth(token)
    )
    assert tampered.status_code == 400


@pytest.mark.parametrize("limit", [0, 101, -1, "ten"])
def test_limit_bounds(ledger: Ledger, limit: object) -> None:
    token, card_id = ledger.user_with_card()
    r = ledger.client.get(
        f"/v1/cards/{card_id}/transactions", params={"limit": limit}, headers=ledger.auth(token)
    )
    assert r.status_code == 422
