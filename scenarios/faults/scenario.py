"""Planted faults for the concurrency, idempotency and outbox scenarios.

Each one is a bug that passes every sequential, happy-path test and is visible only to
the rule family built for it — so each proves that family is worth its running time:

- ``interleaved-lost-update`` — the card write drops its version condition (a "last
  writer wins" put). Sequential calls never notice; two requests that read the same
  version and commit one after the other (a forced interleaving) lose an update.
- ``ttl-boundary`` — an idempotency record still counts as live at exactly
  ``created_at + TTL`` (``>`` where the contract says ``>=``): an expired key is
  honoured, but only at the boundary instant.
- ``outbox-retry-reorder`` — the pending-events query orders a subject's events by
  ``next_attempt_at`` (a tempting "due first" index) instead of by sequence, so after a
  failed publish the aggregate's later events overtake the one being retried.
- ``outbox-delete-early`` — the relay's row is removed from the outbox when it is taken
  for delivery, before the publish succeeded: a failed publish loses the event.

They wrap the memory backend's unit of work (see :mod:`scenarios.faults.base`) and are
registered the same way, so ``parity selftest`` and ``--backends fault:<name>`` know them.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from reference_app.domain.model import Card, DeliveryStatus, IdempotencyRecord, OutboxEvent
from reference_app.service_layer.unit_of_work import Change, Insert, PageQuery, Update
from scenarios.faults.base import WrappedUnitOfWork, plant


class UnconditionalCardWriteUoW(WrappedUnitOfWork):
    """Puts a card over whatever is stored now (no version condition) and puts its event
    over any event already at that (subject, sequence) — the DynamoDB ``PutItem``
    without ``ConditionExpression`` mistake. Only a stale write changes anything."""

    def _apply(self, changes: list[Change]) -> None:
        out: list[Change] = []
        for change in changes:
            if isinstance(change, Update) and isinstance(change.entity, Card):
                stored = self.inner.get_card(change.entity.id)
                if stored is not None:
                    change = Update(change.entity, stored.version)
            elif isinstance(change, Insert) and isinstance(change.entity, OutboxEvent):
                taken = {
                    e.sequence
                    for e in self.inner.list_events(
                        change.entity.subject, PageQuery(limit=1000, after=None)
                    )
                }
                if change.entity.sequence in taken:
                    continue  # "overwritten": the earlier event at that sequence stays
            out.append(change)
        self.inner._apply(out)


class TtlBoundaryUoW(WrappedUnitOfWork):
    """Reads idempotency records as expiring one microsecond later than stored."""

    def get_idempotency(self, scope: str) -> IdempotencyRecord | None:
        record = self.inner.get_idempotency(scope)
        if record is None:
            return None
        return dataclasses.replace(record, expires_at=record.expires_at + timedelta(microseconds=1))


class DueFirstOutboxUoW(WrappedUnitOfWork):
    """Pending events per subject sorted by when they are due, not by sequence."""

    def pending_events(self, limit: int) -> list[OutboxEvent]:
        rows = self.inner.pending_events(limit)
        return sorted(rows, key=lambda e: (e.subject, e.next_attempt_at or e.time, e.sequence))


class DeleteBeforePublishUoW(WrappedUnitOfWork):
    """A failed delivery still takes the row out of the outbox (as if it had been
    deleted when claimed): it is never retried."""

    def update_delivery(self, event: OutboxEvent, expected: OutboxEvent) -> None:
        if event.status == DeliveryStatus.PENDING:
            event = dataclasses.replace(event, status=DeliveryStatus.SENT)
        super().update_delivery(event, expected)


plant(
    "interleaved-lost-update",
    "card write without its version condition",
    uow=UnconditionalCardWriteUoW,
    scenarios=("concurrency",),
)
plant(
    "ttl-boundary",
    "idempotency key honoured at exactly its expiry",
    uow=TtlBoundaryUoW,
    scenarios=("idempotency",),
)
plant(
    "outbox-retry-reorder",
    "pending events ordered by due time after a retry",
    uow=DueFirstOutboxUoW,
    scenarios=("outbox",),
)
plant(
    "outbox-delete-early",
    "outbox row gone before its publish succeeded",
    uow=DeleteBeforePublishUoW,
    scenarios=("outbox",),
)
