"""Seeded, replayable decisions for fault-injecting engines.

Why not :mod:`random`: a fault engine decides in a proxy thread or inside the database
server, and the same run seed must give the same faults on every replay. Each decision
is a hash of (run seed, what is decided, how many times it was decided before), so a
sequential request stream meets exactly the same faults every time; concurrent requests
(a race rule, or the harness dropping the last example's namespace in the background while
the next example runs) draw in the order they arrive, so they meet the same *rate* of
faults on a replay, not necessarily on the same call. The hash is BLAKE2b (stable across
processes, unlike ``hash()``).
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter


def uniform(seed: int, stream: str, n: int) -> float:
    """A number in ``[0, 1)`` that depends only on its three arguments."""
    digest = hashlib.blake2b(f"{seed}:{stream}:{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class Dice:
    """One counter per stream ("throttle", "stale", "latency"), thread-safe."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def roll(self, stream: str) -> float:
        with self._lock:
            n = self._counts[stream]
            self._counts[stream] += 1
        return uniform(self.seed, stream, n)
