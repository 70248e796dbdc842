"""Lockstep scenarios run by ``parity run --suite scenarios`` against every backend.

Each module registers its machines with :func:`register`; the runner imports every
module of this package, so a new file here (``concurrency.py``, ``outbox.py``…) is picked
up without touching anything else.
"""

from parity.lockstep.machine import LockstepMachine
from parity.suites.registry import register_scenario as register

__all__ = ["LockstepMachine", "register"]
