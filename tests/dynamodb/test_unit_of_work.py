"""The DynamoDB unit of work on moto (in-process and server): conditions, cancellation
reasons, atomicity, looping listings, namespaces, races, retries."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from reference_app.backends.dynamodb import DynamoDbBackend
from reference_app.backends.dynamodb.retry import RetryPolicy
from reference_app.backends.dynamodb.session import client_kwargs
from reference_app.backends.dynamodb.tables import TTL_ATTRIBUTE
from reference_app.domain.model import DeliveryStatus, IdempotencyState, TransactionType
from reference_app.service_layer.unit_of_work import (
    BackendUnavailable,
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
from tests.dynamodb.conftest import MakeBackend
from tests.dynamodb.factories import at, card, event, record, txn, user

pytestmark = pytest.mark.dynamodb


def commit(backend: DynamoDbBackend, *changes: Any) -> None:
    with backend.unit_of_work() as uow:
        uow.changes.extend(changes)
        uow.commit()


def conflict_of(backend: DynamoDbBackend, *changes: Any) -> CommitConflict:
    with pytest.raises(CommitConflict) as info:
        commit(backend, *changes)
    return info.value


def test_cancellation_reason_names_the_change_that_failed_and_nothing_is_written(
    backend: DynamoDbBackend,
) -> None:
    commit(backend, Insert(user()), Insert(card()))
    stale = Update(card(balance=5, version=2), expected_version=7)
    new_txn = Insert(txn("txn_1"))
    failed = conflict_of(backend, new_txn, Insert(event("evt_1")), stale)
    assert failed.change is stale
    assert "version" in failed.reason
    with backend.unit_of_work() as uow:  # atomic: the inserts before it did not happen
        assert uow.list_transactions("crd_1", None, PageQuery(10)) == []
        assert uow.list_events(None, PageQuery(10)) == []
        assert uow.pending_events(10) == []
        assert uow.get_card("crd_1") == card()


def test_insert_conditions_ids_emails_and_event_sequences(backend: DynamoDbBackend) -> None:
    commit(backend, Insert(user()))
    again = Insert(user())
    assert conflict_of(backend, again).change is again
    other_id_same_email = Insert(user("usr_2"))
    failed = conflict_of(backend, other_id_same_email)
    assert failed.change is other_id_same_email and "email" in failed.reason
    with backend.unit_of_work() as uow:
        assert uow.get_user("usr_2") is None
        assert uow.get_user_by_email("ada@example.com") == user()
    commit(backend, Insert(event("evt_1", sequence=1)))
    same_sequence = Insert(event("evt_2", sequence=1))
    failed = conflict_of(backend, same_sequence)
    assert failed.change is same_sequence and "sequence" in failed.reason


def test_idempotency_claim_takeover_release_and_ttl_attribute(
    backend: DynamoDbBackend, engine: Any
) -> None:
    first = record(token="tok-1")
    commit(backend, ClaimIdempotency(first, None))
    rival = ClaimIdempotency(record(token="tok-2"), None)
    assert conflict_of(backend, rival).change is rival
    wrong = ClaimIdempotency(record(token="tok-3"), "tok-x")
    assert conflict_of(backend, wrong).change is wrong
    takeover = replace(first, token="tok-2", status_code=201, response_body="{}")
    commit(backend, ClaimIdempotency(takeover, "tok-1"))
    with backend.unit_of_work() as uow:
        assert uow.get_idempotency(first.scope) == takeover
    bad_release = ReleaseIdempotency(first.scope, "tok-1")
    assert conflict_of(backend, bad_release).change is bad_release
    commit(backend, ReleaseIdempotency(first.scope, "tok-2"))
    with backend.unit_of_work() as uow:
        assert uow.get_idempotency(first.scope) is None
    # The stored item carries epoch seconds of expires_at; TTL is enabled on the table.
    commit(backend, ClaimIdempotency(first, None))
    keys = backend.store.keys.idempotency(first.scope)
    raw = backend.client.get_item(TableName=backend.table, Key=keys, ConsistentRead=True)
    assert int(raw["Item"][TTL_ATTRIBUTE]["N"]) == int(first.expires_at.timestamp())
    ttl = backend.client.describe_time_to_live(TableName=backend.table)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == TTL_ATTRIBUTE


def test_a_takeover_wins_over_a_record_ttl_deleted_but_a_completion_does_not(
    backend: DynamoDbBackend,
) -> None:
    """TTL may delete an expired record between the read that saw it and the takeover
    (``+ttl-lag`` does): the takeover must win as if it had been absent, or the app
    would look again and read the clock once more than the memory backend. Completing
    a claim still needs it: our own record is a day from expiring."""
    first = record(token="tok-1")
    keys = backend.store.keys.idempotency(first.scope)
    commit(backend, ClaimIdempotency(first, None))
    backend.client.delete_item(TableName=backend.table, Key=keys)  # what TTL does
    takeover = replace(first, token="tok-2")
    commit(backend, ClaimIdempotency(takeover, "tok-1"))
    with backend.unit_of_work() as uow:
        assert uow.get_idempotency(first.scope) == takeover
    rival = ClaimIdempotency(replace(first, token="tok-3"), "tok-1")
    assert conflict_of(backend, rival).change is rival  # someone else's: still lost
    backend.client.delete_item(TableName=backend.table, Key=keys)
    done = ClaimIdempotency(replace(takeover, state=IdempotencyState.COMPLETED), "tok-2")
    assert conflict_of(backend, done).change is done


def test_the_ttl_attribute_is_never_before_the_records_expiry(backend: DynamoDbBackend) -> None:
    """Rounded down, TTL could delete a record up to a second before the app's expiry."""
    late = replace(record(), expires_at=at(86_400.25))
    commit(backend, ClaimIdempotency(late, None))
    keys = backend.store.keys.idempotency(late.scope)
    raw = backend.client.get_item(TableName=backend.table, Key=keys, ConsistentRead=True)
    assert int(raw["Item"][TTL_ATTRIBUTE]["N"]) == int(late.expires_at.timestamp()) + 1


