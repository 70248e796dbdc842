"""A divergence the outbox scenario finds through a relay crash replays from its trace.

``parity selftest --seed 2`` once reported ``outbox-retry-reorder`` as "caught, shrunk to
7 calls, does NOT replay": its ``relay_crash`` rule ran each app's relay by reaching into
the app, so the crash left no step in the trace. On the faulty backend that relay
published the purchase event it should have held back; the trace showed it only at the
next listing, and a replay without the crash answered like the reference.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from parity.lockstep import Divergence
from parity.lockstep.session import LockstepSession
from parity.trace.replay import replay
from scenarios.outbox import OutboxScenario
from tests.scenarios.conftest import Runner


def test_a_divergence_in_a_relay_crash_is_recorded_and_replays(
    runner_for: Callable[[str], Runner],
) -> None:
    backends = runner_for("outbox-retry-reorder").backends
    session = LockstepSession(backends.factories, backends.reference, namespace_prefix="oc")
    try:
        machine = OutboxScenario.bind(session)()
        with pytest.raises(Divergence):
            machine.first_card()
            machine.purchase(0, 1)
            machine.relay([True])  # card.issued fails: its purchase event must wait
            machine.relay_crash()  # the faulty backend publishes the purchase event
            machine.deliveries()
        trace = session.trace_of(machine.lockstep, "outbox")
        session.finish(machine.lockstep, "outbox", final=False, error=None)
        step = trace.divergent_step
        assert step is not None
        assert step.request.json == {"crash_after_publish": True}, step.request.line()
        again = replay(trace, session)
        assert again.diverged and again.same_divergence_as(trace)
    finally:
        session.close()
