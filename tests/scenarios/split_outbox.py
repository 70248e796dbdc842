"""A SQLite backend that is not atomic: state changes and outbox events in two commits.

The way a port that "publishes after saving" often starts. It answers exactly like the
real backend on every request; only a process dying between its two transactions shows
the difference (a card whose balance moved without its event). Registered as a planted
fault only by :mod:`tests.scenarios.crash_faults`, never by the selftest.
"""

from __future__ import annotations

from reference_app.backends.sql.unit_of_work import SqlUnitOfWork
from reference_app.backends.sqlite import SqliteBackend
from reference_app.domain.model import OutboxEvent
from reference_app.service_layer.unit_of_work import Change, Insert


def _is_event(change: Change) -> bool:
    return isinstance(change, Insert) and isinstance(change.entity, OutboxEvent)


class SplitOutboxUnitOfWork(SqlUnitOfWork):
    """Commits the state changes, then (in a transaction of its own) their events."""

    def _apply(self, changes: list[Change]) -> None:
        state = [c for c in changes if not _is_event(c)]
        events = [c for c in changes if _is_event(c)]
        for part in (state, events):
            if part:
                super()._apply(part)


class SplitOutboxBackend(SqliteBackend):
    name = "sqlite+split-outbox"

    def unit_of_work(self) -> SqlUnitOfWork:
        uow = SplitOutboxUnitOfWork(self.db, self.queries)
        uow.crash = self.crash
        return uow
