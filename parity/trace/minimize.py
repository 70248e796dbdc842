"""Delete the calls a shrunk trace does not need, checked by replaying it.

Hypothesis shrinks the *choices* of a scenario, within a time limit of its own (five
minutes): on a loaded machine, where every example is slow, it can stop at a trace with
calls left in that play no part in the bug. And it can only drop a whole rule, so a
rule's bookkeeping reads (a listing the scenario's model needed) stay in the trace
even when the divergence does not depend on them.

Here each call before the diverging one is left out in turn (last first) and the rest
replayed on fresh namespaces; if the replay still diverges the same way (the same
backends, at the same kind of request, in the original's fields) the call stays out.
What is saved is then the replay's own trace: every remaining answer was really given,
and ``parity replay`` reproduces it exactly. Traces with held requests (forced interleavings) or
judged steps are left as they are: their calls depend on each other in ways a replay of
a subset cannot keep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from parity.lockstep.driver import JUDGED
from parity.lockstep.interleave import RELEASE, TAG_HEADER
from parity.lockstep.session import LockstepSession
from parity.trace.model import Trace
from parity.trace.replay import replay

#: how many replays one trace may cost (a 15-call trace needs at most 14 per pass)
MAX_REPLAYS = 40
_PLACEHOLDER = re.compile(r"<([a-z_]+):\d+>")
_INDEX = re.compile(r"\[\d+\]")
_PAUSE_PREFIX = RELEASE.rsplit("/", 1)[0]


def minimizable(trace: Trace) -> bool:
    """A trace whose calls can be replayed in any subset: no held or judged step."""
    for step in trace.steps:
        request = step.request
        if request.method == JUDGED or TAG_HEADER in request.headers:
            return False
        if request.path.startswith(_PAUSE_PREFIX):
            return False
    return trace.divergent_step is not None


@dataclass(frozen=True)
class DivergenceShape:
    """Where a trace diverges, as far as leaving calls out may keep it: the request's
    method and route, and per differing backend the fields that differ. List positions
    and the numbers of ids and cursors are left out: one call fewer shifts both (a
    listing one row shorter, ids numbered by first appearance)."""

    method: str
    route: str
    fields: dict[str, frozenset[str]]

    @classmethod
    def of(cls, trace: Trace) -> DivergenceShape | None:
        step = trace.divergent_step
        if step is None:
            return None
        fields = {
            b: frozenset(_INDEX.sub("", d.path) for d in ds) for b, ds in step.differences.items()
        }
        return cls(step.request.method, _PLACEHOLDER.sub(r"<\1>", step.request.path), fields)

    def part_of(self, original: DivergenceShape) -> bool:
        """The same divergence, or part of it: the same request and backends, differing
        in some of the original's fields and in no other (a call fewer may leave one of
        two wrong fields right, never make a new one wrong)."""
        return (
            (self.method, self.route) == (original.method, original.route)
            and self.fields.keys() == original.fields.keys()
            and all(self.fields[b] <= original.fields[b] for b in self.fields)
        )


def minimize(trace: Trace, session: LockstepSession, max_replays: int = MAX_REPLAYS) -> Trace:
    """The shortest trace found by leaving calls out of ``trace`` (``trace`` itself when
    no call can go, or it cannot be minimized)."""
    if not minimizable(trace):
        return trace
    examples = session.stats.examples
    try:
        return _leave_out_calls(trace, session, max_replays)
    finally:
        session.stats.examples = examples  # replays are not examples of the run


def _leave_out_calls(trace: Trace, session: LockstepSession, max_replays: int) -> Trace:
    shape = DivergenceShape.of(trace)
    divergent = trace.divergent_step
    assert divergent is not None and shape is not None
    best = _with_steps(trace, trace.steps[: divergent.index + 1])
    replays = 0
    changed = True
    while changed and replays < max_replays:
        changed = False
        for index in range(len(best.steps) - 2, -1, -1):
            if index > len(best.steps) - 2:
                continue  # a replay diverged earlier and cut the trace short
            if replays >= max_replays or session.down is not None:
                return best
            replays += 1
            candidate = _with_steps(best, best.steps[:index] + best.steps[index + 1 :])
            try:
                result = replay(candidate, session)
            except Exception:  # a store gone, a subset the app refuses: keep what we have
                return best
            found = DivergenceShape.of(result.trace)
            if found is not None and found.part_of(shape):
                best = _with_steps(trace, result.trace.steps)
                changed = True
    return best


def _with_steps(trace: Trace, steps: list[Any]) -> Trace:
    return Trace(
        scenario=trace.scenario,
        reference=trace.reference,
        backends=list(trace.backends),
        seed=trace.seed,
        app=dict(trace.app),
        store_seed=trace.store_seed,
        engines=dict(trace.engines),
        versions=dict(trace.versions),
        steps=list(steps),
        created_at=trace.created_at,
        contract=trace.contract,
    )
