"""The unit-of-work contract: what every backend must do identically.

Each test runs on every engine of ``CONTRACT_ENGINES`` (memory, sqlite, postgres@local,
...) against a fresh namespace. Expected values are computed independently (plain Python
sorts of what was inserted), so the memory backend is checked by the same assertions as
the others rather than trusted as the oracle.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

import pytest

from reference_app.backends.memory import MemoryBackend
from reference_app.backends.sql import SqlBackend
from reference_app.backends.sql.migrations import LATEST, SqlNames
from reference_app.domain.model import (
    Card,
    CardRequest,
    CardRequestStatus,
    CardStatus,
    DeliveryStatus,
    IdempotencyRecord,
    IdempotencyState,
    OutboxEvent,
    Transaction,
    TransactionType,
    User,
)
from reference_app.domain.timefmt import format_ts
from reference_app.service_layer.unit_of_work import (
    Backend,
    ClaimIdempotency,
    CommitConflict,
    Insert,
    PageKey,
    PageQuery,
    ReleaseIdempotency,
    Update,
    UpdateDelivery,
)
from reference_app.settings import Settings
from tests.engine_pool import settings_for

T0 = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
T = TypeVar("T")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- builders ---------------------------------------------------------------------------


def user(uid: str = "usr_1", email: str | None = None, when: datetime = T0) -> User:
    return User(uid, f"Name {uid}", email or f"{uid}@example.com", 640, when)


def card_request(
    rid: str, user_id: str = "usr_1", status: CardRequestStatus = CardRequestStatus.PENDING,
    when: datetime = T0,
) -> CardRequest:  # fmt: skip
    return CardRequest(rid, user_id, status, 150_000, None, when)


def card(cid: str = "crd_1", user_id: str = "usr_1", when: datetime = T0, balance: int = 0) -> Card:
    return Card(cid, user_id, "req_1", CardStatus.ACTIVE, 300_000, balance, when, when)


def txn(
    tid: str, card_id: str = "crd_1", kind: TransactionType = TransactionType.PURCHASE,
    when: datetime = T0, amount: int = 100,
) -> Transaction:  # fmt: skip
    return Transaction(tid, card_id, "usr_1", kind, amount, f"t {tid}", amount, when)


def event(
    eid: str, subject: str = "crd_1", sequence: int = 1, when: datetime = T0,
    status: DeliveryStatus = DeliveryStatus.PENDING,
) -> OutboxEvent:  # fmt: skip
    data = {"zeta": 1, "alpha": {"nested": [1, 2, "three"]}, "cents": 9_007_199_254_740_993}
    return OutboxEvent(eid, "urn:test", "card.updated", subject, when, sequence, data, status)


def record(scope: str = "scope-1", token: str = "tok-1", when: datetime = T0) -> IdempotencyRecord:
    return IdempotencyRecord(
        scope=scope,
        fingerprint="fp-1",
        state=IdempotencyState.IN_FLIGHT,
        token=token,
        created_at=when,
        expires_at=when + timedelta(hours=24),
        locked_at=when,
    )


def commit(backend: Backend, *changes: Any) -> None:
    with backend.unit_of_work() as uow:
        uow.changes.extend(changes)
        uow.commit()


def insert(backend: Backend, *entities: Any) -> None:
    commit(backend, *(Insert(e) for e in entities))


def conflict_of(backend: Backend, *changes: Any) -> CommitConflict:
    with pytest.raises(CommitConflict) as caught:
        commit(backend, *changes)
    return caught.value


def read(backend: Backend, fn: Callable[..., T], *args: Any) -> T:
    with backend.unit_of_work() as uow:
        return fn(uow, *args)  # type: ignore[no-any-return]


def page_all(fetch: Callable[[PageQuery], list[Any]], limit: int) -> list[list[Any]]:
    """Follow keyset pages of ``limit`` to the end, as the service does (limit + 1)."""
    pages: list[list[Any]] = []
    after: PageKey | None = None
    for _ in range(1000):  # a page that repeats its key would loop forever: fail instead
        rows = fetch(PageQuery(limit + 1, after))
        pages.append(rows[:limit])
        if len(rows) <= limit:
            return pages
        last = rows[limit - 1]
        after = PageKey(getattr(last, "created_at", None) or last.time, last.id)
    raise AssertionError("pagination did not terminate: a page repeated its predecessor")


def ids(rows: list[Any]) -> list[str]:
    return [r.id for r in rows]


def paged_ids(backend: Backend, method: str, *args: Any, limit: int) -> list[list[str]]:
    """The ids of every page of ``uow.<method>(*args, page)``, ``limit`` per page."""

    def fetch(page: PageQuery) -> list[Any]:
        with backend.unit_of_work() as uow:
            rows: list[Any] = getattr(uow, method)(*args, page)
            return rows

    return [ids(page) for page in page_all(fetch, limit)]


def assert_full_pages(pages: list[list[str]], limit: int, expected: list[str]) -> None:
    assert [i for page in pages for i in page] == expected
    assert all(len(page) == limit for page in pages[:-1]), "every page but the last is full"


# --- round trips ------------------------------------------------------------------------


def test_every_entity_round_trips_exactly(backend: Backend) -> None:
    odd = datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    u = user(when=odd)
    r = replace(card_request("req_1", when=at(1)), card_id="crd_1", decided_at=at(1.000001))
    c = card(when=at(2), balance=2**40)
    t = txn("txn_1", when=at(3), amount=2**53 + 1)
    e = replace(event("evt_1", when=at(4)), next_attempt_at=at(5), last_error="boom")
    insert(backend, u, r, c, t, e)
    rec = replace(record(), status_code=201, response_body='{"a": 1}',
                  response_headers={"ETag": '"3"', "Location": "/v1/x"})  # fmt: skip
    commit(backend, ClaimIdempotency(rec, None))

    with backend.unit_of_work() as uow:
        assert uow.get_user(u.id) == u
        assert uow.get_user_by_email(u.email) == u
        assert uow.get_card_request(r.id) == r
        assert uow.get_card(c.id) == c
        assert uow.list_transactions(c.id, None, PageQuery(5)) == [t]
        assert uow.list_events(None, PageQuery(5)) == [e]
        assert uow.get_idempotency(rec.scope) == rec
        # Exact to the microsecond, in UTC, and keys of JSON come back in order.
        loaded = uow.get_user(u.id)
        assert loaded is not None and format_ts(loaded.created_at) == "1999-12-31T23:59:59.999999Z"
        assert loaded.created_at.utcoffset() == timedelta(0)
        assert list(uow.list_events(None, PageQuery(1))[0].data) == ["zeta", "alpha", "cents"]


def test_timestamps_with_other_offsets_round_trip_to_the_same_instant(backend: Backend) -> None:
    plus_two = datetime(2026, 3, 4, 7, 6, 7, 1, tzinfo=timezone(timedelta(hours=2)))
    insert(backend, user(when=plus_two))
    loaded = read(backend, lambda uow: uow.get_user("usr_1"))
    assert loaded is not None
    assert loaded.created_at == plus_two
    assert format_ts(loaded.created_at) == "2026-03-04T05:06:07.000001Z"


def test_control_characters_in_text_round_trip_and_sort_by_code_point(backend: Backend) -> None:
    odd_ids = ["crd_\x00", "crd_\x01", "crd_\x01\x01", "crd_", "crd_\x02", "crd_\x00z"]
    insert(backend, user("usr_\x00", email="nul\x00@example.com"))
    insert(backend, *(card(cid, user_id="usr_\x00", when=T0) for cid in odd_ids))
    with backend.unit_of_work() as uow:
        assert uow.get_user("usr_\x00") == user("usr_\x00", email="nul\x00@example.com")
        assert uow.get_user_by_email("nul\x00@example.com") is not None
        assert uow.get_card("crd_\x00") == card("crd_\x00", user_id="usr_\x00")
        assert uow.get_card("crd_\x01\x02") is None
        listed = uow.list_cards("usr_\x00", PageQuery(10))
    assert ids(listed) == sorted(odd_ids, reverse=True)
    pages = paged_ids(backend, "list_cards", "usr_\x00", limit=1)
    assert_full_pages(pages, 1, sorted(odd_ids, reverse=True))


def test_missing_rows_read_as_none(backend: Backend) -> None:
    with backend.unit_of_work() as uow:
        assert uow.get_user("nope") is None
        assert uow.get_user_by_email("nope@example.com") is None
        assert uow.get_card_request("nope") is None
        assert uow.get_card("nope") is None
        assert uow.get_idempotency("nope") is None
        # Unencodable keys (lone surrogates) cannot be stored anywhere: not found, no error.
        assert uow.get_card("crd_\ud800") is None
        assert uow.get_user_by_email("\udfff@example.com") is None
        assert uow.list_transactions("crd_\ud800", None, PageQuery(5)) == []
        assert uow.list_cards(None, PageQuery(10)) == []
        assert uow.pending_events(10) == []


# --- insert conditions ------------------------------------------------------------------


def test_insert_with_an_existing_id_conflicts(backend: Backend) -> None:
    insert(backend, user("usr_1"))
    duplicate = Insert(user("usr_1", email="other@example.com"))
    exc = conflict_of(backend, duplicate)
    assert exc.change == duplicate
    assert "already exists" in exc.reason
    assert read(backend, lambda uow: uow.get_user("usr_1")) == user("usr_1")


@pytest.mark.parametrize("entity", [card("crd_1"), txn("txn_1"), card_request("req_1")])
def test_duplicate_ids_conflict_for_every_table(backend: Backend, entity: Any) -> None:
    insert(backend, entity)
    exc = conflict_of(backend, Insert(entity))
    assert exc.change == Insert(entity)


def test_insert_with_a_registered_email_conflicts(backend: Backend) -> None:
    insert(backend, user("usr_1", email="same@example.com"))
    duplicate = Insert(user("usr_2", email="same@example.com"))
    exc = conflict_of(backend, duplicate)
    assert exc.change == duplicate
    assert exc.reason == "email already registered"
    assert read(backend, lambda uow: uow.get_user("usr_2")) is None


def test_duplicate_event_sequence_for_a_subject_conflicts(backend: Backend) -> None:
    insert(backend, event("evt_1", subject="crd_1", sequence=1))
    insert(backend, event("evt_2", subject="crd_2", sequence=1))  # other subject: fine
    duplicate = Insert(event("evt_3", subject="crd_1", sequence=1))
    exc = conflict_of(backend, duplicate)
    assert exc.change == duplicate
    assert exc.reason == "event sequence already used"
    assert ids(read(backend, lambda uow: uow.list_events(None, PageQuery(10)))) == [
        "evt_1",
        "evt_2",
    ]


# --- update conditions ------------------------------------------------------------------


def test_update_applies_only_at_the_expected_version(backend: Backend) -> None:
    original = card(balance=0)
    insert(backend, original)
    v2 = replace(original, balance_cents=500, version=2, updated_at=at(1))
    commit(backend, Update(v2, expected_version=1))
    assert read(backend, lambda uow: uow.get_card("crd_1")) == v2

    stale = Update(replace(original, balance_cents=900, version=2), expected_version=1)
    exc = conflict_of(backend, stale)
    assert exc.change == stale
    assert read(backend, lambda uow: uow.get_card("crd_1")) == v2


@pytest.mark.parametrize(
    "entity",
    [user("usr_9"), card("crd_9"), card_request("req_9")],
    ids=["user", "card", "card_request"],
)
def test_update_of_a_missing_aggregate_conflicts(backend: Backend, entity: Any) -> None:
    change = Update(replace(entity, version=2), expected_version=1)
    assert conflict_of(backend, change).change == change
    getter = {User: "get_user", Card: "get_card", CardRequest: "get_card_request"}[type(entity)]
    assert read(backend, lambda uow: getattr(uow, getter)(entity.id)) is None


def test_update_of_user_and_card_request_use_their_versions(backend: Backend) -> None:
    insert(backend, user(), card_request("req_1"))
    approved = replace(
        card_request("req_1"), status=CardRequestStatus.APPROVED, card_id="crd_1",
        decided_at=at(9), version=2,
    )  # fmt: skip
    renamed = replace(user(), name="Renamed", version=2)
    commit(backend, Update(approved, 1), Update(renamed, 1))
    with backend.unit_of_work() as uow:
        assert uow.get_card_request("req_1") == approved
        assert uow.get_user("usr_1") == renamed
    assert conflict_of(backend, Update(replace(renamed, version=3), 1)).change is not None


# --- atomicity --------------------------------------------------------------------------


def test_a_change_set_whose_last_change_conflicts_writes_nothing(backend: Backend) -> None:
    insert(backend, card(), event("evt_1", sequence=1))
    purchase = [
        Update(replace(card(), balance_cents=100, version=2), expected_version=1),
        Insert(txn("txn_1")),
        Insert(user("usr_new")),
        ClaimIdempotency(record("scope-new"), None),
        Insert(event("evt_2", sequence=1)),  # (crd_1, 1) is taken: this one fails
    ]
    exc = conflict_of(backend, *purchase)
    assert exc.change == purchase[-1]
    with backend.unit_of_work() as uow:
        assert uow.get_card("crd_1") == card()
        assert uow.list_transactions("crd_1", None, PageQuery(10)) == []
        assert uow.get_user("usr_new") is None
        assert uow.get_idempotency("scope-new") is None
        assert ids(uow.list_events(None, PageQuery(10))) == ["evt_1"]
    # ... and the same change set minus the culprit then commits cleanly.
    commit(backend, *purchase[:-1])
    assert read(backend, lambda uow: uow.get_card("crd_1").balance_cents) == 100


def test_staged_changes_are_cleared_by_commit_and_by_leaving(backend: Backend) -> None:
    with backend.unit_of_work() as uow:
        uow.add(user())
        uow.commit()
        assert uow.changes == []
        uow.add(user("usr_2"))
    assert read(backend, lambda uow: uow.get_user("usr_2")) is None  # never committed


# --- idempotency ------------------------------------------------------------------------


def deletes_expired_records(backend: Backend) -> bool:
    """DynamoDB's TTL deletes expired items whenever the service likes."""
    return backend.name.startswith("dynamodb")


