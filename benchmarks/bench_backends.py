"""Commits per second of a card-purchase-shaped change set, per storage backend.

One purchase commit = Update(card, expected version) + Insert(transaction) +
Insert(outbox event) + ClaimIdempotency(completed record): the change set the service
commits for ``POST /v1/cards/{id}/transactions``. Measured at the unit-of-work level
(no HTTP), so the numbers are the storage cost alone. Each worker owns its card and knows
its version, so no commit conflicts and no reads are timed: pure commit throughput.

    python benchmarks/bench_backends.py [--seconds 3] [--threads 8]
        [--engines memory,sqlite,postgres@local]

Engines are started (postgres@local: a throwaway cluster) and stopped by the script.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from parity.engines.base import EngineUnavailable
from parity.engines.registry import create_engine
from reference_app.backends.registry import create_backend
from reference_app.domain.model import (
    Card,
    CardStatus,
    IdempotencyRecord,
    IdempotencyState,
    OutboxEvent,
    Transaction,
    TransactionType,
    User,
)
from reference_app.service_layer.unit_of_work import (
    Backend,
    ClaimIdempotency,
    Insert,
    Update,
)
from scenarios.binding import binding

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Result:
    engine: str
    version: str
    single: float  # commits/s, one thread
    multi: float  # commits/s, all threads together
    p50_ms: float  # single-thread median commit latency
    p99_ms: float


def _setup_card(backend: Backend, n: int) -> Card:
    user = User(f"usr_{n}", "Bench", f"bench{n}@example.com", 800, T0)
    card = Card(f"crd_{n}", user.id, "req_0", CardStatus.ACTIVE, 10**12, 0, T0, T0)
    with backend.unit_of_work() as uow:
        uow.add(user)
        uow.add(card)
        uow.commit()
    return card


def _purchase(backend: Backend, card: Card, i: int, worker: int) -> Card:
    now = T0 + timedelta(microseconds=i)
    new = replace(card, balance_cents=card.balance_cents + 1, version=card.version + 1,
                  updated_at=now)  # fmt: skip
    tid = f"txn_{worker}_{i:09d}"
    txn = Transaction(tid, card.id, card.user_id, TransactionType.PURCHASE, 1, None,
                      new.balance_cents, now)  # fmt: skip
    event = OutboxEvent(f"evt_{worker}_{i:09d}", "urn:bench", "transaction.created", card.id,
                        now, new.version, {"transaction_id": tid, "amount_cents": 1})  # fmt: skip
    record = IdempotencyRecord(
        f"scope_{worker}_{i}", "fp", IdempotencyState.COMPLETED, "tok", now,
        now + timedelta(days=1), now, 201, '{"ok":true}', {"Location": f"/v1/x/{tid}"},
    )  # fmt: skip
    with backend.unit_of_work() as uow:
        uow.changes.extend(
            [Update(new, card.version), Insert(txn), Insert(event), ClaimIdempotency(record, None)]
        )
        uow.commit()
    return new


def _run_single(backend: Backend, seconds: float, n: int) -> tuple[float, list[float]]:
    card = _setup_card(backend, n)
    latencies: list[float] = []
    start = time.perf_counter()
    i = 0
    while time.perf_counter() - start < seconds:
        t = time.perf_counter()
        card = _purchase(backend, card, i, n)
        latencies.append(time.perf_counter() - t)
        i += 1
    return i / (time.perf_counter() - start), latencies


def _run_threads(backend: Backend, seconds: float, threads: int) -> float:
    cards = [_setup_card(backend, 100 + w) for w in range(threads)]
    counts = [0] * threads
    barrier = threading.Barrier(threads + 1)
    stop = threading.Event()

    def worker(w: int) -> None:
        card = cards[w]
        barrier.wait()
        i = 0
        while not stop.is_set():
            card = _purchase(backend, card, i, 100 + w)
            i += 1
        counts[w] = i

    pool = [threading.Thread(target=worker, args=(w,)) for w in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in pool:
        t.join()
    return sum(counts) / (time.perf_counter() - start)


def bench(name: str, seconds: float, threads: int) -> Result:
    engine = create_engine(name)
    engine.start()
    try:
        binding.prepare_store(engine.store())  # the reference app's tables
        store = engine.store(f"bench_{uuid.uuid4().hex[:8]}")
        backend = create_backend(binding.store_settings(store))
        try:
            _run_single(backend, min(0.5, seconds), 0)  # warm-up (pools, statement caches)
            single, latencies = _run_single(backend, seconds, 1)
            multi = _run_threads(backend, seconds, threads)
        finally:
            backend.close()
        cuts = statistics.quantiles(latencies, n=100)
        return Result(name, engine.info().version, single, multi,
                      statistics.median(latencies) * 1000, cuts[98] * 1000)  # fmt: skip
    finally:
        engine.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--engines", default="memory,sqlite,postgres@local")
    args = parser.parse_args(argv)

    results: list[Result] = []
    for name in args.engines.split(","):
        try:
            results.append(bench(name.strip(), args.seconds, args.threads))
        except EngineUnavailable as exc:
            print(f"skipped {name}: {exc.reason}", file=sys.stderr)
    header = (f"{'engine':<16} {'version':<12} {'commits/s 1 thread':>19} "
              f"{f'commits/s {args.threads} threads':>20} {'p50 ms':>8} {'p99 ms':>8}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r.engine:<16} {r.version.split()[0]:<12} {r.single:>19,.0f} {r.multi:>20,.0f} "
              f"{r.p50_ms:>8.3f} {r.p99_ms:>8.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
