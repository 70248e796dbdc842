"""The contract suite beside the tool a user would otherwise run: schemathesis alone.

Parity's contract suite (every operation, half positive and half negative cases, then the
schema's link-based state machine) on N backends, against schemathesis's own Python API
on the same app, the same schema and config, the same cases (same operations, counts,
modes and Hypothesis seeds) and schemathesis's own in-process ASGI transport, once per
backend. The schemathesis run's app is authenticated and seeded once (the binding's
``auth_headers`` and ``seed_contract``), where Parity does it in every operation's fresh
namespace: that per-namespace set-up is part of what Parity costs. Generation is paid
once per case in Parity however many backends replay it, so N backends should cost far
less than N schemathesis runs.

    python benchmarks/bench_contract.py [--examples 20] [--seed 1] [--backends memory,sqlite]

Each measurement times the run alone, engines already started (their start-up is the
same for both tools and is not what is compared). Ratios of wall and of CPU time.
"""

from __future__ import annotations

import argparse
import contextlib
import time
import warnings
import zlib
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.stateful import get_state_machine_test
from schemathesis import Case, GenerationMode
from schemathesis.core.result import Ok

from parity.config import load_config
from parity.contract.runner import ContractRunner
from parity.contract.schema import Contract, operation_id
from parity.contract.suite import contract_for, stateful_scenarios
from parity.run.backends import Backends, provision

#: steps per stateful scenario, as ``python -m parity.contract`` runs it
STATEFUL_STEPS = 10


@dataclass(frozen=True)
class Timing:
    """One run: its cases, wall seconds, and this process's CPU seconds (all threads).
    Why both: on a loaded machine wall time is mostly waiting for a core; with in-process
    backends the CPU time is the tool's own work and varies far less from run to run."""

    cases: int
    wall: float
    cpu: float


class _Clock:
    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self, cases: int) -> Timing:
        return Timing(cases, time.perf_counter() - self.wall, time.process_time() - self.cpu)


def parity_seconds(backends: Backends, names: list[str], examples: int, seed_: int) -> Timing:
    """Parity's contract suite on ``names`` (the reference first)."""
    config = load_config()
    assert backends.binding is not None
    runner = ContractRunner(
        contract_for(config, backends, "bench_schema"),
        {name: backends.factories[name] for name in names},
        backends.reference,
        binding=backends.binding,
        options=config.diff,
        examples=examples,
        seed=seed_,
        namespace_prefix="bench",
    )
    clock = _Clock()
    try:
        cases = sum(runner.run_operation(op).cases for op in runner.operations())
        cases += runner.run_stateful(stateful_scenarios(examples), STATEFUL_STEPS).cases
    finally:
        runner.close()
    return clock.stop(cases)


def _seed(base: int, *parts: str) -> int:
    """The contract runner's seeding (seed + CRC of the label), so the cases match."""
    return (base + zlib.crc32("|".join(parts).encode())) % (2**32)


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        verbosity=Verbosity.quiet,
        print_blob=False,
    )


def alone_seconds(backends: Backends, name: str, examples: int, seed_: int) -> Timing:
    """schemathesis alone on backend ``name``'s app, as a user runs it in-process
    (``case.call(app=...)`` then ``case.validate_response``)."""
    config = load_config()
    contract: Contract = contract_for(config, backends, "alone_schema")
    assert backends.binding is not None
    factory = backends.factories[name]
    target = factory.new_target("alone")
    app: Any = getattr(target, "app")  # noqa: B009 (an in-process target's app)

    def call(method: str, path: str, json: Any = None, headers: Any = None) -> Any:
        return target.request(method, path, headers, json)

    store = factory.store_of(target)
    auth = {role: backends.binding.auth_headers(call, store, role) for role in ("user", "admin")}
    # The state Parity gives each contract namespace, made once here as a user's fixture
    # would (Parity's substitution of the seeded ids into cases is its own, not copied).
    seed_contract = getattr(backends.binding, "seed_contract", None)
    if seed_contract is not None:
        seed_contract(call, store, auth)
    cases = 0

    def run_case(case: Case) -> Any:
        nonlocal cases
        cases += 1
        role = "admin" if operation_id(case.operation) in contract.admin_operations else "user"
        response = case.call(app=app, headers=auth[role])
        with contextlib.suppress(Exception):  # a failed check: timed, not reported here
            case.validate_response(response)
        return response

    def check_case(case: Case) -> None:
        run_case(case)

    schema = contract.schema
    clock = _Clock()
    try:
        for result in schema.get_all_operations():
            if not isinstance(result, Ok):
                continue  # unloadable (Parity refuses such a contract outright)
            operation = result.ok()
            positive = (examples + 1) // 2
            for mode, count in (
                (GenerationMode.POSITIVE, positive),
                (GenerationMode.NEGATIVE, examples - positive),
            ):
                if not count:
                    continue
                strategy = operation.as_strategy(generation_mode=mode)
                test = given(strategy)(check_case)
                test = seed(_seed(seed_, operation.label, mode.value))(test)
                with contextlib.suppress(Unsatisfiable):  # e.g. no negative case exists
                    _settings(count)(test)()

        class Machine(schema.as_state_machine()):  # type: ignore[misc]
            def call(self, case: Case, **kwargs: Any) -> Any:
                return run_case(case)

            def validate_response(self, response: Any, case: Case, *a: Any, **k: Any) -> None:
                return None  # run_case validated it

        machine_settings = settings(
            _settings(stateful_scenarios(examples)), stateful_step_count=STATEFUL_STEPS
        )
        test = get_state_machine_test(Machine, settings=machine_settings)
        seed(_seed(seed_, "stateful"))(test)()
    finally:
        timing = clock.stop(cases)
        factory.release(target)
    return timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", default="memory,sqlite")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    backends = provision(args.backends.split(","), load_config(), args.seed)
    names = list(backends.names)  # the reference first
    try:
        parity_seconds(backends, names, 2, args.seed)  # warm imports and schema caches
        p1 = parity_seconds(backends, names[:1], args.examples, args.seed)
        pn = parity_seconds(backends, names, args.examples, args.seed)
        alone = {n: alone_seconds(backends, n, args.examples, args.seed) for n in names}
    finally:
        backends.close()
    print(f"{'run':<34} {'cases':>6} {'wall s':>8} {'CPU s':>8}")
    runs = {f"parity on {names[0]}": p1, f"parity on {','.join(names)}": pn}
    runs.update({f"schemathesis alone on {n}": t for n, t in alone.items()})
    for label, t in runs.items():
        print(f"{label:<34} {t.cases:>6} {t.wall:>8.2f} {t.cpu:>8.2f}")
    n_wall, n_cpu = sum(t.wall for t in alone.values()), sum(t.cpu for t in alone.values())
    first = alone[names[0]]
    print(
        f"\nparity 1 backend / schemathesis alone: {p1.wall / first.wall:.2f}x wall, "
        f"{p1.cpu / first.cpu:.2f}x CPU"
    )
    print(
        f"parity {len(alone)} backends / {len(alone)} schemathesis runs: "
        f"{pn.wall / n_wall:.2f}x wall, {pn.cpu / n_cpu:.2f}x CPU"
    )


if __name__ == "__main__":
    main()
