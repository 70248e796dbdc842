"""Port lockstep: one Python interface, N implementations, the same calls to each.

- :class:`PortMachine` — the base class of port scenarios (``self.port.method(...)``).
- :class:`Implementation` — how one implementation is built per example (on an engine).
- :func:`check_port` — run one inside a test (no report, no trace).
- ``--suite ports`` (:mod:`parity.ports.suite`) runs them; :mod:`parity.ports.replay`
  replays their traces. See ``docs/ports.md``.
"""

from parity.ports.implementation import Implementation
from parity.ports.machine import PortMachine
from parity.ports.target import UNAVAILABLE
from parity.ports.testing import check_port

__all__ = ["UNAVAILABLE", "Implementation", "PortMachine", "check_port"]
