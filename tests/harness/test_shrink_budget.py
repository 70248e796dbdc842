"""``shrink_examples``: how many examples Hypothesis may spend shrinking a divergence.

Once spent, every further candidate is rejected unrun, Hypothesis's final run replays the
shortest failing example it has, and the replay minimizer leaves out what that still
carries. The divergence found is the same, for a fraction of the examples."""

from __future__ import annotations

from pathlib import Path

from parity.config import load_config
from parity.lockstep.session import LockstepSession
from parity.run.backends import provision
from parity.run.scenario import found_trace, hypothesis_run
from parity.suites.registry import discover_scenarios
from parity.trace.minimize import minimize

ROOT = Path(__file__).resolve().parents[2]


def _shrink(budget: int | None) -> tuple[int, int, list[str]]:
    """(examples before the divergence, examples after it, the minimized trace's calls)
    of the ledger scenario on a backend answering 200 where it should say 201."""
    backends = provision(["memory", "fault:wrong-status"], load_config(start=ROOT), 1)
    try:
        session = LockstepSession(
            backends.factories,
            backends.reference,
            namespace_prefix=f"budget_{budget}",
            seed=1,
            shrink_examples=budget,
        )
        try:
            machine = discover_scenarios()["ledger"].bind(session)
            error = hypothesis_run(machine, 30, 8, 1)
            final = found_trace(session, error)
            assert error is not None and final is not None and final.divergent_step is not None
            found = session.first_divergence
            assert found is not None
            after = session.stats.examples - found
            shortest = minimize(final, session)
        finally:
            session.close()
    finally:
        backends.close()
    assert shortest.replays is True
    return found, after, [step.request.line() for step in shortest.steps]


def test_a_spent_budget_ends_shrinking_with_the_same_divergence() -> None:
    found, after, calls = _shrink(3)
    assert after <= 3 + 1, after  # the budget, then Hypothesis's final run
    unbounded_found, unbounded_after, unbounded_calls = _shrink(None)
    assert unbounded_found == found  # the same search up to the divergence
    assert unbounded_after > after
    # the same request diverges, shrunk or not
    assert calls[-1].split()[0] == unbounded_calls[-1].split()[0] == "POST"
    assert len(calls) <= len(unbounded_calls) + 2, (calls, unbounded_calls)