def test_idempotency_claim_takeover_and_release(backend: Backend) -> None:
    first = record(token="tok-1")
    commit(backend, ClaimIdempotency(first, None))
    assert read(backend, lambda uow: uow.get_idempotency("scope-1")) == first

    # A second claim of a held scope loses, whatever it carries.
    rival = ClaimIdempotency(record(token="tok-2"), None)
    assert conflict_of(backend, rival).change == rival
    # Taking over needs the current token.
    wrong = ClaimIdempotency(record(token="tok-3"), replaces_token="tok-2")
    assert conflict_of(backend, wrong).change == wrong
    completed = replace(
        first, state=IdempotencyState.COMPLETED, status_code=201, response_body="{}",
        response_headers={"Location": "/v1/cards/crd_1"},
    )  # fmt: skip
    commit(backend, ClaimIdempotency(completed, replaces_token="tok-1"))
    assert read(backend, lambda uow: uow.get_idempotency("scope-1")) == completed
    takeover = replace(record(token="tok-4", when=at(90_000)), fingerprint="fp-2")
    commit(backend, ClaimIdempotency(takeover, replaces_token="tok-1"))
    assert read(backend, lambda uow: uow.get_idempotency("scope-1")) == takeover

    # Release only by the holder.
    stale_release = ReleaseIdempotency("scope-1", "tok-1")
    assert conflict_of(backend, stale_release).change == stale_release
    commit(backend, ReleaseIdempotency("scope-1", "tok-4"))
    assert read(backend, lambda uow: uow.get_idempotency("scope-1")) is None
    missing = ReleaseIdempotency("scope-1", "tok-4")
    assert conflict_of(backend, missing).change == missing
    gone = ClaimIdempotency(record(token="tok-5"), replaces_token="tok-4")
    if deletes_expired_records(backend):
        # A store whose TTL deletes expired records on its own may do so between the
        # read that saw the record and the takeover: there, absent counts as the named
        # token's and the takeover wins (reference_app/backends/DYNAMODB.md).
        commit(backend, gone)
    else:
        # Anywhere else a record only goes by its release: a takeover of it fails, and
        # a fresh claim succeeds.
        assert conflict_of(backend, gone).change == gone
        commit(backend, ClaimIdempotency(record(token="tok-5"), None))
    assert read(backend, lambda uow: uow.get_idempotency("scope-1").token) == "tok-5"


