"""Replay a saved trace against chosen backends: same requests, fresh namespaces.

A trace stores normalised requests, so replaying is just sending each step through a
new lockstep driver; the first difference stops the replay, as it stopped the run.
"""

from __future__ import annotations

from dataclasses import dataclass

from parity.lockstep.divergence import Divergence
from parity.lockstep.interleave import replay_steps
from parity.lockstep.session import LockstepSession
from parity.trace.model import Trace


@dataclass
class ReplayResult:
    trace: Trace  # the replay's own trace (every backend's fresh answers)
    divergence: Divergence | None

    @property
    def diverged(self) -> bool:
        return self.divergence is not None

    def same_divergence_as(self, original: Trace) -> bool:
        """Same step, same backends, same differing paths as ``original``."""
        return self.trace.divergence_signature() == original.divergence_signature()


def replay(trace: Trace, session: LockstepSession) -> ReplayResult:
    driver = session.new_driver()
    divergence: Divergence | None = None
    try:
        replay_steps(driver, trace.steps)  # re-creates held (paused) requests, too
    except Divergence as exc:
        divergence = exc
    finally:
        session.finish(driver, trace.scenario, final=False, error=divergence)
    replayed = session.trace_of(driver, trace.scenario)
    replayed.seed = trace.seed
    return ReplayResult(replayed, divergence)