def test_delivery_updates_are_conditional_and_pending_follows_status(
    backend: DynamoDbBackend,
) -> None:
    e1, e2, e3 = event("evt_b1", "b", 1), event("evt_a2", "a", 2, at(1)), event("evt_a1", "a", 1)
    commit(backend, Insert(e1), Insert(e2), Insert(e3))
    with backend.unit_of_work() as uow:
        assert [e.id for e in uow.pending_events(10)] == ["evt_a1", "evt_a2", "evt_b1"]
        assert [e.id for e in uow.pending_events(2)] == ["evt_a1", "evt_a2"]
    retried = replace(e3, attempts=1, next_attempt_at=at(5), last_error="boom")
    commit(backend, UpdateDelivery(retried, e3))
    lost = UpdateDelivery(replace(e3, attempts=1), e3)  # a second relay, same attempt
    assert conflict_of(backend, lost).change is lost
    sent = replace(retried, status=DeliveryStatus.SENT, attempts=2, published_at=at(6))
    commit(backend, UpdateDelivery(sent, retried))
    with backend.unit_of_work() as uow:
        assert [e.id for e in uow.pending_events(10)] == ["evt_a2", "evt_b1"]
        assert uow.list_events("a", PageQuery(10)) == [sent, e2]


def test_filtered_listing_loops_over_many_small_query_pages(make_backend: MakeBackend) -> None:
    backend = make_backend(query_page_size=2)
    kinds = [TransactionType.PAYMENT] * 6 + [TransactionType.PURCHASE]
    txns = [txn(f"txn_{i:03d}", kind=kinds[i % 7], when=at(i)) for i in range(70)]
    for start in range(0, len(txns), 25):
        commit(backend, *(Insert(t) for t in txns[start : start + 25]))
    queries: list[int] = []
    backend.client.meta.events.register("before-call.dynamodb.Query", lambda **_: queries.append(1))
    purchases = [t.id for t in reversed(txns) if t.type == TransactionType.PURCHASE]
    seen: list[str] = []
    after = None
    with backend.unit_of_work() as uow:
        while True:
            page = uow.list_transactions("crd_1", TransactionType.PURCHASE, PageQuery(4, after))
            seen += [t.id for t in page]
            if len(page) < 4:
                break
            after = PageKey(page[-1].created_at, page[-1].id)
    assert seen == purchases  # 10 purchases: pages of 4, 4, 2 — every page but the last full
    assert len(queries) > 30  # 70 items in pages of 2: the loop really ran


def test_pointer_listings_are_newest_first_and_paged(make_backend: MakeBackend) -> None:
    backend = make_backend(query_page_size=1)
    cards = [replace(card(f"crd_{i}", f"usr_{i % 2}"), created_at=at(i)) for i in range(7)]
    commit(backend, *(Insert(c) for c in cards))
    with backend.unit_of_work() as uow:
        assert [c.id for c in uow.list_cards(None, PageQuery(10))] == [
            f"crd_{i}" for i in range(6, -1, -1)
        ]
        first = uow.list_cards("usr_0", PageQuery(2))
        assert [c.id for c in first] == ["crd_6", "crd_4"]
        rest = uow.list_cards("usr_0", PageQuery(5, PageKey(first[-1].created_at, "crd_4")))
        assert [c.id for c in rest] == ["crd_2", "crd_0"]


