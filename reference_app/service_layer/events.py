"""Domain event construction: one CloudEvents envelope per aggregate state change."""

from __future__ import annotations

from typing import Any

from reference_app.domain.model import OutboxEvent
from reference_app.service_layer.context import Services


def new_event(
    svc: Services, event_type: str, subject: str, sequence: int, data: dict[str, Any]
) -> OutboxEvent:
    """An outbox event for aggregate ``subject`` at its new version ``sequence``."""
    now = svc.clock.now()
    return OutboxEvent(
        id=svc.ids.new_id("evt", now),
        source=svc.policies.event_source,
        type=f"ledger.{event_type}",
        subject=subject,
        time=now,
        sequence=sequence,
        data=data,
        next_attempt_at=now,
    )
