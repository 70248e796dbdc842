"""The regression corpus: every trace in ``fixtures/regressions/`` is replayed by every
run against the run's backends and must not diverge (suite "regressions")."""

from __future__ import annotations

import time
from pathlib import Path

from parity.report.events import CellResult, ScenarioFinished, ScenarioStarted
from parity.run.context import RunContext
from parity.run.scenario import report_divergence
from parity.suites.registry import discover_scenarios
from parity.trace.model import TraceError
from parity.trace.replay import replay
from parity.trace.store import load_trace

SUITE = "regressions"


def corpus(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.json")) if directory.is_dir() else []


def requirements(ctx: RunContext, scenario: str) -> frozenset[str]:
    """What the trace's scenario needs from an engine; for a scenario no longer
    registered, what any registered scenario needs (the trace came from the same app)."""
    machines = discover_scenarios(ctx.config.scenarios)
    machine = machines.get(scenario) or next(
        (m for m in machines.values() if m.__name__ == scenario), None
    )
    if machine is not None:
        return machine.requires
    return frozenset().union(*(m.requires for m in machines.values()))


def unsupported_cells(ctx: RunContext, needs: frozenset[str]) -> dict[str, CellResult]:
    """Backends whose engine lacks a capability in ``needs`` (never the reference)."""
    cells = {}
    for backend in ctx.backends.names:
        missing = ctx.backends.info[backend].get("unsupported", {})
        lacking = sorted(needs & set(missing))
        if lacking and backend != ctx.reference:
            cells[backend] = CellResult(
                "unsupported", f"needs {', '.join(lacking)}: {missing[lacking[0]]}"
            )
    return cells


def run(ctx: RunContext) -> None:
    for path in ctx.shard.take(corpus(ctx.config.regressions)):
        name = path.stem
        if ctx.skipped(SUITE, name):
            continue
        ctx.emit(ScenarioStarted(SUITE, name, ctx.backends.names))
        started = time.perf_counter()
        cells: dict[str, CellResult]
        steps = 0
        try:
            trace = load_trace(path)
        except TraceError as exc:
            cells = {b: CellResult("error", str(exc)) for b in ctx.backends.names}
        else:
            cells = unsupported_cells(ctx, requirements(ctx, trace.scenario))
            runnable = [b for b in ctx.backends.names if b not in cells]
            session = ctx.session(runnable, f"reg{abs(hash(name)) % 10_000}")
            try:
                result = replay(trace, session)
            finally:
                session.close()
            steps = len(result.trace.steps)
            cells.update({b: CellResult("pass", examples=1, steps=steps) for b in runnable})
            if result.diverged:
                result.trace.scenario = name
                cells.update(report_divergence(ctx, SUITE, name, result.trace))
        ctx.emit(ScenarioFinished(SUITE, name, cells, time.perf_counter() - started, 1, steps))
