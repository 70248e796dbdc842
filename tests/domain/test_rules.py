"""Pure rules and small adapters: credit tiers, transitions, ids, cursors, clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reference_app.adapters.clock import ManualClock
from reference_app.adapters.ids import UlidGenerator
from reference_app.domain import errors, rules
from reference_app.domain.model import Card, CardStatus, TransactionType
from reference_app.domain.timefmt import format_ts, parse_ts
from reference_app.service_layer.pagination import CursorCodec
from reference_app.service_layer.unit_of_work import PageKey

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _card(**kw: object) -> Card:
    base = dict(
        id="card_1",
        user_id="usr_1",
        request_id="creq_1",
        status=CardStatus.ACTIVE,
        credit_limit_cents=1000,
        balance_cents=0,
        created_at=T0,
        updated_at=T0,
    )
    return Card(**{**base, **kw})  # type: ignore[arg-type]


def test_credit_policy_tiers() -> None:
    policy = rules.CreditPolicy()
    assert [policy.limit_for(s) for s in (0, 499, 500, 699, 700, 1000)] == [
        500_00,
        500_00,
        1_500_00,
        1_500_00,
        3_000_00,
        3_000_00,
    ]
    assert not policy.auto_approves(699) and policy.auto_approves(700)


def test_apply_transaction_keeps_the_ledger_balanced() -> None:
    card = rules.apply_transaction(_card(), TransactionType.PURCHASE, 600, T0)
    assert (card.balance_cents, card.available_cents, card.version) == (600, 400, 2)
    with pytest.raises(errors.InsufficientCredit):
        rules.apply_transaction(card, TransactionType.PURCHASE, 401, T0)
    with pytest.raises(errors.OverPayment):
        rules.apply_transaction(card, TransactionType.PAYMENT, 601, T0)
    paid = rules.apply_transaction(card, TransactionType.PAYMENT, 600, T0)
    assert paid.balance_cents == 0 and paid.version == 3


def test_blocked_cards_take_payments_not_purchases() -> None:
    blocked = _card(status=CardStatus.BLOCKED, balance_cents=10)
    with pytest.raises(errors.CardNotActive):
        rules.apply_transaction(blocked, TransactionType.PURCHASE, 1, T0)
    assert rules.apply_transaction(blocked, TransactionType.PAYMENT, 10, T0).balance_cents == 0


def test_closed_is_final_and_needs_zero_balance() -> None:
    with pytest.raises(errors.InvalidTransition):
        rules.change_status(_card(balance_cents=1), CardStatus.CLOSED, T0)
    closed = rules.change_status(_card(), CardStatus.CLOSED, T0)
    for target in CardStatus:
        with pytest.raises(errors.InvalidTransition):
            rules.change_status(closed, target, T0)


def test_ids_sort_by_creation_and_are_reproducible_with_a_seed() -> None:
    gen = UlidGenerator(seed=7)
    times = [T0, T0, T0 + timedelta(milliseconds=1), T0 + timedelta(seconds=5)]
    ids = [gen.new_id("txn", t) for t in times]
    assert ids == sorted(ids) and len(set(ids)) == 4
    again = UlidGenerator(seed=7)
    assert [again.new_id("txn", t) for t in times] == ids
    assert UlidGenerator(seed=8).new_id("txn", T0) != ids[0]


def test_timestamps_round_trip_and_sort_as_text() -> None:
    a, b = T0 + timedelta(microseconds=9), T0 + timedelta(microseconds=10)
    assert parse_ts(format_ts(a)) == a
    assert format_ts(a) < format_ts(b)


def test_cursor_codec_rejects_tampering_and_foreign_cursors() -> None:
    codec = CursorCodec("secret")
    key = PageKey(T0, "txn_1")
    cursor = codec.encode("transactions", {"card": "c1"}, key)
    assert codec.decode("transactions", {"card": "c1"}, cursor) == key
    with pytest.raises(errors.InvalidCursor):
        codec.decode("transactions", {"card": "c2"}, cursor)
    with pytest.raises(errors.InvalidCursor):
        CursorCodec("other").decode("transactions", {"card": "c1"}, cursor)
    with pytest.raises(errors.InvalidCursor):
        codec.decode("transactions", {"card": "c1"}, cursor + "x")


def test_manual_clock_only_moves_forward() -> None:
    clock = ManualClock(T0)
    assert clock.advance(1.5) == T0 + timedelta(seconds=1.5)
    with pytest.raises(ValueError):
        clock.advance(-1)
