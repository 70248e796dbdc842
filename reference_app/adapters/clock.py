"""Clocks: the system one for production, a manual one the harness advances."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

DEFAULT_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_SECOND_US = 1_000_000


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """Time that moves only when told to: identical on every backend in a parity run.

    A clock that stands still stores every timestamp at ``.000000``, so a store that
    keeps milliseconds, or sorts timestamps as variable-width text, looks exactly like
    one that keeps microseconds. :meth:`tick` gives it a real clock's texture,
    deterministically: every later read creeps the sub-second part forward by the next
    of the given microsecond steps (cycled), so stored times land on ``.000000``,
    ``.999999`` and everything between, and equal times (a step of 0) happen too.

    The creep never carries into the next whole second of the clock's position: an
    :meth:`advance` of N whole seconds still means exactly N seconds to a model that
    counts them (an expiry N seconds later is at or after it, never before), while
    what is stored carries microseconds. So a whole-second advance keeps the creep
    where it was: restarting it could put the new reading less than N seconds after an
    earlier one.

    An advance with a sub-second part restarts the creep at the new position (or at the
    latest reading, if that is still ahead of it: time never goes back). Without that,
    the creep of an example's first second (it only grows, and a step of ``999999`` fills
    it at once) pinned every later reading at ``.999999``, so two distinct times within
    one second (what a store that orders by whole seconds or sorts variable-width text
    gets wrong) lived only in the first second. Nothing exact is lost: after such an
    advance of A seconds a model could only ever count the elapsed time as within
    (A - 1 s, A + 1 s) — the creep's clamp at the end of the second already made it so.
    """

    def __init__(self, start: datetime = DEFAULT_EPOCH) -> None:
        self._position = start
        self._creep_us = 0
        self._steps: Iterable[int] = ()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            self._creep_us += next(iter(self._steps), 0)
            return self._current()

    def peek(self) -> datetime:
        """The latest reading, without creeping: what a store told "the app's time" sees
        (the DynamoDB fault proxy's TTL sweeper), so telling it never moves the clock."""
        with self._lock:
            return self._current()

    def _current(self) -> datetime:
        room = _SECOND_US - 1 - self._position.microsecond  # up to .999999 of its second
        return self._position + timedelta(microseconds=min(self._creep_us, room))

    def tick(self, steps: list[int]) -> datetime:
        """From now on, each read moves the sub-second part by the next step (µs)."""
        if any(step < 0 or step >= _SECOND_US for step in steps):
            raise ValueError("a tick is 0 to 999999 microseconds")
        with self._lock:
            self._steps = itertools.cycle(steps) if steps else ()
            return self._current()

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("a manual clock never goes back")
        step = timedelta(seconds=seconds)
        with self._lock:
            latest = self._current()
            self._position += step
            if step.microseconds:
                behind = (latest - self._position) // timedelta(microseconds=1)
                self._creep_us = max(0, behind)
            return self._current()

    def set(self, when: datetime) -> None:
        with self._lock:
            if when < self._current():
                raise ValueError("a manual clock never goes back")
            self._position, self._creep_us = when, 0
