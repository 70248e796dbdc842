"""Card requests: score tiers, auto-approval, admin decisions, listing."""

from __future__ import annotations

import pytest

from tests.api.conftest import Ledger


@pytest.mark.parametrize(
    ("score", "limit", "status"),
    [
        (0, 500_00, "pending"),
        (499, 500_00, "pending"),
        (500, 1_500_00, "pending"),
        (699, 1_500_00, "pending"),
        (700, 3_000_00, "approved"),
        (1000, 3_000_00, "approved"),
    ],
)
def test_credit_limit_by_score_tier(ledger: Ledger, score: int, limit: int, status: str) -> None:
    user = ledger.sign_up(score)
    req = ledger.request_card(user["access_token"])
    assert (req["credit_limit_cents"], req["status"]) == (limit, status)
    assert (req["card_id"] is not None) == (status == "approved")


def test_admin_approves_a_pending_request_and_a_card_is_issued(ledger: Ledger) -> None:
    user = ledger.sign_up(score=600)
    req = ledger.request_card(user["access_token"])
    approved = ledger.client.post(f"/v1/card-requests/{req['id']}/approve", headers=ledger.admin())
    assert approved.status_code == 200
    body = approved.json()
    assert body["status"] == "approved" and body["card_id"]
    card = ledger.card(user["access_token"], body["card_id"])
    assert card["credit_limit_cents"] == 1_500_00 and card["status"] == "active"
    again = ledger.client.post(f"/v1/card-requests/{req['id']}/reject", headers=ledger.admin())
    assert again.status_code == 409


def test_reject_and_permissions(ledger: Ledger) -> None:
    user = ledger.sign_up(score=100)
    token = user["access_token"]
    req = ledger.request_card(token)
    own = ledger.client.post(f"/v1/card-requests/{req['id']}/approve", headers=ledger.auth(token))
    assert own.status_code == 403
    r = ledger.client.post(f"/v1/card-requests/{req['id']}/reject", headers=ledger.admin())
    assert r.status_code == 200 and r.json()["status"] == "rejected" and r.json()["card_id"] is None
    other = ledger.sign_up()["access_token"]
    assert (
        ledger.client.get(f"/v1/card-requests/{req['id']}", headers=ledger.auth(other)).status_code
        == 404
    )
    missing = ledger.client.post("/v1/card-requests/creq_missing/approve", headers=ledger.admin())
    assert missing.status_code == 404


def test_admin_lists_pending_requests_in_full_pages(ledger: Ledger) -> None:
    pending_ids = []
    for i in range(7):
        user = ledger.sign_up(score=100 if i % 2 == 0 else 800)
        req = ledger.request_card(user["access_token"])
        if req["status"] == "pending":
            pending_ids.append(req["id"])
        ledger.clock.advance(1)
    seen: list[str] = []
    cursor = None
    sizes = []
    while True:
        params = {"status": "pending", "limit": 2, **({"cursor": cursor} if cursor else {})}
        r = ledger.client.get("/v1/card-requests", params=params, headers=ledger.admin())
        assert r.status_code == 200
        sizes.append(len(r.json()["items"]))
        seen += [item["id"] for item in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(pending_ids))  # newest first
    assert sizes == [2, 2]  # every page but the last is full; no empty last page


def test_a_user_lists_only_their_own_requests(ledger: Ledger) -> None:
    a = ledger.sign_up(score=100)["access_token"]
    b = ledger.sign_up(score=100)["access_token"]
    mine = ledger.request_card(a)
    ledger.request_card(b)
    r = ledger.client.get("/v1/card-requests", headers=ledger.auth(a))
    assert [item["id"] for item in r.json()["items"]] == [mine["id"]]


@pytest.mark.parametrize("key", [None, "", "k" * 256])
def test_idempotency_key_is_required_and_bounded(ledger: Ledger, key: str | None) -> None:
    token = ledger.sign_up()["access_token"]
    headers = ledger.auth(token, **({"Idempotency-Key": key} if key is not None else {}))
    r = ledger.client.post("/v1/card-requests", headers=headers)
    assert r.status_code == 400
    assert r.json()["type"] == "urn:parity:problem:invalid-idempotency-key"


def test_the_admin_cannot_request_a_card(ledger: Ledger) -> None:
    r = ledger.client.post("/v1/card-requests", headers=ledger.admin(**{"Idempotency-Key": "a"}))
    assert r.status_code == 403
