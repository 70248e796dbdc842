"""Which part of a run one process does.

``--shard K/N`` (machines of a CI matrix) and ``-n W`` (pytest-xdist workers inside one
machine) split a run the same way, so the parts of either join into the report one
machine would write for the same seed:

- every lockstep scenario runs on every shard, with the shard's share of the examples
  and a seed of its own (``seed + offset``: no two parts draw the same examples);
- units that stand alone — contract operations (each seeded by its own name), the
  stateful contract run, regression traces — are dealt out in contiguous blocks, so
  the merged report lists them in the one-machine order.

Backends are not split: a lockstep step sends one request to every backend and diffs
the answers, so a shard without the reference would have nothing to compare with.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from parity.config import ConfigError

T = TypeVar("T")

SHARD_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def part(total: int, index: int, count: int) -> tuple[int, int]:
    """Start and end of part ``index`` (0-based) of ``count`` over ``total`` items; the
    first ``total % count`` parts take one more."""
    base, extra = divmod(total, count)
    start = index * base + min(index, extra)
    return start, start + base + (1 if index < extra else 0)


@dataclass(frozen=True)
class Shard:
    """A path of ``(index, count)`` splits, outermost first: the machine's ``--shard``,
    then (under ``-n``) the worker's. Indexes are 0-based; ``str`` shows them 1-based."""

    levels: tuple[tuple[int, int], ...] = ((0, 1),)

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``K/N`` with ``1 <= K <= N``; anything else is a user error (one line, exit 2)."""
        match = SHARD_PATTERN.match(text)
        if not match:
            raise ConfigError(f"--shard {text!r}: expected K/N, e.g. --shard 1/3")
        k, n = int(match[1]), int(match[2])
        if n < 1 or not 1 <= k <= n:
            raise ConfigError(f"--shard {text}: K must be between 1 and N (N at least 1)")
        return cls(((k - 1, n),))

    def worker(self, index: int, count: int) -> Shard:
        """Worker ``index`` of ``count`` (``-n``) inside this shard."""
        return Shard((*self.levels, (index, count)))

    @property
    def machine(self) -> tuple[int, int]:
        """The outermost split: ``--shard K/N`` as ``(K - 1, N)``."""
        return self.levels[0]

    @property
    def label(self) -> str:
        """What reports record: ``K/N`` of the machine split, empty for a whole run."""
        index, count = self.machine
        return "" if count == 1 else f"{index + 1}/{count}"

    @property
    def whole(self) -> bool:
        return all(count == 1 for _, count in self.levels)

    def examples(self, total: int) -> int:
        """This shard's share of ``total`` examples (at least one: Hypothesis runs one)."""
        for index, count in self.levels:
            start, end = part(total, index, count)
            total = end - start
        return max(1, total)

    def seed(self, seed: int) -> int:
        """The seed of this shard's examples: distinct for every part of every split, and
        ``seed`` itself for a whole run (``seed + worker`` for ``-n`` alone, as before)."""
        offset, scale = 0, 1
        for index, count in self.levels:
            offset += index * scale
            scale *= count
        return seed + offset

    def take(self, units: Sequence[T]) -> list[T]:
        """This shard's contiguous block of ``units`` (each unit goes to exactly one part)."""
        mine = list(units)
        for index, count in self.levels:
            start, end = part(len(mine), index, count)
            mine = mine[start:end]
        return mine

    def __str__(self) -> str:
        return ",".join(f"{index + 1}/{count}" for index, count in self.levels)


WHOLE = Shard()


def parse_shard(text: str | None, seed: int | None) -> Shard:
    """``--shard`` of ``parity run``: the parts of a run join into one only if every
    machine draws from the same seed, so a split run needs ``--seed``."""
    if text is None:
        return WHOLE
    shard = Shard.parse(text)
    if seed is None and not shard.whole:
        raise ConfigError(
            f"--shard {text} needs --seed, the same on every machine (e.g. the CI run's "
            "number), so the parts join into one run"
        )
    return shard
