"""Transactional outbox: one event per change, gapless sequences, ordered relay with
deterministic backoff, dead-lettering, at-least-once after a crash."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest

from reference_app.domain.timefmt import parse_ts
from reference_app.service_layer.backoff import RetryPolicy
from reference_app.service_layer.ports import PublishError
from tests.api.conftest import Ledger


def _relay(ledger: Ledger) -> dict[str, list[str]]:
    r = ledger.client.post("/_parity/outbox/relay")
    assert r.status_code == 200
    result: dict[str, list[str]] = r.json()
    return result


def test_every_change_has_one_event_with_gapless_sequence(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card(score=750)
    for amount in (10, 20, 30):
        ledger.post_txn(token, card_id, "purchase", amount)
    ledger.post_txn(token, card_id, "payment", 15)
    ledger.post_txn(token, card_id, "purchase", 10**9)  # refused: no event
    by_subject: dict[str, list[int]] = defaultdict(list)
    for event in ledger.events():
        assert event["specversion"] == "1.0" and event["source"]
        by_subject[event["subject"]].append(event["sequence"])
    for subject, seqs in by_subject.items():
        assert seqs == list(range(1, len(seqs) + 1)), subject
    card_events = [e["type"] for e in ledger.events(card_id)]
    assert card_events == ["ledger.card.issued"] + ["ledger.card.purchase"] * 3 + [
        "ledger.card.payment"
    ]


def test_relay_publishes_in_order_once(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    for amount in (1, 2, 3):
        ledger.post_txn(token, card_id, "purchase", amount)
    first = _relay(ledger)
    assert len(first["published"]) == len(ledger.events())
    assert _relay(ledger) == {"published": [], "failed": [], "dead_lettered": []}
    delivered = [e for e in ledger.transport.deliveries if e["subject"] == card_id]
    assert [e["sequence"] for e in delivered] == [1, 2, 3, 4]


def test_failed_publish_backs_off_and_holds_later_events(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    ledger.post_txn(token, card_id, "purchase", 1)
    _relay(ledger)
    ledger.post_txn(token, card_id, "purchase", 2)
    ledger.post_txn(token, card_id, "purchase", 3)
    ledger.transport.fail_next([True])
    report = _relay(ledger)
    assert len(report["failed"]) == 1 and report["published"] == []  # seq 4 held back
    failed_id = report["failed"][0]
    policy = ledger.container.relay.policy
    delay = policy.delay(failed_id, 1)
    assert 0 <= delay < policy.ceiling(1)
    if delay > 0.001:
        ledger.clock.advance(delay / 2)
        assert _relay(ledger)["published"] == []  # not due yet
    ledger.clock.advance(delay)
    report = _relay(ledger)
    assert report["published"][0] == failed_id and len(report["published"]) == 2
    seqs = [e["sequence"] for e in ledger.transport.deliveries if e["subject"] == card_id]
    assert seqs == [1, 2, 3, 4]


def test_dead_letter_at_max_attempts_then_later_events_proceed(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    _relay(ledger)
    ledger.post_txn(token, card_id, "purchase", 1)
    ledger.post_txn(token, card_id, "purchase", 2)
    attempts = ledger.container.relay.policy.max_attempts
    ledger.transport.fail_next([True] * attempts)
    outcomes = []
    for _ in range(attempts):
        outcomes.append(_relay(ledger))
        ledger.clock.advance(ledger.container.relay.policy.max_delay_seconds)
    assert [len(o["failed"]) for o in outcomes[:-1]] == [1] * (attempts - 1)
    assert len(outcomes[-1]["dead_lettered"]) == 1
    assert len(outcomes[-1]["published"]) == 1  # the next event of the card went out
    seqs = [e["sequence"] for e in ledger.transport.deliveries if e["subject"] == card_id]
    assert seqs == [1, 3]


def test_crash_between_publish_and_mark_sent_duplicates_never_loses(ledger: Ledger) -> None:
    token, card_id = ledger.user_with_card()
    _relay(ledger)
    ledger.post_txn(token, card_id, "purchase", 1)
    relay = ledger.container.relay
    real = relay.backend.unit_of_work

    class Crash(Exception):
        pass

    calls = {"n": 0}

    def crashing_uow():  # type: ignore[no-untyped-def]
        uow = real()
        calls["n"] += 1
        if calls["n"] == 2:  # the mark-sent commit after the publish

            def boom(changes: object) -> None:
                raise Crash()

            uow._apply = boom  # type: ignore[method-assign]
        return uow

    relay.backend.unit_of_work = crashing_uow  # type: ignore[method-assign]
    with pytest.raises(Crash):
        relay.run_once()
    relay.backend.unit_of_work = real  # type: ignore[method-assign]
    relay.run_once()
    ids = [
        e["id"]
        for e in ledger.transport.deliveries
        if e["subject"] == card_id and e["sequence"] == 2
    ]
    assert len(ids) == 2 and ids[0] == ids[1]  # same event twice, same id
    assert len(ledger.transport.unique_deliveries()) == len(ledger.events())


def test_a_crash_run_publishes_one_event_and_leaves_it_pending(ledger: Ledger) -> None:
    """``crash_after_publish``: the relay dies between its first publish and mark-sent,
    as a request (a harness records it and its replay repeats it)."""
    ledger.user_with_card()
    r = ledger.client.post("/_parity/outbox/relay", json={"crash_after_publish": True})
    assert r.status_code == 200, r.text
    crashed = r.json()["crashed_after"]
    assert [e["id"] for e in ledger.transport.deliveries] == [crashed]
    assert crashed in [e["id"] for e in ledger.events()]
    report = _relay(ledger)  # still pending: it goes out again, with the same id
    assert crashed in report["published"]
    assert len(report["published"]) == len(ledger.events())
    r = ledger.client.post("/_parity/outbox/relay", json={"crash_after_publish": True})
    assert r.json() == {"crashed_after": None}  # nothing due: the run ends normally


def test_backoff_policy_is_capped_exponential_and_deterministic() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay_seconds=1, max_delay_seconds=30)
    assert [policy.ceiling(a) for a in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert policy.delay("evt_x", 3) == policy.delay("evt_x", 3)
    assert policy.delay("evt_x", 3) != policy.delay("evt_y", 3)
    draws = [policy.delay(f"evt_{i}", 5) / policy.ceiling(5) for i in range(2000)]
    assert all(0 <= d < 1 for d in draws)
    assert 0.45 < sum(draws) / len(draws) < 0.55  # full jitter is uniform


def test_publish_error_type_is_the_transport_contract() -> None:
    assert issubclass(PublishError, Exception)
    assert parse_ts("2026-01-01T00:00:00.000000Z") + timedelta(0) == parse_ts(
        "2026-01-01T00:00:00+00:00"
    )
