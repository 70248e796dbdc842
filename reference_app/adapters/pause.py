"""Pause points the harness controls: hold a tagged request just before its commit.

Only wired in parity mode. A held request waits on an event the harness sets; a safety
timeout releases it so a forgotten pause can never hang a server forever.

A tag is armed for one kind of point: ``before_commit`` (the default: the request's
own commit, ``before_commit:<operation>``) or ``before_claim`` (the moment after an
idempotent request found no record for its key and before it writes its claim: the
window two first requests with one key race in).
"""

from __future__ import annotations

import threading

#: the kinds of pause point (see the module docstring)
BEFORE_COMMIT = "before_commit"
BEFORE_CLAIM = "before_claim"
POINTS = (BEFORE_COMMIT, BEFORE_CLAIM)


class PauseController:
    def __init__(self, timeout_seconds: float = 30.0) -> None:
        self._timeout = timeout_seconds
        self._lock = threading.Lock()
        self._armed: dict[str, threading.Event] = {}
        self._points: dict[str, str] = {}  # tag -> the kind of point it parks at
        self._waiting: set[str] = set()
        self._changed = threading.Condition(self._lock)

    def arm(self, tag: str, at: str = BEFORE_COMMIT) -> None:
        with self._lock:
            self._armed[tag] = threading.Event()
            self._points[tag] = at

    def release(self, tag: str) -> bool:
        with self._lock:
            gate = self._armed.pop(tag, None)
            self._points.pop(tag, None)
        if gate is None:
            return False
        gate.set()
        return True

    def waiting(self) -> list[str]:
        with self._lock:
            return sorted(self._waiting)

    def wait_until_held(self, tag: str, timeout: float = 10.0) -> bool:
        """Block until the request tagged ``tag`` is parked at its pause point."""
        with self._changed:
            return self._changed.wait_for(lambda: tag in self._waiting, timeout)

    def reach(self, point: str, tag: str | None) -> None:
        if tag is None:
            return
        with self._lock:
            gate = self._armed.get(tag)
            if gate is None or point.partition(":")[0] != self._points.get(tag):
                return
            self._waiting.add(tag)
            self._changed.notify_all()
        try:
            gate.wait(self._timeout)
        finally:
            with self._lock:
                self._waiting.discard(tag)
                self._changed.notify_all()
