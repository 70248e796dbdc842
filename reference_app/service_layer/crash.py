"""The crash seam's port: where a commit may die between two of its writes.

Why a port: a backend that splits one change set over several store calls (a state
change in one transaction, its outbox event in another) behaves exactly like an atomic
one until the process dies between those calls. Parity mode arms a crash "after the k-th
write of the next request" (:mod:`reference_app.adapters.crash`); every backend reports
each write of a commit here, so the crash lands where that backend really is when it
dies: inside an open transaction (the store rolls it back), before an all-or-nothing
request was sent (nothing written), or between two calls it already made (what the first
wrote stays). Production wiring never crashes.
"""

from __future__ import annotations

from typing import Protocol


class ProcessCrash(Exception):
    """Stands for the process dying: nothing after it runs as the app intended.

    An ``Exception`` (not ``BaseException``) so the web framework turns it into an answer;
    the seam stays "dead" until the app restarts, so clean-up code that catches it (a
    release of an idempotency claim) cannot write anything a dead process could not.
    """


class CrashPoints(Protocol):
    def begin(self) -> None:
        """A commit starts; raise :class:`ProcessCrash` if the process already died."""
        ...

    def wrote(self) -> None:
        """One more write is done (durable, or inside a transaction not yet committed);
        raise :class:`ProcessCrash` if the armed crash lands here."""
        ...


class NoCrash:
    """Crash points that never crash: the production wiring."""

    def begin(self) -> None:
        return None

    def wrote(self) -> None:
        return None


NO_CRASH = NoCrash()
