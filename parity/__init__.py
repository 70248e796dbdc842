"""Parity: run one API against every storage backend in lockstep and diff the answers.

The public API — everything a project needs to bind its app and write scenarios — is
what this module exports; every other module is internal and may change.

Binding an app (see ``docs/your-app.md``)::

    from parity import AppBinding, Store

Writing a scenario (a Hypothesis ``RuleBasedStateMachine`` whose calls go to every
backend at once)::

    from parity import LockstepMachine, register, rule, initialize, invariant, Bundle

    @register
    class Notes(LockstepMachine):
        notes = Bundle("notes")

        @rule(target=notes, text=st.text())
        def create(self, text):
            return self.call("POST", "/notes", json={"text": text}).json()["id"]
"""

from hypothesis.stateful import (
    Bundle,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from parity import strategies
from parity.binding import AppBinding, BindingError, Store
from parity.diff.normalize import DiffOptions
from parity.engines.base import Engine, EngineInfo, EngineUnavailable
from parity.engines.registry import register_engine
from parity.lockstep.driver import PendingCall
from parity.lockstep.interleave import concurrent, direct, hold, release, release_all
from parity.lockstep.machine import LockstepMachine
from parity.ports import Implementation, PortMachine, check_port
from parity.selftest.registry import register_fault
from parity.suites.registry import register_scenario as register
from parity.targets.base import Response

__version__ = "0.1.0"


def main(argv: list[str] | None = None) -> int:
    """The ``parity`` command in this process; its exit code. For a project's own
    launcher that registers something first (planted bugs kept out of ``[tool.parity]
    selftest``, an engine of its own): ``sys.exit(parity.main(sys.argv[1:]))``."""
    from parity.cli import main as command

    return command(argv)


__all__ = [
    "AppBinding",
    "BindingError",
    "Bundle",
    "DiffOptions",
    "Engine",
    "EngineInfo",
    "EngineUnavailable",
    "Implementation",
    "LockstepMachine",
    "PendingCall",
    "PortMachine",
    "Response",
    "Store",
    "__version__",
    "check_port",
    "concurrent",
    "consumes",
    "direct",
    "hold",
    "initialize",
    "invariant",
    "main",
    "multiple",
    "precondition",
    "register",
    "register_engine",
    "register_fault",
    "release",
    "release_all",
    "rule",
    "strategies",
]
