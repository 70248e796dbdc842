"""Lockstep: send one request to every backend at once, compare with the reference.

- :class:`LockstepDriver` — one example's targets and normalisers; ``call`` fans out.
- :class:`LockstepSession` — provisioned backends shared by every example of a run.
- :class:`LockstepMachine` — the Hypothesis ``RuleBasedStateMachine`` base scenarios use.
"""

from parity.lockstep.divergence import Divergence
from parity.lockstep.driver import LockstepDriver, PendingCall
from parity.lockstep.machine import LockstepMachine
from parity.lockstep.session import LockstepSession

__all__ = ["Divergence", "LockstepDriver", "LockstepMachine", "LockstepSession", "PendingCall"]
