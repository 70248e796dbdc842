"""Delete the calls a shrunk trace does not need, checked by replaying it.

Hypothesis shrinks the *choices* of a scenario, within a time limit of its own (five
minutes): on a loaded machine, where every example is slow, it can stop at a trace with
calls left in that play no part in the bug. And it can only drop a whole rule, so a
rule's bookkeeping reads (a listing the scenario's model needed) stay in the trace
even when the divergence does not depend on them.

First the trace itself is replayed on fresh namespaces: Hypothesis found it by
re-running the scenario's rules, and a rule can change a backend without a call the
trace records (reaching into an in-process app); such a trace says "no divergence" on
every replay. It is then kept as it is, marked ``replays=False`` (the divergence is
still the bug, and the run reports it), and nothing is left out: every shorter replay
would lack the same unrecorded change. Otherwise each call before the diverging one is
left out in turn (last first) and the rest replayed; if the replay still diverges the
same way (the same backends, at the same kind of request, in the original's fields) the
call stays out. What is returned then is a replay's own trace (``replays=True``):
every answer in it was really given by a replay of its calls. A held request (a forced
interleaving) goes only together with its arm and its release; traces with judged steps
are left as they are (a replay cannot re-run a judgement).

The replays run in the run's own session, not a fresh process: each gets fresh
namespaces and fresh (or rebound, i.e. fully re-wired) apps, as every example does, so
a replay here answers as ``parity replay`` would; a fresh session would cost starting
every engine again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from parity.diff.normalize import NormalizedRequest
from parity.lockstep.driver import JUDGED
from parity.lockstep.interleave import ARM, RELEASE, TAG_HEADER
from parity.lockstep.session import LockstepSession
from parity.trace.model import Step, Trace
from parity.trace.replay import replay

#: how many replays one trace may cost (a 15-call trace needs at most 14 per pass)
MAX_REPLAYS = 40
_PLACEHOLDER = re.compile(r"<([a-z_]+):\d+>")
_INDEX = re.compile(r"\[\d+\]")
_PAUSE_PREFIX = RELEASE.rsplit("/", 1)[0]


#: what a trace saved with ``replays=False`` says where its replay command is shown
NOT_REPLAYING = (
    "its divergence did not reproduce on a replay of its calls when it was saved: it "
    "depends on something they do not carry (a rule changing an app outside its recorded "
    "calls, or timing)"
)


def replay_hint(command: str, trace: Trace) -> str:
    """``command`` (a ``parity replay`` line), with a shell comment saying it will not
    reproduce the divergence when a replay did not when the trace was saved: pasted,
    it still runs; read, it does not promise what it cannot do."""
    return f"{command}  # {NOT_REPLAYING}" if trace.replays is False else command


def minimizable(trace: Trace) -> bool:
    """A trace a replay of fewer calls can re-run: no judged step, and every pause-point
    call belongs to a tagged held request (see :func:`units`)."""
    for step in trace.steps:
        request = step.request
        if request.method == JUDGED:
            return False
        if request.path.startswith(_PAUSE_PREFIX) and _tag(request) is None:
            return False
    return trace.divergent_step is not None


def units(steps: list[Step]) -> list[list[int]]:
    """The step indices that are left out together: a held request with its arm and
    its release (one without the others would never be released, or never held), and
    every other call on its own."""
    by_tag: dict[str, list[int]] = {}
    out: list[list[int]] = []
    for index, step in enumerate(steps):
        tag = _tag(step.request)
        if tag is None:
            out.append([index])
        elif tag in by_tag:
            by_tag[tag].append(index)
        else:
            by_tag[tag] = [index]
            out.append(by_tag[tag])
    return out


def _tag(request: NormalizedRequest) -> str | None:
    if TAG_HEADER in request.headers:
        return str(request.headers[TAG_HEADER])
    if request.method == "POST" and request.path in (ARM, RELEASE):
        body = request.json if isinstance(request.json, dict) else {}
        return str(body["tag"]) if "tag" in body else None
    return None


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
    """The shortest trace found by leaving calls out of ``trace``: a replay's own trace
    (``replays=True``), or ``trace`` itself when it cannot be minimized (``replays``
    unchanged) or a replay of it does not reproduce its divergence (``replays=False``)."""
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
    # Calls after the diverging one were sent only if requests were held (they are
    # compared when released): then they stay, the release among them.
    held = any(TAG_HEADER in step.request.headers for step in trace.steps)
    start = trace if held else _with_steps(trace, trace.steps[: divergent.index + 1])
    if session.down is not None:
        return trace
    try:
        verified = _replayed(start, shape, session, _unreleased(trace))
    except Exception:  # a store gone: nothing is known about the trace
        return trace
    if verified is None:
        return _with_steps(trace, start.steps, replays=False)
    best = _with_steps(trace, verified.steps)
    kept: set[tuple[int, ...]] = set()  # units whose removal lost the divergence
    for _ in range(max_replays):
        if session.down is not None:
            break
        diverging = best.divergent_step
        assert diverging is not None
        unit = next(
            (
                u
                for u in reversed(units(best.steps))
                if diverging.index not in u and _key(best, u) not in kept
            ),
            None,
        )
        if unit is None:
            break
        candidate = _with_steps(best, [s for i, s in enumerate(best.steps) if i not in unit])
        try:
            result = _replayed(candidate, shape, session, _unreleased(trace))
        except Exception:  # a store gone, a subset the app refuses: keep what we have
            break
        if result is not None:
            best = _with_steps(trace, result.steps)
        else:
            kept.add(_key(best, unit))
    return best


def _replayed(
    candidate: Trace, shape: DivergenceShape, session: LockstepSession, unreleased: set[str]
) -> Trace | None:
    """The replay's own trace of ``candidate`` when it diverges as ``shape`` (or part of
    it), else ``None``. A replay that diverged while a request was still held (one not
    among ``unreleased``, the original's own) ends before its release: saved, that
    trace would leave the request parked on every later replay."""
    result = replay(candidate, session)
    found = DivergenceShape.of(result.trace)
    if found is None or not found.part_of(shape):
        return None
    if _unreleased(result.trace) - unreleased:
        return None
    return result.trace


def _unreleased(trace: Trace) -> set[str]:
    """Tags of held requests the trace sends but never releases."""
    held = {
        str(s.request.headers[TAG_HEADER]) for s in trace.steps if TAG_HEADER in s.request.headers
    }
    released = {_tag(s.request) for s in trace.steps if s.request.path == RELEASE}
    return held - released


def _key(trace: Trace, unit: list[int]) -> tuple[int, ...]:
    """A unit's identity across replays: a replay sends the very request objects it is
    given, so they identify the same calls in the replay's trace."""
    return tuple(id(trace.steps[i].request) for i in unit)


def _with_steps(trace: Trace, steps: list[Any], replays: bool = True) -> Trace:
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
        replays=replays,
    )
