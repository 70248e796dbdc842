"""The regression corpus: every trace in ``fixtures/regressions/`` is replayed by every
run against the run's backends and must not diverge (suite "regressions")."""

from __future__ import annotations

import time
from pathlib import Path

from parity.report.events import CellResult, ScenarioFinished, ScenarioStarted
from parity.run.context import RunContext
from parity.run.scenario import report_divergence
from parity.trace.model import TraceError
from parity.trace.replay import replay
from parity.trace.store import load_trace

SUITE = "regressions"


def corpus(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.json")) if directory.is_dir() else []


def run(ctx: RunContext) -> None:
    for path in corpus(ctx.config.regressions):
        name = path.stem
        ctx.emit(ScenarioStarted(SUITE, name, ctx.backends.names))
        started = time.perf_counter()
        cells: dict[str, CellResult]
        steps = 0
        try:
            trace = load_trace(path)
        except TraceError as exc:
            cells = {b: CellResult("error", str(exc)) for b in ctx.backends.names}
        else:
            session = ctx.session(ctx.backends.names, f"reg{abs(hash(name)) % 10_000}")
            try:
                result = replay(trace, session)
            finally:
                session.close()
            steps = len(result.trace.steps)
            cells = {b: CellResult("pass", examples=1, steps=steps) for b in ctx.backends.names}
            if result.diverged:
                result.trace.scenario = name
                cells.update(report_divergence(ctx, SUITE, name, result.trace))
        ctx.emit(ScenarioFinished(SUITE, name, cells, time.perf_counter() - started, 1, steps))