def test_idempotency_scopes_are_independent(backend: Backend) -> None:
    commit(backend, ClaimIdempotency(record("a", "tok"), None))
    commit(backend, ClaimIdempotency(record("b", "tok"), None))
    with backend.unit_of_work() as uow:
        assert uow.get_idempotency("a") == record("a", "tok")
        assert uow.get_idempotency("b") == record("b", "tok")


# --- delivery ---------------------------------------------------------------------------


def test_update_delivery_checks_attempts_and_status(backend: Backend) -> None:
    pending = event("evt_1")
    insert(backend, pending)
    retry = replace(pending, attempts=1, next_attempt_at=at(2), last_error="timeout")
    commit(backend, UpdateDelivery(retry, expected=pending))
    assert read(backend, lambda uow: uow.list_events(None, PageQuery(1))) == [retry]

    stale_attempts = UpdateDelivery(replace(retry, attempts=2), expected=pending)
    assert conflict_of(backend, stale_attempts).change == stale_attempts
    stale_status = UpdateDelivery(
        replace(retry, attempts=2), expected=replace(retry, status=DeliveryStatus.SENT)
    )
    assert conflict_of(backend, stale_status).change == stale_status
    missing = UpdateDelivery(replace(event("evt_9"), attempts=1), expected=event("evt_9"))
    assert conflict_of(backend, missing).change == missing

    sent = replace(retry, status=DeliveryStatus.SENT, attempts=2, published_at=at(3))
    commit(backend, UpdateDelivery(sent, expected=retry))
    with backend.unit_of_work() as uow:
        assert uow.list_events(None, PageQuery(1)) == [sent]
        assert uow.pending_events(10) == []


