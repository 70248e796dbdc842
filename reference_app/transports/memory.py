"""In-memory transport: records deliveries and fails on a schedule it is told.

The failure schedule makes outbox retry, backoff and dead-lettering testable without a
broker; ``unique_deliveries`` is what a deduplicating consumer would keep.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from typing import Any

from reference_app.service_layer.ports import PublishError


class MemoryTransport:
    name = "memory"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._schedule: deque[bool] = deque()
        self.deliveries: list[dict[str, Any]] = []

    def fail_next(self, pattern: Iterable[bool]) -> None:
        """Queue outcomes for the next publishes: True fails, False succeeds."""
        with self._lock:
            self._schedule.extend(bool(p) for p in pattern)

    def _planned_failure(self) -> bool:
        with self._lock:
            return bool(self._schedule) and self._schedule.popleft()

    def _record(self, envelope: dict[str, Any]) -> None:
        with self._lock:
            self.deliveries.append(envelope)

    def publish(self, envelope: dict[str, Any]) -> None:
        if self._planned_failure():
            raise PublishError("planned transport failure")
        self._record(envelope)

    def unique_deliveries(self) -> list[dict[str, Any]]:
        seen: set[str] = set()
        unique = []
        for envelope in list(self.deliveries):
            if envelope["id"] not in seen:
                seen.add(envelope["id"])
                unique.append(envelope)
        return unique
