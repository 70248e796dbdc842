"""Pause points the harness controls: hold a tagged request just before its commit.

Only wired in parity mode. A held request waits on an event the harness sets; a safety
timeout releases it so a forgotten pause can never hang a server forever.
"""

from __future__ import annotations

import threading


class PauseController:
    def __init__(self, timeout_seconds: float = 30.0) -> None:
        self._timeout = timeout_seconds
        self._lock = threading.Lock()
        self._armed: dict[str, threading.Event] = {}
        self._waiting: set[str] = set()
        self._changed = threading.Condition(self._lock)

    def arm(self, tag: str) -> None:
        with self._lock:
            self._armed[tag] = threading.Event()

    def release(self, tag: str) -> bool:
        with self._lock:
            gate = self._armed.pop(tag, None)
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
            if gate is None:
                return
            self._waiting.add(tag)
            self._changed.notify_all()
        try:
            gate.wait(self._timeout)
        finally:
            with self._lock:
                self._waiting.discard(tag)
                self._changed.notify_all()
