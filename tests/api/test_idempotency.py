"""IETF Idempotency-Key: replay, mismatch, in-flight, expiry (incl. the boundary),
takeover of abandoned claims, per-principal scope, stored refusals."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from tests.api.conftest import Ledger

DAY = 24 * 3600


def _held_purchase(
    ledger: Ledger, pool: ThreadPoolExecutor, token: str, card_id: str, key: str, tag: str
) -> Future[Any]:
    """Start a purchase that parks at its pause point just before commit."""
    ledger.pause.arm(tag)
    future = pool.submit(
        ledger.post_txn, token, card_id, "purchase", 100, key, **{"X-Parity-Tag": tag}
    )
    assert ledger.pause.wait_until_held(tag), "request never reached its pause point"
    return future


def test_same_key_same_body_replays_exactly(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    first = ledger.post_txn(token, card_id, "purchase", 700, key="k")
    second = ledger.post_txn(token, card_id, "purchase", 700, key="k")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert second.headers["etag"] == first.headers["etag"]
    assert ledger.card(token, card_id)["balance_cents"] == 700


def test_same_key_other_body_is_422(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    ledger.post_txn(token, card_id, "purchase", 700, key="k")
    r = ledger.post_txn(token, card_id, "purchase", 701, key="k")
    assert r.status_code == 422
    assert r.json()["type"] == "urn:parity:problem:idempotency-key-reused"


def test_keys_are_scoped_per_user_and_path(ledger: Ledger) -> None:
    a, card_a = ledger.user_with_card()
    b, card_b = ledger.user_with_card()
    assert ledger.post_txn(a, card_a, "purchase", 1, key="shared").status_code == 201
    other_user = ledger.post_txn(b, card_b, "purchase", 2, key="shared")
    assert other_user.status_code == 201 and "idempotent-replayed" not in other_user.headers


def test_final_refusals_are_stored_and_replayed(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    refused = ledger.post_txn(token, card_id, "purchase", 10**8, key="big")
    assert refused.status_code == 422
    again = ledger.post_txn(token, card_id, "purchase", 10**8, key="big")
    assert again.status_code == 422 and again.json() == refused.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == "application/problem+json"


def test_transient_refusals_release_the_key(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    stale = ledger.post_txn(token, card_id, "purchase", 5, key="k", **{"If-Match": '"7"'})
    assert stale.status_code == 412
    retry = ledger.post_txn(token, card_id, "purchase", 5, key="k")
    assert retry.status_code == 201 and "idempotent-replayed" not in retry.headers


def test_expiry_after_ttl_including_the_exact_boundary(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    ledger.post_txn(token, card_id, "purchase", 100, key="k")
    ledger.clock.advance(DAY - 0.000001)
    before = ledger.post_txn(token, card_id, "purchase", 100, key="k")
    assert before.headers.get("idempotent-replayed") == "true"
    ledger.clock.advance(0.000001)  # exactly created_at + TTL: expired
    at = ledger.post_txn(token, card_id, "purchase", 100, key="k")
    assert at.status_code == 201 and "idempotent-replayed" not in at.headers
    assert ledger.card(token, card_id)["balance_cents"] == 200
    # The record left behind is a fresh one: another body is now a mismatch again.
    assert ledger.post_txn(token, card_id, "purchase", 999, key="k").status_code == 422


def test_expired_key_with_another_body_is_a_new_request(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    ledger.post_txn(token, card_id, "purchase", 100, key="k")
    ledger.clock.advance(DAY + 1)
    r = ledger.post_txn(token, card_id, "purchase", 300, key="k")
    assert r.status_code == 201
    assert ledger.card(token, card_id)["balance_cents"] == 400


def test_same_key_while_in_flight_is_409(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    with ThreadPoolExecutor(2) as pool:
        held = _held_purchase(ledger, pool, token, card_id, "k", "first")
        second = ledger.post_txn(token, card_id, "purchase", 100, key="k")
        assert second.status_code == 409
        assert second.json()["type"] == "urn:parity:problem:idempotency-in-flight"
        ledger.pause.release("first")
        assert held.result(timeout=10).status_code == 201
    third = ledger.post_txn(token, card_id, "purchase", 100, key="k")
    assert third.headers["idempotent-replayed"] == "true"
    assert ledger.card(token, card_id)["balance_cents"] == 100


def test_abandoned_in_flight_claim_is_taken_over_after_timeout(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    with ThreadPoolExecutor(2) as pool:
        held = _held_purchase(ledger, pool, token, card_id, "k", "slow")
        ledger.clock.advance(61)  # past the in-flight timeout (60 s)
        takeover = ledger.post_txn(token, card_id, "purchase", 100, key="k")
        assert takeover.status_code == 201
        ledger.pause.release("slow")
        late = held.result(timeout=10)
    assert late.status_code == 409  # the abandoned request lost its claim: nothing written
    assert ledger.card(token, card_id)["balance_cents"] == 100
    purchases = [e for e in ledger.events(card_id) if e["type"] == "ledger.card.purchase"]
    assert len(purchases) == 1


def test_concurrent_same_key_executes_once(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    barrier = threading.Barrier(8)

    def fire() -> Any:
        barrier.wait()
        return ledger.post_txn(token, card_id, "purchase", 100, key="race")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: fire(), range(8)))
    statuses = sorted(r.status_code for r in results)
    assert set(statuses) <= {201, 409}
    created = [r for r in results if r.status_code == 201]
    assert len({r.json()["id"] for r in created}) == 1
    assert sum("idempotent-replayed" not in r.headers for r in created) == 1
    assert ledger.card(token, card_id)["balance_cents"] == 100
