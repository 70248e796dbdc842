"""Planted faults: an app's own bugs, registered so ``parity selftest`` can prove its
scenarios catch them.

A fault is a way to build a *wrong* app on a real engine's store: wrap the app's storage
adapter, add a middleware that bends a status code. The app's project registers its
faults with :func:`register_fault` in the module named by ``[tool.parity] selftest``;
each becomes an engine ``fault:<name>`` (the base engine's store, the fault's app), so
``parity run --backends memory,fault:lost-update`` and ``parity selftest`` use it like
any other backend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from parity.binding import AppBinding, ASGIApp, Store
from parity.engines.base import Engine, EngineInfo
from parity.engines.registry import create_engine, register_engine
from parity.ports.implementation import Implementation

PREFIX = "fault:"
#: builds the faulty app: (the app's binding, the store) -> ASGI app
FaultBuilder = Callable[[AppBinding, Store], ASGIApp]


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    build_app: FaultBuilder
    #: the scenarios that must catch it (empty: every scenario); selftest runs only these
    scenarios: tuple[str, ...] = ()
    #: the engine whose store the faulty app runs on
    base: str = "memory"
    #: listed first by ``parity selftest`` (the app's core faults)
    core: bool = False
    #: a planted *port* fault: a wrong implementation of the port its ``scenarios``
    #: (port scenarios) exercise, run as ``fault:<name>`` beside their reference
    implementation: Implementation | None = None
    #: the suite that must catch it: ``scenarios`` (lockstep divergences) or ``contract``
    #: (a fault only the OpenAPI contract's checks or its differential answers show)
    suite: str = "scenarios"

    @property
    def engine_name(self) -> str:
        return PREFIX + self.name


FAULTS: dict[str, Fault] = {}
#: the suites a planted (app) fault may name as the one that catches it
FAULT_SUITES = ("scenarios", "contract")


class FaultEngine(Engine):
    """A base engine whose apps carry one planted fault (everything else delegated)."""

    fault: ClassVar[Fault]

    def __init__(self) -> None:
        super().__init__()
        self.base = create_engine(self.fault.base)
        self.kind = self.base.kind  # type: ignore[misc]
        self.in_process = self.base.in_process  # type: ignore[misc]

    def probe(self) -> str | None:
        return self.base.probe()

    def start(self) -> None:
        self.base.seed = self.seed
        self.base.start()

    def stop(self) -> None:
        self.base.stop()

    def store(self, namespace: str = "") -> Store:
        return self._relabel(self.base.store(namespace))

    def isolated(self, namespace: str) -> Store:
        return self._relabel(self.base.isolated(namespace))

    def discard(self, store: Store) -> None:
        self.base.discard(store)

    def _relabel(self, store: Store) -> Store:
        return store.with_namespace(store.namespace, engine=self.name, seed=self.seed)

    def info(self) -> EngineInfo:
        base = self.base.info()
        details: dict[str, Any] = {**base.details, "fault": self.fault.description}
        return EngineInfo(self.name, base.kind, base.version, details, base.unsupported)


def register_fault(
    name: str,
    description: str,
    build_app: FaultBuilder | Implementation,
    *,
    scenarios: tuple[str, ...] = (),
    base: str = "memory",
    core: bool = False,
    suite: str = "scenarios",
) -> Fault:
    """Register a planted fault as the engine ``fault:<name>``.

    ``build_app`` builds the faulty app; or, for a port fault, it is the faulty
    :class:`parity.Implementation` of the port that ``scenarios`` (port scenarios) call.
    ``suite`` says which suite must catch it: ``"scenarios"`` or ``"contract"``.
    """
    if suite not in FAULT_SUITES:
        raise ValueError(f"fault {name!r}: suite must be one of {', '.join(FAULT_SUITES)}")
    if isinstance(build_app, Implementation):
        if not scenarios:
            raise ValueError(f"port fault {name!r}: name the port scenario(s) that catch it")
        fault = Fault(name, description, _no_app, tuple(scenarios), base, core, build_app)
        FAULTS[name] = fault
        return fault  # not an engine: the ports suite adds it to its scenarios
    fault = Fault(name, description, build_app, tuple(scenarios), base, core, suite=suite)
    FAULTS[name] = fault
    engine = type(
        f"FaultEngine_{name.replace('-', '_')}",
        (FaultEngine,),
        {"name": fault.engine_name, "fault": fault},
    )
    register_engine(fault.engine_name, engine)
    return fault


def _no_app(binding: AppBinding, store: Store) -> ASGIApp:
    raise TypeError("a port fault builds no app")


def fault_builder(engine: Engine, binding: AppBinding) -> Callable[[Store], ASGIApp] | None:
    """How a fault engine's apps are built (``None`` for ordinary engines)."""
    if not isinstance(engine, FaultEngine):
        return None
    fault = engine.fault
    return lambda store: fault.build_app(binding, store)
