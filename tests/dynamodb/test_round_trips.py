"""What the DynamoDB adapter sends per commit (issue 16: fewer, cheaper round trips), and
that the cheaper request keeps what the transaction gave: a resent claim that had landed
is a success, a rival's claim still loses."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import pytest

from reference_app.backends.dynamodb import DynamoDbBackend
from reference_app.service_layer.unit_of_work import ClaimIdempotency, CommitConflict, Insert
from tests.dynamodb.factories import card, record, user

pytestmark = pytest.mark.dynamodb


def calls_of(backend: DynamoDbBackend, *changes: Any) -> Counter[str]:
    """The DynamoDB operations one commit of ``changes`` sends."""
    sent: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        sent[model.name] += 1

    events = backend.client.meta.events
    events.register("before-call.dynamodb", count)
    try:
        with backend.unit_of_work() as uow:
            uow.changes.extend(changes)
            uow.commit()
    finally:
        events.unregister("before-call.dynamodb", count)
    return sent


def test_a_lone_claim_is_one_conditional_put_and_other_commits_one_transaction(
    backend: DynamoDbBackend,
) -> None:
    assert calls_of(backend, ClaimIdempotency(record(token="tok-1"), None)) == {"PutItem": 1}
    taken_over = replace(record(), token="tok-2")
    assert calls_of(backend, ClaimIdempotency(taken_over, "tok-1")) == {"PutItem": 1}
    assert calls_of(backend, Insert(user()), Insert(card())) == {"TransactWriteItems": 1}
    with backend.unit_of_work() as uow:
        assert uow.get_idempotency(taken_over.scope) == taken_over


def test_a_resent_claim_that_had_landed_succeeds_and_a_rivals_claim_still_loses(
    backend: DynamoDbBackend,
) -> None:
    """botocore resends a request whose answer was lost; a transaction's
    ClientRequestToken made that resend a success, the claim's own token does now."""
    mine = record(token="tok-mine")
    calls_of(backend, ClaimIdempotency(mine, None))
    assert calls_of(backend, ClaimIdempotency(mine, None)) == {"PutItem": 1}  # the resend
    rival = ClaimIdempotency(record(token="tok-rival"), None)
    with pytest.raises(CommitConflict) as lost:
        calls_of(backend, rival)
    assert lost.value.change is rival
    stale_takeover = ClaimIdempotency(replace(mine, token="tok-late"), "tok-gone")
    with pytest.raises(CommitConflict) as late:
        calls_of(backend, stale_takeover)
    assert late.value.change is stale_takeover
    with backend.unit_of_work() as uow:
        assert uow.get_idempotency(mine.scope) == mine
