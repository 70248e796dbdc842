"""Two registries with one job each.

- Scenarios: lockstep machines register themselves with :func:`register_scenario`;
  :func:`discover_scenarios` imports every module of a package (``scenarios`` by default)
  so adding ``scenarios/concurrency.py`` is all it takes to run a new scenario.
- Suites: ``--suite NAME`` → ``"module:function"``, imported lazily. A suite whose module
  is missing (the contract suite until it lands) is :class:`SuiteNotInstalled`: exit 2.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from parity.lockstep.machine import LockstepMachine

#: suite -> scenario name -> machine
_SCENARIOS: dict[str, dict[str, type[LockstepMachine]]] = {}
M = TypeVar("M", bound="type[LockstepMachine]")

#: suite name -> "module:function"; the function is ``run(ctx: RunContext) -> None``
SUITES: dict[str, str] = {
    "scenarios": "parity.suites.scenarios:run",
    "contract": "parity.contract.suite:run",
    "ports": "parity.ports.suite:run",
}


class SuiteNotInstalled(LookupError):
    """``--suite`` names a suite whose code is not available here."""


def register_scenario(cls: M) -> M:
    """Class decorator: make a lockstep machine part of its suite (``--suite
    scenarios``; a :class:`parity.PortMachine` says ``suite = "ports"``)."""
    _SCENARIOS.setdefault(getattr(cls, "suite", "scenarios"), {})[cls.scenario_name()] = cls
    return cls


def discover_scenarios(
    package: str = "scenarios", suite: str = "scenarios"
) -> dict[str, type[LockstepMachine]]:
    """Import every module of ``package`` (each registers its machines) → name: class
    of the machines registered for ``suite`` *by that package*: a machine another
    package registered earlier in the same process (a second project, a test's) is not
    this project's scenario."""
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(getattr(pkg, "__path__", []), prefix=f"{package}."):
        if not info.name.rsplit(".", 1)[-1].startswith("_"):
            importlib.import_module(info.name)
    return {
        name: cls
        for name, cls in sorted(_SCENARIOS.get(suite, {}).items())
        if cls.__module__ == package or cls.__module__.startswith(f"{package}.")
    }


def load_suite(name: str) -> Callable[[Any], None]:
    target = SUITES.get(name)
    if target is None:
        raise SuiteNotInstalled(f"unknown suite {name!r}; known suites: {', '.join(SUITES)}")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise SuiteNotInstalled(f"{name} suite not installed ({module_name} missing)") from exc
        raise
    func: Callable[[Any], None] = getattr(module, attr)
    return func
