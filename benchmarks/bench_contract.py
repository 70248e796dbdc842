"""Contract cases per second: one backend vs N backends in one run.

Generation (schemathesis + Hypothesis) is paid once per case however many backends
replay it, so N backends should cost far less than N times one backend. Prints
cases/s for each configuration and the ratio.

    .venv/bin/python benchmarks/bench_contract.py [--examples 30] [--seed 1]
"""

from __future__ import annotations

import argparse
import time

from parity.config import load_config
from parity.contract.runner import ContractRunner
from parity.contract.suite import contract_for
from parity.run.backends import provision

OPERATIONS = (
    "POST /v1/users",
    "POST /v1/cards/{card_id}/transactions",
    "GET /v1/cards",
    "PATCH /v1/cards/{card_id}",
)


def measure(names: list[str], examples: int, seed: int) -> tuple[int, float, dict[str, float]]:
    config = load_config()
    backends = provision(names, config, seed)
    assert backends.binding is not None
    runner = ContractRunner(
        contract_for(config, backends, "bench_schema"),
        backends.factories,
        backends.reference,
        binding=backends.binding,
        options=config.diff,
        examples=examples,
        seed=seed,
        namespace_prefix="bench",
    )
    cases, inside = 0, dict.fromkeys(names, 0.0)
    started = time.perf_counter()
    try:
        for op in runner.operations():
            if op.label in OPERATIONS:
                result = runner.run_operation(op)
                cases += result.cases
                for name, seconds in result.backend_seconds.items():
                    inside[name] += seconds
        stateful = runner.run_stateful(max(2, examples // 5), 10)
        cases += stateful.cases
    finally:
        runner.close()
        backends.close()
    return cases, time.perf_counter() - started, inside


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    measure(["memory"], 2, args.seed)  # warm imports and schema caches
    rows = []
    for names in (["memory"], ["memory", "sqlite"]):
        cases, seconds, inside = measure(names, args.examples, args.seed)
        rows.append((names, cases, seconds, inside))
    one = rows[0][1] / rows[0][2]
    print(f"{'backends':<18} {'cases':>6} {'seconds':>8} {'cases/s':>8}  inside backends (s)")
    for names, cases, seconds, inside in rows:
        rate = cases / seconds
        detail = ", ".join(f"{n}={s:.2f}" for n, s in inside.items())
        print(f"{','.join(names):<18} {cases:>6} {seconds:>8.2f} {rate:>8.1f}  {detail}")
    two = rows[1][1] / rows[1][2]
    print(
        f"\nN=2 backends run at {two / one:.2f}x the case rate of 1 backend "
        f"(1.00 = replay is free; 0.50 = nothing shared)"
    )


if __name__ == "__main__":
    main()
