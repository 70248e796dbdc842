"""Commits per second of a purchase-shaped change set on dynamodb@moto and @moto-server.

One commit = Update card (version condition) + Insert transaction + Insert event
(sequence guard, feed and pending pointers) + ClaimIdempotency: the unit of work of one
``POST /v1/cards/{id}/transactions``, as one ``TransactWriteItems`` of 7 items, preceded by
the consistent ``GetItem`` of the card the service does. Sequential (one client thread)
and with 4 threads on 4 different cards (no contention), each for a fixed time.

Run: ``.venv/bin/python benchmarks/bench_dynamodb.py [--seconds 5] [--engines ...]``.
Not a timed test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from parity.engines.dynamodb import DynamoDbEngine
from parity.engines.registry import create_engine
from reference_app.backends.dynamodb import DynamoDbBackend
from reference_app.domain.model import (
    Card,
    CardStatus,
    IdempotencyRecord,
    IdempotencyState,
    OutboxEvent,
    Transaction,
    TransactionType,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def purchase(backend: DynamoDbBackend, card_id: str, n: int) -> None:
    with backend.unit_of_work() as uow:
        card = uow.get_card(card_id)
        assert card is not None
        now = T0 + timedelta(microseconds=n)
        new = replace(card, balance_cents=card.balance_cents + 1, version=card.version + 1)
        uow.update(new, card.version)
        tid = f"txn_{card_id}_{n:08d}"
        uow.add(Transaction(tid, card_id, "usr_1", TransactionType.PURCHASE, 1, None,
                            new.balance_cents, now))  # fmt: skip
        uow.add(OutboxEvent(f"evt_{card_id}_{n:08d}", "urn:bench", "card.purchased", card_id,
                            now, new.version, {"amount_cents": 1}))  # fmt: skip
        uow.claim_idempotency(
            IdempotencyRecord(
                f"scope-{tid}",
                "fp",
                IdempotencyState.COMPLETED,
                tid,
                now,
                now + timedelta(days=1),
                now,
                201,
                "{}",
            ),
            None,
        )
        uow.commit()


def run(backend: DynamoDbBackend, threads: int, seconds: float) -> float:
    cards = [f"crd_{uuid.uuid4().hex[:8]}" for _ in range(threads)]
    with backend.unit_of_work() as uow:
        for cid in cards:
            uow.add(Card(cid, "usr_1", "req_1", CardStatus.ACTIVE, 10**9, 0, T0, T0))
        uow.commit()
    counts = [0] * threads
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        while time.perf_counter() < deadline:
            purchase(backend, cards[index], counts[index])
            counts[index] += 1

    started = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--engines", default="dynamodb@moto,dynamodb@moto-server")
    args = parser.parse_args()
    print(f"{'engine':24} {'version':8} {'1 thread':>12} {'4 threads':>12}")
    for name in args.engines.split(","):
        engine = create_engine(name)
        assert isinstance(engine, DynamoDbEngine)
        engine.start()
        try:
            backend = DynamoDbBackend(engine.settings(f"bench-{uuid.uuid4().hex[:6]}"))
            run(backend, 1, 0.5)  # warm-up: connections, table
            one = run(backend, 1, args.seconds)
            four = run(backend, 4, args.seconds)
            version = engine.info().version
            print(f"{name:24} {version:8} {one:9.1f}/s {four:9.1f}/s", flush=True)
        finally:
            engine.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
