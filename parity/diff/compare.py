"""Structured comparison of two normalised answers: a list of (path, expected, actual)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from parity.diff.options import path_matcher

MISSING = "<missing>"


@dataclass(frozen=True)
class Difference:
    """One place where a backend disagrees with the reference.

    ``path`` is dotted (``body.items[2].balance_cents``) so a baseline entry or a human can
    name it; ``expected`` is the reference's value, ``actual`` the other backend's.
    """

    path: str
    expected: Any
    actual: Any

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "expected": self.expected, "actual": self.actual}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Difference:
        return cls(str(data["path"]), data.get("expected"), data.get("actual"))


def compare(
    expected: Any, actual: Any, path: str = "", ignore: tuple[str, ...] = ()
) -> list[Difference]:
    """Every leaf where ``actual`` differs from ``expected`` (dict keys: both ways).

    ``ignore`` holds paths in the syntax of :mod:`parity.diff.options` (``body.detail``,
    ``body.items[*].updated_at``): nothing at or below them is compared, not even whether
    it is present on both sides.
    """
    matcher = path_matcher(tuple(ignore)) if ignore else None
    return _compare(expected, actual, path, matcher)


def _compare(
    expected: Any, actual: Any, path: str, ignore: re.Pattern[str] | None
) -> list[Difference]:
    if ignore is not None and ignore.fullmatch(path):
        return []
    if isinstance(expected, dict) and isinstance(actual, dict):
        out: list[Difference] = []
        for key in list(expected) + [k for k in actual if k not in expected]:
            sub = f"{path}.{key}" if path else str(key)
            out.extend(_compare(expected.get(key, MISSING), actual.get(key, MISSING), sub, ignore))
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        out = []
        for i in range(max(len(expected), len(actual))):
            left = expected[i] if i < len(expected) else MISSING
            right = actual[i] if i < len(actual) else MISSING
            out.extend(_compare(left, right, f"{path}[{i}]", ignore))
        return out
    if expected != actual or type(expected) is not type(actual):
        return [Difference(path, expected, actual)]
    return []
