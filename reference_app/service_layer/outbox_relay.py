"""The outbox relay: publishes committed events, in order per aggregate, at least once.

Per subject (aggregate) only the lowest-sequence pending event may go out; a failed
publish schedules a retry (see :mod:`backoff`) and holds back that subject's later
events until it succeeds or is dead-lettered after ``max_attempts``, after which the
later events proceed. A crash between publish and mark-sent leaves the event pending,
so it is published again with the same id: consumers deduplicate on the id.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from itertools import groupby

from reference_app.domain.model import DeliveryStatus, OutboxEvent
from reference_app.service_layer.backoff import RetryPolicy
from reference_app.service_layer.ports import Clock, PublishError, Transport
from reference_app.service_layer.unit_of_work import Backend, CommitConflict


@dataclass
class RelayReport:
    published: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    dead_lettered: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "published": self.published,
            "failed": self.failed,
            "dead_lettered": self.dead_lettered,
        }


class OutboxRelay:
    def __init__(
        self,
        backend: Backend,
        transport: Transport,
        clock: Clock,
        policy: RetryPolicy,
        batch_size: int = 500,
    ) -> None:
        self.backend = backend
        self.transport = transport
        self.clock = clock
        self.policy = policy
        self.batch_size = batch_size

    def run_once(self) -> RelayReport:
        """Publish every event that is due now, respecting per-subject order."""
        report = RelayReport()
        with self.backend.unit_of_work() as uow:
            pending = uow.pending_events(self.batch_size)
        for _subject, chain in groupby(pending, key=lambda e: e.subject):
            for event in chain:
                if not self._deliver(event, report):
                    break  # this subject's head is not out yet: hold the rest back
        return report

    def _deliver(self, event: OutboxEvent, report: RelayReport) -> bool:
        """Try one event; True if the subject's next event may go next."""
        now = self.clock.now()
        if event.next_attempt_at is not None and event.next_attempt_at > now:
            return False
        attempts = event.attempts + 1
        try:
            self.transport.publish(event.envelope())
        except PublishError as exc:
            if attempts >= self.policy.max_attempts:
                updated = replace(
                    event, status=DeliveryStatus.DEAD, attempts=attempts, last_error=str(exc)
                )
                outcome = report.dead_lettered
            else:
                delay = self.policy.delay(event.id, attempts)
                updated = replace(
                    event,
                    attempts=attempts,
                    next_attempt_at=now + timedelta(seconds=delay),
                    last_error=str(exc),
                )
                outcome = report.failed
        else:
            updated = replace(
                event, status=DeliveryStatus.SENT, attempts=attempts, published_at=now
            )
            outcome = report.published
        with self.backend.unit_of_work() as uow:
            uow.update_delivery(updated, event)
            try:
                uow.commit()
            except CommitConflict:
                return False  # another relay handled it; it will be seen next run
        outcome.append(event.id)
        return updated.status != DeliveryStatus.PENDING
