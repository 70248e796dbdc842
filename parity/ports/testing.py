"""Run one port scenario inside a test, without ``parity run``.

Why: a team adopting a port scenario wants it in its unit-test suite first, like
Hypothesis's ``run_state_machine_as_test``; a difference then fails the test with the
shrunk divergence as its message. Traces, the baseline and reports stay with
``parity run --suite ports``.
"""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis.stateful import run_state_machine_as_test

from parity.lockstep.session import LockstepSession
from parity.ports.factory import EnginePool
from parity.ports.machine import PortMachine


def check_port(
    machine: type[PortMachine],
    *,
    implementations: Iterable[str] | None = None,
    examples: int = 50,
    steps: int = 30,
    seed: int = 0,
) -> None:
    """Run ``machine`` over its implementations (or those named); raise the shrunk
    :class:`~parity.lockstep.divergence.Divergence` (an ``AssertionError``) on a
    difference. Engines it needs start and stop here."""
    from parity.ports.suite import implementations_of, port_backends  # the run machinery

    pool = EnginePool(seed)
    try:
        chosen = implementations_of(machine, list(implementations or []) or None)
        backends = port_backends(machine, chosen, pool)
        session = LockstepSession(
            backends.factories,
            backends.reference,
            options=machine.diff_options(),
            namespace_prefix=f"check_{machine.scenario_name()}",
            engines=backends.info,
            seed=seed,
        )
        try:
            run_state_machine_as_test(
                machine.bind(session),
                settings=hypothesis_settings(
                    max_examples=examples,
                    stateful_step_count=steps,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    suppress_health_check=list(HealthCheck),
                ),
            )
        finally:
            session.close()
    finally:
        pool.close()
