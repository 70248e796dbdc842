"""Replay a saved trace against chosen backends: same requests, fresh namespaces.

A trace stores normalised requests, so replaying is just sending each step through a
new lockstep driver; the first difference stops the replay, as it stopped the run.
"""

from __future__ import annotations

from dataclasses import dataclass

from parity.config import ConfigError, ParityConfig, load_binding
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


def check_replayable(
    trace: Trace, config: ParityConfig, backends: list[str], allow_dropped: bool = False
) -> list[str]:
    """Refuse a replay that could only lie: a trace of another app (it would run this
    project's app and likely say "no divergence"), or a backend list that leaves out a
    backend the trace diverged on (unless ``allow_dropped``: then they are returned, for
    the caller to say so). One line each, exit 2."""
    recorded = trace.app_name
    if recorded is None:
        raise ConfigError(
            f"{trace.scenario} trace records no app (made by an older Parity): re-record it"
        )
    if recorded != "urls":
        current = str(load_binding(config.app).describe().get("name", ""))
        if current != recorded:
            raise ConfigError(
                f"trace was recorded with app {recorded!r}, but this project's app is "
                f"{current!r} ([tool.parity] app = {config.app!r}): run the replay from the "
                "project that recorded it, or pass --config its/pyproject.toml"
            )
    step = trace.divergent_step
    dropped = sorted(set(step.differences) - set(backends)) if step is not None else []
    if dropped and not allow_dropped:
        raise ConfigError(
            f"--backends leaves out {', '.join(dropped)}, the backend(s) this trace diverged "
            f"on (step {step.index if step else '?'}): without them a replay cannot show it; "
            f"use --backends {','.join(dict.fromkeys([trace.reference, *dropped, *backends]))}"
            " (or --without-diverged to check a fix elsewhere)"
        )
    return dropped


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
