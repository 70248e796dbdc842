"""RFC 3339 UTC timestamps with microseconds: one textual form on every backend."""

from __future__ import annotations

from datetime import UTC, datetime

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_ts(value: datetime) -> str:
    """``2026-11-22T09:03:45.123456Z``; fixed width, so text order is time order."""
    return value.astimezone(UTC).strftime(_FORMAT)


def parse_ts(text: str) -> datetime:
    """Inverse of :func:`format_ts`; accepts any RFC 3339 offset."""
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text).astimezone(UTC)
