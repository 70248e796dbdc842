"""Capped exponential backoff with full jitter, deterministic per (event id, attempt).

``delay = U(0, min(cap, base * 2**(attempt-1)))`` (AWS's "full jitter"), where U is
drawn from a hash of the event id and attempt instead of a global RNG: every backend,
every replay and every relay process computes the same schedule.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay_seconds: float = 1.0
    max_delay_seconds: float = 300.0

    def ceiling(self, attempt: int) -> float:
        """The upper bound of the delay after failed attempt number ``attempt`` (1-based)."""
        return min(self.max_delay_seconds, self.base_delay_seconds * 2 ** (attempt - 1))

    def delay(self, event_id: str, attempt: int) -> float:
        return jitter_fraction(event_id, attempt) * self.ceiling(attempt)


def jitter_fraction(event_id: str, attempt: int) -> float:
    """A uniform value in [0, 1), a pure function of its arguments."""
    digest = hashlib.sha256(f"{event_id}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
