"""Cards: ETags, If-Match status changes (428/412), authorization, dashboard."""

from __future__ import annotations

from tests.api.conftest import Ledger


def test_card_has_an_etag_from_its_version(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    r = ledger.client.get(f"/v1/cards/{card_id}", headers=ledger.auth(token))
    body = r.json()
    assert r.headers["etag"] == f'"{body["version"]}"'
    assert body["available_cents"] == body["credit_limit_cents"] - body["balance_cents"]


def test_status_change_needs_a_current_if_match(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    url = f"/v1/cards/{card_id}"
    missing = ledger.client.patch(url, json={"status": "blocked"}, headers=ledger.auth(token))
    assert missing.status_code == 428
    etag = ledger.client.get(url, headers=ledger.auth(token)).headers["etag"]
    stale = ledger.client.patch(
        url, json={"status": "blocked"}, headers=ledger.auth(token, **{"If-Match": '"99"'})
    )
    assert stale.status_code == 412
    ok = ledger.client.patch(
        url, json={"status": "blocked"}, headers=ledger.auth(token, **{"If-Match": etag})
    )
    assert ok.status_code == 200 and ok.json()["status"] == "blocked"
    assert ok.headers["etag"] != etag
    reuse = ledger.client.patch(
        url, json={"status": "active"}, headers=ledger.auth(token, **{"If-Match": etag})
    )
    assert reuse.status_code == 412


def test_transitions(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    url = f"/v1/cards/{card_id}"

    def patch(status: str) -> int:
        h = ledger.auth(token, **{"If-Match": "*"})
        return int(ledger.client.patch(url, json={"status": status}, headers=h).status_code)

    assert patch("active") == 409  # already active
    assert ledger.post_txn(token, card_id, "purchase", 100).status_code == 201
    assert patch("closed") == 409  # outstanding balance
    assert ledger.post_txn(token, card_id, "payment", 100).status_code == 201
    assert patch("closed") == 200
    assert patch("active") == 409  # closed is final
    assert (
        ledger.client.patch(
            url, json={"status": "lost"}, headers=ledger.auth(token, **{"If-Match": "*"})
        ).status_code
        == 422
    )


def test_other_users_cards_are_invisible_admin_sees_all(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    other, _ = ledger.user_with_card()
    for method, kwargs in [
        ("GET", {}),
        ("PATCH", {"json": {"status": "blocked"}}),
    ]:
        r = ledger.client.request(
            method,
            f"/v1/cards/{card_id}",
            headers=ledger.auth(other, **{"If-Match": "*"}),
            **kwargs,  # type: ignore[arg-type]
        )
        assert r.status_code == 404
    assert ledger.post_txn(other, card_id, "purchase", 1).status_code == 404
    listing = ledger.client.get(f"/v1/cards/{card_id}/transactions", headers=ledger.auth(other))
    assert listing.status_code == 404
    assert ledger.client.get(f"/v1/cards/{card_id}", headers=ledger.admin()).status_code == 200
    mine = ledger.client.get("/v1/cards", headers=ledger.auth(token)).json()["items"]
    assert [c["id"] for c in mine] == [card_id]
    everyone = ledger.client.get("/v1/cards", headers=ledger.admin()).json()["items"]
    assert len(everyone) == 2


def test_unknown_and_absurd_ids_are_404(ledger: Ledger) -> None:
    token, _ = ledger.user_with_card()
    for card_id in ["card_missing", "x" * 5000, "%00"]:
        r = ledger.client.get(f"/v1/cards/{card_id}", headers=ledger.auth(token))
        assert r.status_code == 404, card_id


def test_dashboard_shows_own_cards_and_recent_transactions(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    for amount in range(1, 13):
        ledger.clock.advance(1)
        assert ledger.post_txn(token, card_id, "purchase", amount).status_code == 201
    body = ledger.client.get("/v1/dashboard", headers=ledger.auth(token)).json()
    assert [c["id"] for c in body["cards"]] == [card_id]
    amounts = [t["amount_cents"] for t in body["recent_transactions"]]
    assert amounts == list(range(12, 2, -1))
