"""Run the scenarios against memory (reference) vs each planted fault and print a table:
fault, caught?, shrunk steps, and whether the saved trace replays to the same divergence.
Exit 0 only if every fault is caught, shrunk to at most ``MAX_STEPS`` calls and replays."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from parity.config import ParityConfig
from parity.lockstep.session import LockstepSession
from parity.run.backends import InfraError, load_faults, provision
from parity.run.orchestrator import RunOptions, execute
from parity.selftest.registry import FAULTS
from parity.trace.replay import replay
from parity.trace.store import load_trace

MAX_STEPS = 8


@dataclass
class FaultResult:
    fault: str
    description: str
    caught: bool
    steps: int | None
    replays: bool
    trace: str | None

    @property
    def ok(self) -> bool:
        return self.caught and self.steps is not None and self.steps <= MAX_STEPS and self.replays


def replays_to_same(trace_path: Path, config: ParityConfig) -> bool:
    """Replay a saved trace on its own backends: does it diverge the same way?"""
    trace = load_trace(trace_path)
    from parity.ports.replay import is_port_trace, replay_port

    if is_port_trace(trace):
        return replay_port(trace, config).same_divergence_as(trace)
    backends = provision(
        trace.backends, config.with_overrides(reference=trace.reference), trace.replay_seed
    )
    try:
        session = LockstepSession(
            backends.factories,
            backends.reference,
            namespace_prefix="selftest_replay",
            options=trace.diff_options() or backends.diff,
        )
        try:
            return replay(trace, session).same_divergence_as(trace)
        finally:
            session.close()
    finally:
        backends.close()


def check_fault(
    fault: str, config: ParityConfig, examples: int, seed: int, report_dir: Path, steps: int = 15
) -> FaultResult:
    load_faults(config)
    engine = FAULTS[fault]
    outcome = execute(
        RunOptions(
            backends=[config.reference, engine.engine_name],
            suite="ports" if engine.implementation is not None else "scenarios",
            examples=examples,
            steps=steps,
            seed=seed,
            report_dir=report_dir / fault,
            regressions=False,
            terminal=False,
            scenarios=list(engine.scenarios) or None,
        ),
        config,
    )
    found = [d for d in outcome.report.divergences if engine.engine_name in d["backends"]]
    if not found:
        return FaultResult(fault, engine.description, False, None, False, None)
    div = found[0]
    trace = div["trace"]
    return FaultResult(
        fault,
        engine.description,
        True,
        int(div["steps"]),
        replays_to_same(Path(trace), config) if trace else False,
        trace,
    )


def _verdict(result: FaultResult) -> str:
    if not result.caught:
        return "NOT caught"
    replays = "replays" if result.replays else "does NOT replay"
    return f"caught, shrunk to {result.steps} calls, {replays}"


def run_selftest(
    config: ParityConfig,
    examples: int = 200,
    seed: int = 0,
    report_dir: Path | None = None,
    faults: list[str] | None = None,
    console: Console | None = None,
    steps: int = 15,
) -> int:
    load_faults(config)
    if not FAULTS:
        raise InfraError(
            "no planted faults: set [tool.parity] selftest = 'package.module' to a module "
            "that registers them with parity.register_fault"
        )
    names = faults or sorted(FAULTS, key=lambda f: not FAULTS[f].core)
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise InfraError(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(FAULTS)}")
    report_dir = report_dir or config.report_dir / "selftest"
    config = config.with_overrides(reference="memory", regressions=Path("/nonexistent"))
    console = console or Console(highlight=False, width=160)
    results = []
    for n, name in enumerate(names, start=1):
        # one plain line per fault as it ends: a piped or CI run is never silent for the
        # minutes a fault's examples and shrinking take
        started = time.monotonic()
        result = check_fault(name, config, examples, seed, report_dir, steps)
        results.append(result)
        console.print(
            f"[{n}/{len(names)}] {name}: {_verdict(result)} ({time.monotonic() - started:.0f} s)",
            markup=False,
            soft_wrap=True,
        )
    table = Table(title=f"parity selftest (memory vs planted faults, ≤{MAX_STEPS} steps)")
    for column in ("fault", "planted bug", "caught?", "shrunk steps", "replays?", "trace"):
        table.add_column(column)
    for r in results:
        table.add_row(
            r.fault,
            r.description,
            "yes" if r.caught else "[bold red]NO[/]",
            str(r.steps) if r.steps is not None else "-",
            "yes" if r.replays else "[bold red]no[/]",
            r.trace or "-",
        )
    console.print(table)
    caught = sum(r.ok for r in results)
    console.print(f"{caught}/{len(results)} planted faults caught, shrunk and replayed")
    lengths = [r.steps for r in results if r.steps is not None]
    if lengths:
        console.print(f"shrunk lengths: median {statistics.median(lengths):g} calls")
    return 0 if caught == len(results) else 1