# --- listings ---------------------------------------------------------------------------


def test_cards_newest_first_ties_by_id_and_filtered_by_user(backend: Backend) -> None:
    cards = [
        card("crd_b", "usr_1", at(1)),
        card("crd_a", "usr_1", at(1)),  # same instant as crd_b: id decides (desc)
        card("crd_c", "usr_2", at(1)),
        card("crd_d", "usr_1", at(0)),
        card("crd_e", "usr_1", at(2)),
        card("crd_f", "usr_2", at(2.000001)),
    ]
    insert(backend, *cards)
    everyone = read(backend, lambda uow: uow.list_cards(None, PageQuery(100)))
    assert ids(everyone) == ["crd_f", "crd_e", "crd_c", "crd_b", "crd_a", "crd_d"]
    mine = read(backend, lambda uow: uow.list_cards("usr_1", PageQuery(100)))
    assert ids(mine) == ["crd_e", "crd_b", "crd_a", "crd_d"]
    for limit in (1, 2, 3, 5, 6):
        assert_full_pages(paged_ids(backend, "list_cards", None, limit=limit), limit, ids(everyone))
    assert_full_pages(paged_ids(backend, "list_cards", "usr_1", limit=1), 1, ids(mine))


def test_card_requests_filtered_by_status_and_user_give_full_pages(backend: Backend) -> None:
    statuses = [CardRequestStatus.PENDING, CardRequestStatus.APPROVED, CardRequestStatus.REJECTED]
    requests = [
        card_request(f"req_{i:02d}", f"usr_{i % 2}", statuses[i % 3], at(i // 2)) for i in range(24)
    ]
    insert(backend, *requests)
    newest_first = sorted(requests, key=lambda r: (r.created_at, r.id), reverse=True)
    for user_id in (None, "usr_0", "usr_1"):
        for status in (None, *statuses):
            expected = [
                r.id for r in newest_first
                if (user_id is None or r.user_id == user_id)
                and (status is None or r.status == status)
            ]  # fmt: skip
            assert expected, "every filter combination matches something"
            for limit in (1, 3):
                pages = paged_ids(backend, "list_card_requests", user_id, status, limit=limit)
                assert_full_pages(pages, limit, expected)


def test_transactions_by_card_and_type_with_keyset_pages(backend: Backend) -> None:
    kinds = [TransactionType.PURCHASE, TransactionType.PURCHASE, TransactionType.PAYMENT]
    txns = [txn(f"txn_{i:02d}", "crd_1", kinds[i % 3], at(i // 3)) for i in range(15)]
    txns.append(txn("txn_other", "crd_2", TransactionType.PAYMENT, at(100)))
    insert(backend, *txns)
    ordered = sorted(txns[:-1], key=lambda t: (t.created_at, t.id), reverse=True)
    for kind in (None, TransactionType.PURCHASE, TransactionType.PAYMENT):
        expected = [t.id for t in ordered if kind is None or t.type == kind]
        for limit in (1, 4, 20):
            pages = paged_ids(backend, "list_transactions", "crd_1", kind, limit=limit)
            assert_full_pages(pages, limit, expected)
    assert ids(read(backend, lambda uow: uow.list_transactions("crd_2", None, PageQuery(9)))) == [
        "txn_other"
    ]


def test_page_after_a_key_is_strict_and_needs_no_stored_row(backend: Backend) -> None:
    insert(backend, *(card(f"crd_{i}", when=at(i)) for i in range(5)))
    # A key between rows (no row has it) still positions the page correctly.
    rows = read(backend, lambda uow: uow.list_cards(None, PageQuery(10, PageKey(at(3), "crd_0"))))
    assert ids(rows) == ["crd_2", "crd_1", "crd_0"]
    rows = read(backend, lambda uow: uow.list_cards(None, PageQuery(10, PageKey(at(3), "crd_3"))))
    assert ids(rows) == ["crd_2", "crd_1", "crd_0"]
    rows = read(backend, lambda uow: uow.list_cards(None, PageQuery(10, PageKey(at(3), "crd_9"))))
    assert ids(rows) == ["crd_3", "crd_2", "crd_1", "crd_0"]


def test_events_oldest_first_by_time_then_id_and_by_subject(backend: Backend) -> None:
    events = [
        event("evt_c", "crd_1", 1, at(0)),
        event("evt_b", "crd_2", 1, at(1)),
        event("evt_a", "crd_1", 2, at(1)),  # same time as evt_b: id decides (asc)
        event("evt_d", "crd_2", 2, at(0.5)),
        event("evt_e", "crd_1", 3, at(2)),
    ]
    insert(backend, *events)
    everything = read(backend, lambda uow: uow.list_events(None, PageQuery(100)))
    assert ids(everything) == ["evt_c", "evt_d", "evt_a", "evt_b", "evt_e"]
    assert everything[0] == events[0]
    for limit in (1, 2, 4):
        assert_full_pages(
            paged_ids(backend, "list_events", None, limit=limit), limit, ids(everything)
        )
        pages = paged_ids(backend, "list_events", "crd_1", limit=limit)
        assert_full_pages(pages, limit, ["evt_c", "evt_a", "evt_e"])


def test_pending_events_by_subject_then_sequence_without_sent_or_dead(backend: Backend) -> None:
    insert(
        backend,
        event("evt_1", "crd_b", 2, at(0)),
        event("evt_2", "crd_a", 10, at(1)),
        event("evt_3", "crd_b", 1, at(2)),
        event("evt_4", "crd_a", 9, at(3), status=DeliveryStatus.SENT),
        event("evt_5", "crd_a", 2, at(4)),
        event("evt_6", "crd_c", 1, at(5), status=DeliveryStatus.DEAD),
        event("evt_7", "crd_B", 1, at(6)),  # upper case sorts before lower case
    )
    pending = read(backend, lambda uow: uow.pending_events(10))
    assert [(e.subject, e.sequence) for e in pending] == [
        ("crd_B", 1), ("crd_a", 2), ("crd_a", 10), ("crd_b", 1), ("crd_b", 2),
    ]  # fmt: skip
    assert ids(read(backend, lambda uow: uow.pending_events(2))) == ["evt_7", "evt_5"]


# --- isolation and concurrency --------------------------------------------------------


def test_namespaces_are_isolated(make_backend: Callable[..., Backend]) -> None:
    one, two = make_backend(), make_backend()
    insert(one, user("usr_1", email="same@example.com"), card("crd_1"), event("evt_1"))
    commit(one, ClaimIdempotency(record("scope"), None))
    with two.unit_of_work() as uow:
        assert uow.get_user("usr_1") is None
        assert uow.list_cards(None, PageQuery(10)) == []
        assert uow.pending_events(10) == []
        assert uow.get_idempotency("scope") is None
    # The same ids, email, event sequence and scope are free in the other namespace.
    insert(two, user("usr_1", email="same@example.com"), card("crd_1"), event("evt_1"))
    commit(two, ClaimIdempotency(record("scope"), None))
    commit(two, Update(replace(card("crd_1"), balance_cents=7, version=2), 1))
    assert read(one, lambda uow: uow.get_card("crd_1")) == card("crd_1")
    assert read(two, lambda uow: uow.get_card("crd_1").balance_cents) == 7


def test_dropping_a_namespace_deletes_its_data_and_no_other(
    make_backend: Callable[..., Backend],
) -> None:
    one, two = make_backend(), make_backend()
    for backend in (one, two):
        insert(backend, user("usr_1"), card("crd_1"), event("evt_1"))
        commit(backend, ClaimIdempotency(record("scope"), None))
    one.drop_namespace()
    # A new instance on the namespace (PostgreSQL re-creates the dropped schema) and, for
    # memory, the dropped instance itself both find nothing.
    readers = [make_backend(one.namespace)] + ([one] if isinstance(one, MemoryBackend) else [])
    for reader in readers:
        with reader.unit_of_work() as uow:
            assert uow.get_user("usr_1") is None
            assert uow.list_cards(None, PageQuery(10)) == []
            assert uow.list_events(None, PageQuery(10)) == []
            assert uow.get_idempotency("scope") is None
    assert read(two, lambda uow: uow.get_card("crd_1")) == card("crd_1")
    assert read(two, lambda uow: uow.get_idempotency("scope")) is not None
    assert len(read(two, lambda uow: uow.list_events(None, PageQuery(10)))) == 1


def test_concurrent_updates_of_one_version_have_exactly_one_winner(backend: Backend) -> None:
    threads, rounds = 20, 3
    insert(backend, card(balance=0))
    barrier = threading.Barrier(threads)
    wins: list[tuple[int, int]] = []  # (round, version won)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def contender(index: int) -> None:
        try:
            for round_no in range(rounds):
                with backend.unit_of_work() as uow:
                    current = uow.get_card("crd_1")
                    assert current is not None
                    barrier.wait(timeout=30)  # everyone read the same version
                    new = replace(
                        current, balance_cents=current.balance_cents + 1,
                        version=current.version + 1,
                    )  # fmt: skip
                    uow.update(new, expected_version=current.version)
                    uow.add(event(f"evt_{round_no}_{index}", "crd_1", new.version, at(round_no)))
                    try:
                        uow.commit()
                    except CommitConflict:
                        pass
                    else:
                        with lock:
                            wins.append((round_no, new.version))
                barrier.wait(timeout=30)  # the round is over for everyone
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            barrier.abort()

    workers = [threading.Thread(target=contender, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors
    assert sorted(wins) == [(r, r + 2) for r in range(rounds)]
    final = read(backend, lambda uow: uow.get_card("crd_1"))
    assert final is not None and (final.version, final.balance_cents) == (1 + rounds, rounds)
    events = read(backend, lambda uow: uow.list_events("crd_1", PageQuery(100)))
    assert sorted(e.sequence for e in events) == [2, 3, 4]


def test_backend_is_ready_and_describes_itself(backend: Backend) -> None:
    backend.check_ready()
    facts = backend.describe()
    assert facts["backend"] == backend.name
    assert backend.name in {"memory", "sqlite", "postgres", "mysql", "dynamodb", "firestore"}


# --- SQL specifics (skipped for non-SQL backends) --------------------------------------


def _sql(backend: Backend) -> SqlBackend:
    if not isinstance(backend, SqlBackend):
        pytest.skip(f"{backend.name} has no SQL schema")
    return backend


def test_migrations_are_recorded_and_idempotent(backend: Backend) -> None:
    sql = _sql(backend)
    assert sql.migrate() == []  # already applied on start-up
    names = SqlNames(sql.db.dialect, sql.ns_ident)
    rows = sql.db.query(f"SELECT version FROM {names['schema_version']} ORDER BY version")
    assert [r[0] for r in rows] == list(range(1, LATEST + 1))
    assert sql.describe()["version"]


def test_two_instances_on_one_namespace_share_data(
    backend: Backend, make_backend: Callable[..., Backend]
) -> None:
    sql = _sql(backend)
    twin = make_backend(sql.namespace)
    insert(sql, user())
    assert read(twin, lambda uow: uow.get_user("usr_1")) == user()
    assert isinstance(twin, SqlBackend) and twin.migrate() == []


def test_namespace_names_that_are_not_identifiers_stay_distinct(
    backend: Backend, make_backend: Callable[..., Backend]
) -> None:
    _sql(backend)
    odd, other = make_backend("Example-1/ä"), make_backend("example_1_a")
    insert(odd, user())
    assert read(other, lambda uow: uow.get_user("usr_1")) is None
    assert read(make_backend("Example-1/ä"), lambda uow: uow.get_user("usr_1")) == user()


def test_unopenable_sqlite_file_is_backend_unavailable(tmp_path: Any) -> None:
    from reference_app.backends.sqlite import SqliteBackend
    from reference_app.service_layer.unit_of_work import BackendUnavailable

    url = f"sqlite:///{tmp_path}/missing-dir/ledger.db"
    with pytest.raises(BackendUnavailable, match="unable to open"):
        SqliteBackend.from_settings(Settings(backend="sqlite", database_url=url))


def test_a_new_sqlite_namespace_needs_no_ddl(
    backend: Backend, make_backend: Callable[..., Backend]
) -> None:
    sql = _sql(backend)
    if sql.db.dialect.name != "sqlite":
        pytest.skip("the SQLite catalog (MySQL: tests/engines/test_mysql_engine.py)")
    count = "SELECT COUNT(*) FROM sqlite_master"
    before = sql.db.query(count)[0][0]
    for _ in range(3):
        make_backend()
    assert sql.db.query(count)[0][0] == before


def test_the_migrate_command_applies_once(engine: Any) -> None:
    from reference_app.backends.sql.cli import main, migrate_from_settings

    settings = settings_for(engine, f"m{uuid.uuid4().hex[:12]}")
    if settings.backend not in {"sqlite", "postgres"}:
        pytest.skip(f"{settings.backend} has no SQL schema")
    if settings.backend == "sqlite":  # a file of its own: the engine's is already migrated
        settings = replace(settings, database_url=settings.database_url + ".migrate.db")
    assert migrate_from_settings(settings) == list(range(1, LATEST + 1))
    assert migrate_from_settings(settings) == []
    assert main(["--database-url", settings.database_url, "--namespace", settings.namespace]) == 0
