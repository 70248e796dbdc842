"""Firestore-specific checks the shared contract suite cannot force.

The contract suite and the lockstep scenarios pause a request *before* ``commit()``; the
Firestore unit of work reads the documents its conditions need *inside* ``commit()`` and
then writes. A write that is not conditional on what was read (a plain ``set()``) passes
all of those, because the read is fresh; only a commit landing in the gap between that
read and the write loses an update (measured: with plain writes, 16 threads x 10
read-modify-write commits lost 104 of 117 "successful" updates). These tests put a
competing commit exactly in that gap.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from parity.engines.base import Engine
from reference_app.backends.firestore import FirestoreBackend
from reference_app.backends.firestore.unit_of_work import FirestoreUnitOfWork
from reference_app.domain.model import IdempotencyRecord, IdempotencyState, User
from reference_app.service_layer.unit_of_work import (
    ClaimIdempotency,
    CommitConflict,
    Insert,
    Update,
)
from tests.engine_pool import engine_or_skip, fresh_namespace, settings_for

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def engine() -> Engine:
    """The session's emulator, shared with the API suite (one JVM start per session)."""
    return engine_or_skip("firestore@emulator")


@pytest.fixture
def backend(engine: Engine) -> FirestoreBackend:
    made = FirestoreBackend(settings_for(engine, fresh_namespace()))
    return made


def _user(n: int = 1, **changes: Any) -> User:
    return replace(User(f"usr_{n}", "Ada", f"ada{n}@example.com", 1, NOW), **changes)


def _in_the_gap(monkeypatch: pytest.MonkeyPatch, competitor: Any) -> None:
    """Run ``competitor()`` once, right after the commit's first read of its documents."""
    original = FirestoreUnitOfWork._read
    done = threading.Event()

    def read(self: FirestoreUnitOfWork, refs: list[Any]) -> dict[str, Any]:
        snaps = original(self, refs)
        if refs and not done.is_set():
            done.set()
            competitor()
        return snaps

    monkeypatch.setattr(FirestoreUnitOfWork, "_read", read)


def test_update_loses_to_a_commit_between_its_read_and_its_write(
    backend: FirestoreBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    with backend.unit_of_work() as uow:
        uow.add(_user())
        uow.commit()

    def competitor() -> None:
        other = FirestoreUnitOfWork(backend.store)
        other.update(_user(score=500, version=2), expected_version=1)
        other.commit()

    _in_the_gap(monkeypatch, competitor)
    with backend.unit_of_work() as uow:
        uow.update(_user(score=2, version=2), expected_version=1)
        with pytest.raises(CommitConflict) as lost:
            uow.commit()
    assert isinstance(lost.value.change, Update)  # named on the fresh read
    with backend.unit_of_work() as uow:
        stored = uow.get_user("usr_1")
    assert stored is not None and (stored.score, stored.version) == (500, 2)


def test_claim_loses_to_a_claim_between_its_read_and_its_write(
    backend: FirestoreBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    def record(token: str) -> IdempotencyRecord:
        return IdempotencyRecord("scope", "fp", IdempotencyState.IN_FLIGHT, token, NOW, NOW, NOW)

    with backend.unit_of_work() as uow:
        uow.claim_idempotency(record("a"), None)
        uow.commit()

    def competitor() -> None:
        other = FirestoreUnitOfWork(backend.store)
        other.claim_idempotency(record("b"), "a")  # takes the record over first
        other.commit()

    _in_the_gap(monkeypatch, competitor)
    with backend.unit_of_work() as uow:
        uow.claim_idempotency(record("c"), "a")
        uow.add(_user(7))  # the state change travels with the claim: nothing written
        with pytest.raises(CommitConflict) as lost:
            uow.commit()
    assert isinstance(lost.value.change, ClaimIdempotency)
    with backend.unit_of_work() as uow:
        held = uow.get_idempotency("scope")
        assert held is not None and held.token == "b"
        assert uow.get_user("usr_7") is None


def test_insert_loses_to_the_same_email_between_read_and_write(
    backend: FirestoreBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    with backend.unit_of_work() as uow:
        uow.add(_user(1))
        uow.commit()

    def competitor() -> None:
        other = FirestoreUnitOfWork(backend.store)
        other.add(_user(2, email="taken@example.com"))
        other.commit()

    _in_the_gap(monkeypatch, competitor)
    with backend.unit_of_work() as uow:
        uow.update(_user(1, score=3, version=2), expected_version=1)
        uow.add(_user(3, email="taken@example.com"))
        with pytest.raises(CommitConflict) as lost:
            uow.commit()
    assert isinstance(lost.value.change, Insert)
    assert lost.value.reason == "email already registered"
    with backend.unit_of_work() as uow:
        stored = uow.get_user("usr_1")
        assert stored is not None and stored.version == 1  # the update was not written


def test_read_modify_write_race_loses_no_update(backend: FirestoreBackend) -> None:
    with backend.unit_of_work() as uow:
        uow.add(_user())
        uow.commit()
    wins: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def contender(i: int) -> None:
        barrier.wait()
        for _ in range(4):
            with backend.unit_of_work() as uow:
                current = uow.get_user("usr_1")
                assert current is not None
                uow.update(
                    replace(current, score=current.score + 1, version=current.version + 1),
                    current.version,
                )
                try:
                    uow.commit()
                except CommitConflict:
                    continue
                with lock:
                    wins.append(i)

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with backend.unit_of_work() as uow:
        final = uow.get_user("usr_1")
    assert final is not None and wins
    assert final.version == 1 + len(wins) and final.score == 1 + len(wins)
