"""A transport wrapper the harness can steer: planned failures, a record of deliveries.

In parity mode every real transport (SQS, EventBridge) is wrapped in this, so the outbox
scenarios drive retries and dead-lettering the same way on every broker, and check what
was delivered without reading the queue back.
"""

from __future__ import annotations

from typing import Any

from reference_app.service_layer.ports import PublishError, Transport
from reference_app.transports.memory import MemoryTransport


class ControlledTransport(MemoryTransport):
    """Fails where the schedule says so; otherwise publishes to ``inner`` and records."""

    def __init__(self, inner: Transport) -> None:
        super().__init__()
        self.inner = inner
        self.name = f"controlled:{inner.name}"

    def publish(self, envelope: dict[str, Any]) -> None:
        if self._planned_failure():
            raise PublishError("planned transport failure")
        self.inner.publish(envelope)  # a real PublishError propagates: the relay retries
        self._record(envelope)
