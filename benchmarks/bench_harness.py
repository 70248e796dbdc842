"""Harness throughput: steps/second of the ledger scenario, and where the wall time goes
(inside backend calls vs the harness: Hypothesis, normalising, comparing, recording,
per-example app creation).

    python benchmarks/bench_harness.py [--examples 50] [--steps 30] [--seed 0]
        [--backends memory,sqlite]

In-process CPU-bound backends (memory, SQLite) are called one after another (threads
would only add GIL contention), so a step's unavoidable cost is the *sum* of their call
times; with an out-of-process backend the calls run concurrently and it is each step's
slowest call. "Backend calls" below means that unavoidable cost.
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import dataclass

from parity.config import load_config
from parity.lockstep.session import LockstepSession
from parity.run.backends import provision
from parity.run.scenario import hypothesis_run
from scenarios.ledger import LedgerScenario


@dataclass(frozen=True)
class HarnessResult:
    backends: tuple[str, ...]
    examples: int
    steps: int
    wall: float
    #: seconds inside backend calls a step cannot avoid (see the module docstring)
    inside: float
    isolation: float  # per-example set-up + teardown, seconds
    compare: float
    #: mean milliseconds per call, per backend
    call_ms: dict[str, float]

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.wall

    @property
    def examples_per_second(self) -> float:
        return self.examples / self.wall

    @property
    def harness_share(self) -> float:
        """Share of wall time outside backend calls."""
        return (self.wall - self.inside) / self.wall

    @property
    def step_vs_calls(self) -> float:
        """A step's cost (wall minus per-example isolation, per step) over its
        unavoidable backend calls: 1.0 means the harness adds nothing to a step."""
        return (self.wall - self.isolation) / max(self.inside, 1e-9)

    @property
    def isolation_ms(self) -> float:
        return self.isolation / max(self.examples, 1) * 1000


def measure(backends: list[str], examples: int, steps: int, seed: int = 0) -> HarnessResult:
    """Run the ledger scenario once on ``backends`` and account for its wall time."""
    warnings.simplefilter("ignore")
    provisioned = provision(backends, load_config(), seed)
    session = LockstepSession(provisioned.factories, provisioned.reference, seed=seed)
    try:
        started = time.perf_counter()
        error = hypothesis_run(LedgerScenario.bind(session), examples, steps, seed)
        wall = time.perf_counter() - started
        concurrent = any(not engine.in_process for engine in provisioned.engines.values())
    finally:
        session.close()
        provisioned.close()
    if error is not None:
        raise RuntimeError(f"the scenario failed, numbers would be meaningless: {error}")
    stats = session.stats
    inside = stats.critical_seconds if concurrent else sum(stats.backend_seconds.values())
    return HarnessResult(
        backends=tuple(provisioned.names),
        examples=stats.examples,
        steps=stats.steps,
        wall=wall,
        inside=inside,
        isolation=stats.setup_seconds + stats.teardown_seconds,
        compare=stats.compare_seconds,
        call_ms={b: s / max(stats.steps, 1) * 1000 for b, s in stats.backend_seconds.items()},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=50)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backends", default="memory,sqlite")
    args = parser.parse_args()
    r = measure(args.backends.split(","), args.examples, args.steps, args.seed)
    print(f"backends            {', '.join(r.backends)}")
    print(f"examples / steps    {r.examples} / {r.steps}")
    print(f"wall                {r.wall:.2f} s")
    print(f"steps per second    {r.steps_per_second:.1f}")
    print(f"inside backend calls {r.inside:.2f} s ({1 - r.harness_share:.0%} of wall)")
    print(f"harness overhead    {r.wall - r.inside:.2f} s ({r.harness_share:.0%} of wall)")
    print(f"  of which per-example isolation {r.isolation_ms:.1f} ms/example")
    print(f"  of which normalise+compare {r.compare:.2f} s")
    print(f"step cost / backend calls {r.step_vs_calls:.2f}x")
    print("mean call            " + ", ".join(f"{b} {ms:.2f} ms" for b, ms in r.call_ms.items()))


if __name__ == "__main__":
    main()
