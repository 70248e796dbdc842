"""DynamoDB engines side by side: ms per DynamoDB step in a parity run, and commits/s.

Two measures per engine, in one run, each printed with its ratio to the first engine
(``dynamodb@moto-server`` by default: absolute times are noise on a shared 2-core machine):

- **ms per DynamoDB step**: a scenario (``ledger`` by default) run by Parity in lockstep on
  ``memory`` + the engine, ``--examples`` examples of ``--steps`` steps; the engine's mean
  time per step (all of the app's DynamoDB calls for that request, through the app) beside
  memory's. This is the number issue 16's target (<= 8 ms per DynamoDB step) speaks of.
- **commits/s**: a purchase-shaped change set, one ``TransactWriteItems`` of 7 items
  (Update card with a version condition + Insert transaction + Insert event with sequence
  guard, feed and pending pointers + ClaimIdempotency) preceded by the consistent
  ``GetItem`` of the card the service does: the unit of work of one ``POST
  /v1/cards/{id}/transactions``. Sequential (one client thread) and with 4 threads on 4
  different cards (no contention), each for ``--seconds``.

Run: ``python benchmarks/bench_dynamodb.py [--seconds 5] [--examples 10] [--steps 15]
[--engines dynamodb@moto-server,dynamodb@local,dynamodb@ministack]``. Engines are started
and stopped by the script; one that is unavailable here is listed with its reason.
Not a timed test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import importlib
import threading
import time
import uuid
import warnings
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from parity import LockstepMachine
from parity.config import load_config
from parity.engines.base import EngineUnavailable
from parity.engines.dynamodb import DynamoDbEngine
from parity.engines.registry import create_engine
from parity.lockstep.session import LockstepSession
from parity.run.backends import InfraError, provision
from parity.run.scenario import hypothesis_run
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
from scenarios.binding import binding

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_ENGINES = "dynamodb@moto-server,dynamodb@local,dynamodb@ministack"


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


def commits_per_second(backend: DynamoDbBackend, threads: int, seconds: float) -> float:
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


def commits(name: str, seconds: float, warmup: float) -> tuple[str, float, float]:
    """(version, commits/s with 1 thread, with 4 threads) on a fresh start of ``name``,
    after ``warmup`` seconds of commits (connections, tables, and a JVM's JIT: DynamoDB
    Local's first commits are several times slower than its later ones)."""
    engine = create_engine(name)
    assert isinstance(engine, DynamoDbEngine)
    engine.start()
    try:
        binding.prepare_store(engine.store())
        backend = DynamoDbBackend(binding.store_settings(engine.store(f"b{uuid.uuid4().hex[:6]}")))
        commits_per_second(backend, 1, warmup)
        one = commits_per_second(backend, 1, seconds)
        four = commits_per_second(backend, 4, seconds)
        return engine.info().version, one, four
    finally:
        engine.stop()


def scenario_class(name: str) -> type[LockstepMachine]:
    """The scenario machine of ``scenarios/<name>.py``."""
    module = importlib.import_module(f"scenarios.{name}")
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, LockstepMachine)
            and value.__module__ == module.__name__
        ):
            return value
    raise SystemExit(f"no scenario machine in scenarios/{name}.py")


def step_cost(name: str, scenario: str, examples: int, steps: int, seed: int) -> dict[str, float]:
    """ms per step of ``name`` and of memory, and steps/s, in a lockstep run of
    ``scenario`` (a fresh engine start; the first example warms it up and is counted)."""
    config = load_config()
    backends = provision(["memory", name], config, seed)
    session = LockstepSession(
        backends.factories, backends.reference, engines=backends.info, seed=seed
    )
    try:
        started = time.perf_counter()
        error = hypothesis_run(scenario_class(scenario).bind(session), examples, steps, seed)
        wall = time.perf_counter() - started
    finally:
        session.close()
        backends.close()
    stats = session.stats
    per_step = {b: s / max(stats.steps, 1) * 1000 for b, s in stats.backend_seconds.items()}
    return {
        "engine_ms": per_step.get(name, float("nan")),
        "memory_ms": per_step.get("memory", float("nan")),
        "steps_per_s": stats.steps / wall,
        "steps": float(stats.steps),
        "error": float(error is not None),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default=DEFAULT_ENGINES)
    parser.add_argument("--seconds", type=float, default=5.0, help="per commits/s measure")
    parser.add_argument("--warmup", type=float, default=3.0, help="commits before measuring")
    parser.add_argument("--scenario", default="ledger")
    parser.add_argument("--examples", type=int, default=10)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-steps", action="store_true", help="commits/s only")
    parser.add_argument("--skip-commits", action="store_true", help="ms per step only")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows: list[dict[str, object]] = []
    for name in args.engines.split(","):
        row: dict[str, object] = {"engine": name}
        try:
            if not args.skip_steps:
                row.update(step_cost(name, args.scenario, args.examples, args.steps, args.seed))
            if not args.skip_commits:
                row["version"], row["one"], row["four"] = commits(name, args.seconds, args.warmup)
        except (EngineUnavailable, InfraError) as exc:
            row["unavailable"] = str(exc)
        rows.append(row)
        print(f"  measured {name}", flush=True)

    base = next((r for r in rows if "unavailable" not in r), None)

    def ratio(row: dict[str, object], key: str) -> str:
        if base is None or key not in row or key not in base:
            return ""
        return f"{float(row[key]) / float(base[key]):.2f}x"  # type: ignore[arg-type]

    print()
    if not args.skip_steps:
        print(
            f"ms per DynamoDB step: scenario {args.scenario}, {args.examples} examples x "
            f"{args.steps} steps, seed {args.seed}; ratio to {base['engine'] if base else '-'}"
        )
        print(
            f"{'engine':22} {'ms/step':>8} {'ratio':>7} {'memory':>8} {'steps/s':>8} {'ratio':>7}"
        )
        for row in rows:
            if "unavailable" in row:
                print(f"{row['engine']:22} unavailable: {row['unavailable']}")
                continue
            flag = "  (scenario ended with an error)" if row.get("error") else ""
            print(
                f"{row['engine']:22} {row['engine_ms']:8.2f} {ratio(row, 'engine_ms'):>7} "
                f"{row['memory_ms']:8.2f} {row['steps_per_s']:8.1f} "
                f"{ratio(row, 'steps_per_s'):>7}{flag}"
            )
        print()
    if not args.skip_commits:
        print(f"commits/s (7-item TransactWriteItems + GetItem), {args.seconds:g} s each")
        print(
            f"{'engine':22} {'version':28} {'1 thread':>9} {'ratio':>7} "
            f"{'4 threads':>9} {'ratio':>7}"
        )
        for row in rows:
            if "unavailable" in row:
                print(f"{row['engine']:22} unavailable: {row['unavailable']}")
                continue
            print(
                f"{row['engine']:22} {row['version']!s:28} {row['one']:9.1f} "
                f"{ratio(row, 'one'):>7} {row['four']:9.1f} {ratio(row, 'four'):>7}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
