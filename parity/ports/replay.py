"""``parity replay`` of a port trace: rebuild the scenario's implementations, resend.

A port trace records the scenario class (``app.port.machine``); its steps are method
calls with encoded arguments, so replaying is the HTTP replay (one lockstep driver,
:func:`parity.trace.replay.replay`) over freshly built implementations.
"""

from __future__ import annotations

import importlib

from parity.config import ConfigError, ParityConfig
from parity.lockstep.session import LockstepSession
from parity.ports.factory import EnginePool
from parity.ports.machine import PortMachine
from parity.ports.suite import implementations_of, port_backends, port_record
from parity.run.backends import load_faults
from parity.trace.model import Trace
from parity.trace.replay import ReplayResult, replay


def is_port_trace(trace: Trace) -> bool:
    return bool(trace.app.get("port"))


def machine_of(trace: Trace) -> type[PortMachine]:
    """The port scenario class a trace was recorded with (one line if it is gone)."""
    path = str((trace.app.get("port") or {}).get("machine", ""))
    module_name, _, qualname = path.partition(":")
    try:
        obj: object = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(
            f"trace of port scenario {trace.scenario!r}: cannot import {path!r} ({exc}); "
            "replay it from the project that recorded it"
        ) from exc
    if not (isinstance(obj, type) and issubclass(obj, PortMachine)):
        raise ConfigError(f"trace names {path!r}, which is not a parity.PortMachine")
    return obj


def replay_port(
    trace: Trace,
    config: ParityConfig,
    backends: list[str] | None = None,
    allow_dropped: bool = False,
) -> ReplayResult:
    """Replay ``trace`` on ``backends`` (default: the trace's implementations). Leaving
    out the implementation the trace diverged on is refused unless ``allow_dropped``
    (a replay without it could only say "no divergence")."""
    machine = machine_of(trace)
    names = list(backends or trace.backends)
    step = trace.divergent_step
    dropped = sorted(set(step.differences) - set(names)) if step is not None else []
    if dropped and not allow_dropped:
        raise ConfigError(
            f"--backends leaves out {', '.join(dropped)}, where this trace diverged: add it, "
            "or pass --without-diverged to check the others"
        )
    if any(n.startswith("fault:") for n in names):
        load_faults(config)
    impls = implementations_of(machine, names)
    missing = [n for n in names if n not in impls]
    if missing:
        raise ConfigError(
            f"{machine.scenario_name()} has no implementation {', '.join(missing)} "
            f"(it has {', '.join(machine.implementation_map())})"
        )
    impls = {n: impls[n] for n in [trace.reference, *names] if n in impls}
    pool = EnginePool(trace.replay_seed)
    try:
        chosen = port_backends(machine, impls, pool)
        session = LockstepSession(
            chosen.factories,
            chosen.reference,
            namespace_prefix="replay",
            options=trace.diff_options() or machine.diff_options(),
            engines=chosen.info,
            app=port_record(machine, config),
            seed=trace.replay_seed,
        )
        try:
            return replay(trace, session)
        finally:
            session.close()
    finally:
        pool.close()
