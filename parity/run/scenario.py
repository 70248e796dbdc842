"""Run one lockstep scenario under Hypothesis and turn the outcome into events.

A divergence on backend X fails X's cell; the scenario then runs again without X, so
every other backend still gets a verdict of its own (not "unknown because X failed").
Backends lacking a capability the scenario requires are "unsupported", never run.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis import seed as hypothesis_seed
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Flaky
from hypothesis.stateful import get_state_machine_test

from parity.interrupts import raise_if_interrupted
from parity.lockstep.coverage import merge as merge_coverage
from parity.lockstep.divergence import find_backend_down
from parity.lockstep.machine import LockstepMachine
from parity.lockstep.session import LockstepSession
from parity.report.events import CellResult, DivergenceFound, ScenarioFinished, ScenarioStarted
from parity.run.backends import InfraError
from parity.run.context import RunContext
from parity.trace.minimize import minimize, replay_hint
from parity.trace.model import Trace
from parity.trace.store import save_failure


def hypothesis_run(
    machine: type[LockstepMachine], examples: int, steps: int, seed: int, shrink: bool = True
) -> BaseException | None:
    """Run the machine as a Hypothesis test; the exception it ends with, if any.
    ``shrink=False`` (``--shrink-examples 0``): the first failing example is the answer."""
    config = hypothesis_settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        derandomize=False,
        print_blob=False,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        # no explain phase: it re-runs the shrunk example with each part varied, only to
        # print "can vary freely" comments a quiet run never shows (a found divergence
        # cost twice its shrinking in lockstep examples)
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
        + ([Phase.shrink] if shrink else []),
    )
    test = hypothesis_seed(seed)(get_state_machine_test(machine, settings=config))
    try:
        test()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        raise_if_interrupted()
        return exc
    raise_if_interrupted()
    return None


def found_trace(session: LockstepSession, error: BaseException | None) -> Trace | None:
    """The trace of what a Hypothesis run found: its final (shrunk) example, or, when
    Hypothesis could not replay the failing example (the backend failed once, under a
    race or a timeout, and not again), the shortest divergence the session saw: still
    the bug, on the backend that differed, never an error of the reference."""
    final = session.final.trace if session.final else None
    if (final is None or final.divergent_step is None) and _unreplayable(error):
        final = session.diverged
    return final


def divergence_id(scenario: str, trace: Trace) -> str:
    """Stable across shards and machines, so merged reports count a divergence once."""
    sig = trace.divergence_signature()
    step = trace.divergent_step
    text = f"{scenario}|{sig}|{step.request.line() if step else ''}"
    return f"div-{scenario}-{hashlib.sha1(text.encode()).hexdigest()[:10]}"


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


@dataclass
class _Tally:
    examples: int = 0
    steps: int = 0
    setup: float = 0.0
    critical: float = 0.0
    compare: float = 0.0
    backend_seconds: dict[str, float] = field(default_factory=dict)
    coverage: dict[str, Any] = field(default_factory=dict)

    def add(self, session: LockstepSession) -> None:
        s = session.stats
        self.examples += s.examples
        self.steps += s.steps
        self.setup += s.setup_seconds + s.teardown_seconds
        self.critical += s.critical_seconds
        self.compare += s.compare_seconds
        for name, seconds in s.backend_seconds.items():
            self.backend_seconds[name] = self.backend_seconds.get(name, 0.0) + seconds
        self.coverage = merge_coverage(self.coverage, session.coverage.to_dict())


def report_divergence(
    ctx: RunContext, suite: str, scenario: str, trace: Trace
) -> dict[str, CellResult]:
    """Save the trace, judge it against the baseline, emit it; the failed cells."""
    step = trace.divergent_step
    assert step is not None
    path = save_failure(trace, ctx.report_dir)
    div_id = divergence_id(scenario, trace)
    diff = "\n\n".join(step.rendered[b] for b in sorted(step.differences))
    paths = {b: [d.path for d in ds] for b, ds in step.differences.items()}
    cells: dict[str, CellResult] = {}
    known_ids: list[str] = []
    expired_ids: list[str] = []
    for backend in sorted(step.differences):
        verdict = ctx.baseline.judge(scenario, backend, paths[backend], step.rendered[backend])
        if verdict.known:
            known_ids.append(verdict.known)
            cells[backend] = CellResult("known", f"baseline {verdict.known}", divergence=div_id)
        else:
            reason = f"divergence at step {step.index}: {step.request.line()}"
            if verdict.expired:
                expired_ids.append(verdict.expired)
                reason += f" (baseline {verdict.expired} expired)"
            cells[backend] = CellResult("fail", reason, divergence=div_id)
    all_known = len(known_ids) == len(step.differences)
    ctx.emit(
        DivergenceFound(
            id=div_id,
            suite=suite,
            scenario=scenario,
            backends=sorted(step.differences),
            step=step.index,
            steps=len(trace.steps),
            request=step.request.line(),
            diff=diff,
            trace_path=str(path),
            replay=replay_hint(ctx.replay_command(path, trace.backends), trace),
            known=known_ids[0] if all_known else None,
            expired=expired_ids[0] if expired_ids else None,
            paths=paths,
        )
    )
    return cells


def refuse_unresettable(ctx: RunContext, scenario: str) -> None:
    """A server Parity cannot reset between examples would let one example see the
    last one's data: Hypothesis then cannot replay or shrink (it reports a "flaky"
    error on every backend). Say so in one line instead."""
    for name, factory in ctx.backends.factories.items():
        if getattr(factory, "isolates", True) is False:
            raise InfraError(
                f"{name} is a URL backend without a reset between examples, so the "
                f'stateful scenario {scenario!r} cannot run on it: add reset = "POST /path" '
                f"to [tool.parity.urls] {name} (a route that empties the server)"
            )


def run_scenario(
    ctx: RunContext, machine: type[LockstepMachine], suite: str = "scenarios"
) -> dict[str, CellResult]:
    name = machine.scenario_name()
    refuse_unresettable(ctx, name)
    started = time.perf_counter()
    cells: dict[str, CellResult] = {}
    binding = ctx.backends.binding
    missing_controls = sorted(machine.controls - binding.controls) if binding else []
    for backend in ctx.backends.names:
        if missing_controls and backend in ctx.backends.engines:
            cells[backend] = CellResult(
                "unsupported",
                f"needs control seam(s) {', '.join(missing_controls)} the app binding "
                "does not offer (AppBinding.controls)",
            )
            continue
        lacking = sorted(machine.requires & set(ctx.backends.info[backend].get("unsupported", {})))
        if lacking:
            why = ctx.backends.info[backend]["unsupported"][lacking[0]]
            cells[backend] = CellResult("unsupported", f"needs {', '.join(lacking)}: {why}")
    remaining = [b for b in ctx.backends.names if b not in cells]
    ctx.emit(ScenarioStarted(suite, name, list(ctx.backends.names)))
    tally = _Tally()
    examples = ctx.shard.examples(ctx.examples_for(name))
    # --shrink-examples 0: a verdict only (`parity mutate`), no shrinking, no minimizer
    shrink = ctx.shrink_examples != 0
    attempt = 0
    while remaining:
        attempt += 1
        session = ctx.session(remaining, f"{name}{attempt}")
        try:
            error = hypothesis_run(
                machine.bind(session), examples, ctx.steps, ctx.shard.seed(ctx.seed), shrink
            )
            final = found_trace(session, error)
            if final is not None and session.down is None and shrink:
                final = minimize(final, session)  # calls Hypothesis's shrink left in
        finally:
            session.close()
            tally.add(session)
        # The session remembers a dead store even when Hypothesis reports something else
        # (its replays fail at once, which it may call flaky): exit 2, never a verdict.
        down = session.down or find_backend_down(error)
        if down is not None:
            raise InfraError(str(down)) from error
        if error is None:
            for backend in remaining:
                cells[backend] = CellResult("pass")
            break
        if final is not None and final.divergent_step is not None:
            failed = report_divergence(ctx, suite, name, final)
            cells.update(failed)
            remaining = [b for b in remaining if b not in failed]
            if ctx.fail_fast is not None:  # the other backends' verdicts wait for a full run
                skipped = CellResult("skipped", f"not run: --fail-fast stopped at {name}")
                cells.update({b: skipped for b in remaining if b != ctx.reference})
                remaining = [ctx.reference]
            if remaining == [ctx.reference] or len(remaining) < 2:
                cells.setdefault(ctx.reference, CellResult("pass"))
                break
            continue
        # The scenario itself failed (its model disagrees with the reference, or the
        # harness broke): every backend still running gets the error, reference included.
        for backend in remaining:
            cells[backend] = CellResult("error", first_line(error))
        break
    stats: dict[str, Any] = {
        "setup_seconds": round(tally.setup, 4),
        "critical_seconds": round(tally.critical, 4),
        "compare_seconds": round(tally.compare, 4),
        "backend_seconds": {b: round(s, 4) for b, s in tally.backend_seconds.items()},
        "coverage": tally.coverage,
    }
    ordered = {b: _with_work(cells[b], tally, b) for b in ctx.backends.names if b in cells}
    ctx.emit(
        ScenarioFinished(
            suite, name, ordered, time.perf_counter() - started, tally.examples, tally.steps, stats
        )
    )
    return ordered


def _unreplayable(error: BaseException | None) -> bool:
    """Hypothesis's "flaky" verdicts: a failure it saw but could not reproduce
    (``FlakyFailure``), or a replay that drew different data (``FlakyStrategyDefinition``)."""
    if isinstance(error, Flaky):
        return True
    if isinstance(error, BaseExceptionGroup):
        return any(_unreplayable(inner) for inner in error.exceptions)
    return False


def _with_work(cell: CellResult, tally: _Tally, backend: str) -> CellResult:
    if cell.status in ("unsupported", "skipped"):
        return cell
    return CellResult(
        cell.status,
        cell.reason,
        tally.examples,
        tally.steps,
        tally.backend_seconds.get(backend, 0.0),
        cell.divergence,
    )