def test_namespaces_are_isolated_by_key_prefix(make_backend: MakeBackend) -> None:
    one, two = make_backend("ns-one"), make_backend("ns-two")
    assert one.table == two.table  # one table, many namespaces
    commit(one, Insert(user()), Insert(card()))
    commit(two, Insert(user()))  # same ids and email: no conflict across namespaces
    with two.unit_of_work() as uow:
        assert uow.get_card("crd_1") is None
        assert uow.list_cards(None, PageQuery(5)) == []
    raw = one.client.get_item(TableName=one.table, Key=one.store.keys.card("crd_1"))
    assert raw["Item"]["pk"]["S"].startswith("ns-one|")


def test_twenty_threads_purchase_race_one_winner_per_version(backend: DynamoDbBackend) -> None:
    commit(backend, Insert(card()))
    threads = 20
    barrier = threading.Barrier(threads)
    winners: dict[int, list[int]] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def buyer(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            while True:
                with backend.unit_of_work() as uow:
                    current = uow.get_card("crd_1")
                    assert current is not None
                    new = replace(current, balance_cents=current.balance_cents + 1,
                                  version=current.version + 1)  # fmt: skip
                    uow.update(new, current.version)
                    uow.add(txn(f"txn_{index:02d}", when=at(index)))
                    uow.add(event(f"evt_{index:02d}", "crd_1", new.version, at(index)))
                    uow.claim_idempotency(record(f"scope-{index}", f"tok-{index}"), None)
                    try:
                        uow.commit()
                    except CommitConflict as exc:
                        assert isinstance(exc.change, Update)
                        continue
                    with lock:
                        winners.setdefault(new.version, []).append(index)
                    return
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=buyer, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors
    assert sorted(winners) == list(range(2, threads + 2))
    assert all(len(indices) == 1 for indices in winners.values())
    with backend.unit_of_work() as uow:
        final = uow.get_card("crd_1")
        assert final is not None and final.balance_cents == threads
        assert len(uow.list_transactions("crd_1", None, PageQuery(50))) == threads
        sequences = sorted(e.sequence for e in uow.list_events("crd_1", PageQuery(50)))
        assert sequences == list(range(2, threads + 2))  # gapless, no duplicates


# --- retries and errors, with a scripted client -----------------------------------------


class ScriptedClient:
    """Answers transact_write_items from a script of exceptions, then succeeds."""

    def __init__(self, script: list[BaseException]) -> None:
        self.script = list(script)
        self.calls = 0

    def transact_write_items(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        if self.script:
            raise self.script.pop(0)
        return {}


def cancelled(*codes: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": code} for code in codes],
        },
        "TransactWriteItems",
    )


def scripted_backend(script: list[BaseException], attempts: int = 4) -> DynamoDbBackend:
    policy = RetryPolicy(max_attempts=attempts, sleep=lambda _s: None)
    return DynamoDbBackend(
        Settings(backend="dynamodb", endpoint_url="http://127.0.0.1:9"),
        client=ScriptedClient(script),
        retry=policy,
        provision=False,
    )


def test_transaction_conflicts_and_throttling_are_retried_then_succeed() -> None:
    throttled = ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException"}}, "TransactWriteItems"
    )
    backend = scripted_backend([cancelled("None", "TransactionConflict"), throttled])
    commit(backend, Insert(txn("txn_1")), Update(card(version=2), 1))
    assert backend.client.calls == 3


def test_persistent_transaction_conflict_surfaces_as_commit_conflict() -> None:
    backend = scripted_backend([cancelled("None", "TransactionConflict")] * 10, attempts=3)
    update = Update(card(version=2), 1)
    failed = conflict_of(backend, Insert(txn("txn_1")), update)
    assert failed.change is update and "TransactionConflict" in failed.reason
    assert backend.client.calls == 3


def test_full_jitter_delays_stay_under_the_cap() -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=0.5)
    for attempt in range(8):
        delays = [policy.delay(attempt) for _ in range(50)]
        assert all(0 <= d <= min(0.5, 0.1 * 2**attempt) for d in delays)


def test_unreachable_endpoint_is_backend_unavailable() -> None:
    settings = Settings(backend="dynamodb", endpoint_url="http://127.0.0.1:9", table_prefix="x")
    backend = DynamoDbBackend(settings, retry=RetryPolicy(max_attempts=1))
    with pytest.raises(BackendUnavailable):
        backend.check_ready()
    with pytest.raises(BackendUnavailable), backend.unit_of_work() as uow:
        uow.get_card("crd_1")


def test_endpoint_override_only_when_configured() -> None:
    production = client_kwargs(Settings(backend="dynamodb", aws_region="eu-west-1"))
    assert production == {"region_name": "eu-west-1"}  # default chain, default endpoint
    local = client_kwargs(Settings(backend="dynamodb", endpoint_url="http://127.0.0.1:4566"))
    assert local["endpoint_url"] == "http://127.0.0.1:4566"
    assert local["aws_access_key_id"] == "testing"
    described = DynamoDbBackend(Settings(backend="dynamodb"), client=object(), provision=False)
    assert described.describe()["engine"] == "aws"
