"""Harness throughput: steps/second of the ledger scenario on memory+sqlite, and where
the wall time goes (inside backend calls vs the harness: Hypothesis, normalising,
comparing, recording, per-example app creation).

    .venv/bin/python benchmarks/bench_harness.py [--examples 50] [--steps 30] [--seed 0]

In-process CPU-bound backends (memory, SQLite) are called one after another (threads
would only add GIL contention), so "inside backend calls" is the sum of both backends'
call times; with I/O-bound backends it is each step's slowest call.
"""

from __future__ import annotations

import argparse
import time
import warnings

from parity.config import load_config
from parity.lockstep.session import LockstepSession
from parity.run.backends import provision
from parity.run.scenario import hypothesis_run
from scenarios.ledger import LedgerScenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=50)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backends", default="memory,sqlite")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    config = load_config()
    backends = provision(args.backends.split(","), config, args.seed)
    session = LockstepSession(backends.factories, backends.reference, seed=args.seed)
    try:
        started = time.perf_counter()
        error = hypothesis_run(LedgerScenario.bind(session), args.examples, args.steps, args.seed)
        wall = time.perf_counter() - started
    finally:
        session.close()
        backends.close()
    if error is not None:
        raise SystemExit(f"the scenario failed, numbers would be meaningless: {error}")
    stats = session.stats
    concurrent = any(not engine.in_process for engine in backends.engines.values())
    inside = stats.critical_seconds if concurrent else sum(stats.backend_seconds.values())
    per_call = {b: s / max(stats.steps, 1) * 1000 for b, s in stats.backend_seconds.items()}
    print(f"backends            {', '.join(backends.names)}")
    print(f"examples / steps    {stats.examples} / {stats.steps}")
    print(f"wall                {wall:.2f} s")
    print(f"steps per second    {stats.steps / wall:.1f}")
    print(f"inside backend calls {inside:.2f} s ({inside / wall:.0%} of wall)")
    print(f"harness overhead    {wall - inside:.2f} s ({(wall - inside) / wall:.0%} of wall)")
    print(
        f"  of which per-example isolation (fresh namespace + app per backend) "
        f"{(stats.setup_seconds + stats.teardown_seconds) / max(stats.examples, 1) * 1000:.1f}"
        " ms/example"
    )
    print(f"  of which normalise+compare {stats.compare_seconds:.2f} s")
    print("mean call            " + ", ".join(f"{b} {ms:.2f} ms" for b, ms in per_call.items()))


if __name__ == "__main__":
    main()
