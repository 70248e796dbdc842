"""Bug shapes that more than one store's port gets wrong the same way.

Why a module: the split outbox is one mistake whatever the store (the state change and
its outbox events in two commits), so its code is written once and mixed into each
backend's unit of work.
"""

from __future__ import annotations

from typing import Any

from reference_app.domain.model import OutboxEvent
from reference_app.service_layer.unit_of_work import Change, Insert


def is_event(change: Change) -> bool:
    """An outbox event's insert."""
    return isinstance(change, Insert) and isinstance(change.entity, OutboxEvent)


class SplitOutbox:
    """Mix in before a unit of work: ``_apply`` commits the state changes, then (in a
    commit of its own) their outbox events — "publish after saving". Every request
    answers as the atomic backend does; a process dying between the two commits leaves a
    state change without its event."""

    def _apply(self, changes: list[Change]) -> None:
        state = [c for c in changes if not is_event(c)]
        events = [c for c in changes if is_event(c)]
        parent: Any = super()
        for part in (state, events):
            if part:
                parent._apply(part)
