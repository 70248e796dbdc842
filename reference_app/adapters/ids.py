"""Ids that sort by creation: ``prefix_`` + ULID-like 26 Crockford base32 characters.

48 bits of milliseconds, then 80 bits that are a monotonic counter within a
millisecond seeded from a random start. With ``seed`` set, the random parts come from
one seeded generator, so the same sequence of calls yields the same ids on every
backend (the parity mode).
"""

from __future__ import annotations

import random
import secrets
import threading
from datetime import datetime

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


class UlidGenerator:
    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed) if seed is not None else None
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_rand = 0

    def _random_bits(self) -> int:
        if self._rng is not None:
            return self._rng.getrandbits(_RANDOM_BITS - 1)
        return secrets.randbits(_RANDOM_BITS - 1)

    def new_id(self, prefix: str, now: datetime) -> str:
        ms = int(now.timestamp() * 1000)
        with self._lock:
            if ms <= self._last_ms:
                # Same (or an earlier) millisecond: stay monotonic by counting up.
                ms = self._last_ms
                rand = self._last_rand + 1
            else:
                rand = self._random_bits()
            self._last_ms, self._last_rand = ms, rand
        return f"{prefix}_{_encode(ms, 10)}{_encode(rand, 16)}"
