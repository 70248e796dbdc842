"""``--suite ports``: every registered port scenario over its implementations.

Port scenarios live in the package ``[tool.parity] ports`` names (default:
``<scenarios>.ports``) and register with :func:`parity.register` like HTTP scenarios.
Each runs through the same :func:`parity.run.scenario.run_scenario` as an HTTP scenario
(cells, divergences, saved traces, baselines, the report); only its "backends" are the
scenario's implementations, built by :class:`~parity.ports.factory.PortTargetFactory`.

``--backends`` picks implementations by name or by engine (``--backends memory,sqlite``
runs the unit-of-work port on those two), and names planted port faults
(``fault:<name>``); without it every implementation runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from parity.config import ConfigError, ParityConfig
from parity.engines.base import EngineUnavailable
from parity.engines.registry import canonical
from parity.ports.factory import EnginePool, PortTargetFactory
from parity.ports.implementation import Implementation
from parity.ports.machine import PortMachine
from parity.report.events import EnginesStarted
from parity.run.backends import Backends, InfraError, load_faults
from parity.run.context import RunContext
from parity.run.scenario import run_scenario
from parity.selftest.registry import FAULTS, PREFIX
from parity.suites.registry import discover_scenarios
from parity.suites.scenarios import check_names

SUITE = "ports"


def port_scenarios(config: ParityConfig) -> dict[str, type[PortMachine]]:
    """Every registered port scenario of the project (name → class)."""
    package = config.ports_package
    try:
        found = discover_scenarios(package, suite=SUITE)
    except ModuleNotFoundError as exc:
        if exc.name and package.startswith(exc.name):
            raise ConfigError(
                f"ports package {package!r} does not exist: set [tool.parity] ports = "
                "'package' to where your port scenarios are (docs/ports.md)"
            ) from exc
        raise
    return {n: m for n, m in found.items() if isinstance(m, type) and issubclass(m, PortMachine)}


def check_port_scenarios(config: ParityConfig, wanted: list[str] | None) -> None:
    """Unknown ``--scenarios`` names are one line before anything starts."""
    if wanted:
        check_names(port_scenarios(config), wanted)


def implementations_of(
    machine: type[PortMachine], wanted: Iterable[str] | None
) -> dict[str, Implementation]:
    """The machine's implementations that ``wanted`` names (by name or engine), the
    reference first, plus planted port faults ``fault:<name>`` meant for it."""
    impls = machine.implementation_map()
    reference = machine.reference_name()
    if reference not in impls:
        raise ConfigError(f"{machine.__name__}: reference {reference!r} is not an implementation")
    names = list(wanted or [])
    chosen = {reference: impls[reference]}
    for name, impl in impls.items():
        engine = canonical(impl.engine) if impl.engine else None
        if not names or name in names or (engine is not None and engine in names):
            chosen[name] = impl
    scenario = machine.scenario_name()
    for name in names:
        fault = FAULTS.get(name.removeprefix(PREFIX)) if name.startswith(PREFIX) else None
        port = getattr(fault, "implementation", None) if fault else None
        if fault is not None and port is not None and scenario in fault.scenarios:
            chosen[name] = port
    return chosen


def planned_backends(
    config: ParityConfig, wanted: list[str] | None, scenarios: list[str] | None
) -> list[str]:
    """The implementation names a ports run will show (the report's columns); a
    ``--backends`` name matching no implementation is one line, exit 2."""
    if wanted and any(n.startswith(PREFIX) for n in wanted):
        load_faults(config)
    found = port_scenarios(config)
    names: list[str] = []
    for name in scenarios or list(found):
        names += [n for n in implementations_of(found[name], wanted) if n not in names]
    unknown = [n for n in wanted or [] if n not in names and not _is_engine_of(n, found)]
    if unknown:
        raise ConfigError(
            f"--backends {', '.join(unknown)}: no port scenario has such an implementation "
            f"(known: {', '.join(sorted(names)) or 'none'})"
        )
    return names


def _is_engine_of(name: str, found: dict[str, type[PortMachine]]) -> bool:
    return any(
        impl.engine is not None and canonical(impl.engine) == canonical(name)
        for machine in found.values()
        for impl in machine.implementation_map().values()
    )


def port_record(machine: type[PortMachine], config: ParityConfig) -> dict[str, Any]:
    """What a port trace records (``parity replay`` rebuilds the scenario from it)."""
    path = f"{machine.__module__}:{machine.__qualname__}"
    return {
        "binding": {"name": f"port:{machine.interface_name()}", "binding": path},
        "port": {"machine": path, "name": machine.interface_name()},
        "config": {**config.describe(), "diff": machine.diff_options().to_dict()},
    }


def port_backends(
    machine: type[PortMachine], impls: dict[str, Implementation], pool: EnginePool
) -> Backends:
    """The scenario's implementations as a run's backends (reference first)."""
    backends = Backends(machine.reference_name(), diff=machine.diff_options())
    errors = dict(machine.errors)
    try:
        for name, impl in impls.items():
            backends.factories[name] = PortTargetFactory(name, impl, pool, errors)
            backends.info[name] = (
                {**pool.info(impl.engine), "implementation": name}
                if impl.engine
                else {"name": name, "kind": "object", "version": "", "unsupported": {}}
            )
    except EngineUnavailable as exc:
        raise InfraError(f"engine {exc.engine} is not available: {exc.reason}") from exc
    except Exception as exc:  # an engine that fails to start or prepare: infrastructure
        raise InfraError(f"{name}: could not start: {type(exc).__name__}: {exc}") from exc
    return backends


def run(ctx: RunContext) -> None:
    found = port_scenarios(ctx.config)
    wanted = ctx.scenario_filter or list(found)
    check_names(found, wanted)
    # A ports-only run provisions no app backends: then ``backend_names`` is the user's
    # selection; beside other suites every implementation runs.
    selection = ctx.backend_names if not ctx.backends.factories else None
    pool = EnginePool(ctx.seed)
    try:
        for name in wanted:
            machine = found[name]
            impls = implementations_of(machine, selection)
            if selection and len(impls) < 2:
                continue  # nothing selected to compare with its reference
            if ctx.skipped(SUITE, name, list(impls)):
                continue
            backends = port_backends(machine, impls, pool)
            engines = {canonical(i.engine): pool.info(i.engine) for i in impls.values() if i.engine}
            ctx.emit(EnginesStarted(engines))  # the report's capability matrix
            port_ctx = dataclasses.replace(
                ctx,
                backends=backends,
                app=port_record(machine, ctx.config),
                config=ctx.config.with_overrides(
                    reference=machine.reference_name(), diff=machine.diff_options()
                ),
            )
            run_scenario(port_ctx, machine, suite=SUITE)
    finally:
        pool.close()
