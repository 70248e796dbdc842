"""Lockstep scenarios run by ``parity run --suite scenarios`` against every backend.

Each module registers its machines with :func:`register`; the runner imports every
module of this package, so a new file here (``concurrency.py``, ``outbox.py``…) is picked
up without touching anything else.
"""

from parity import LockstepMachine, register

#: What every scenario of the reference app needs from an engine: each state change is
#: one atomic multi-item commit (DynamoDB ``TransactWriteItems``). An engine that lacks
#: it (dynalite) is reported "unsupported" for the scenario, not failed, not passed.
LEDGER_REQUIRES = frozenset({"transactions"})
#: The control seams the reference app's parity mode serves under ``/_parity`` (see
#: ``scenarios.binding.ReferenceBinding.controls``): scenarios declare what they drive.
LEDGER_CONTROLS = frozenset({"clock", "ids", "pause", "outbox", "transport"})

__all__ = ["LEDGER_CONTROLS", "LEDGER_REQUIRES", "LockstepMachine", "register"]
