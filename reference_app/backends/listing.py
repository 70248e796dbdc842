"""Keyset ordering shared by backends that sort in Python (memory, planted faults).

Every listing orders by (created_at, id) — or (time, id) for events — and pages by
"strictly after the last key returned", which never skips or repeats a row even while
new rows arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from reference_app.domain.model import OutboxEvent
from reference_app.service_layer.unit_of_work import PageKey, PageQuery


class _Listed(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=_Listed)


def key_of(row: object) -> PageKey:
    """The keyset position of ``row``: events by ``time``, the rest by ``created_at``."""
    when: datetime = row.time if isinstance(row, OutboxEvent) else row.created_at  # type: ignore[attr-defined]
    return PageKey(when, row.id)  # type: ignore[attr-defined]


def _tuple(key: PageKey) -> tuple[datetime, str]:
    return (key.created_at, key.id)


def sort_newest_first(rows: list[T]) -> list[T]:
    return sorted(rows, key=lambda r: _tuple(key_of(r)), reverse=True)


def sort_oldest_first(rows: list[T]) -> list[T]:
    return sorted(rows, key=lambda r: _tuple(key_of(r)))


def page_after(rows: Sequence[T], page: PageQuery, *, newest_first: bool) -> list[T]:
    """The first ``page.limit`` of already-sorted ``rows`` strictly after ``page.after``."""
    if page.after is not None:
        after = _tuple(page.after)
        if newest_first:
            rows = [r for r in rows if _tuple(key_of(r)) < after]
        else:
            rows = [r for r in rows if _tuple(key_of(r)) > after]
    return list(rows[: page.limit])
