"""EventBridge transport: PutEvents on a custom bus (a rule forwards to SQS).

Why check ``FailedEntryCount``: PutEvents answers 200 even when an entry was refused (a
throttled or invalid entry comes back with an ``ErrorCode``); treating that as success
would silently lose the event, so it becomes :class:`PublishError` and the relay retries.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from reference_app.service_layer.ports import PublishError
from reference_app.settings import Settings


class EventBridgeTransport:
    name = "eventbridge"

    def __init__(self, client: Any, bus_name: str) -> None:
        self._client = client
        self.bus_name = bus_name

    @classmethod
    def from_settings(cls, settings: Settings) -> EventBridgeTransport:
        from reference_app.backends.dynamodb.session import shared_client

        if not settings.event_bus_name:
            raise ValueError(
                "the eventbridge transport needs event_bus_name (REFERENCE_APP_EVENT_BUS_NAME)"
            )
        return cls(shared_client("events", settings), settings.event_bus_name)

    def publish(self, envelope: dict[str, Any]) -> None:
        """One entry per event: ``Source``/``DetailType`` from the CloudEvent, ``Detail`` is
        the whole envelope so the consumer sees the same JSON as with SQS."""
        entry = {
            "EventBusName": self.bus_name,
            "Source": str(envelope["source"]),
            "DetailType": str(envelope["type"]),
            "Detail": json.dumps(envelope, sort_keys=True, separators=(",", ":")),
            "Resources": [],
        }
        try:
            response = self._client.put_events(Entries=[entry])
        except (BotoCoreError, ClientError) as exc:
            raise PublishError(f"EventBridge put_events failed: {exc}") from exc
        if response.get("FailedEntryCount", 0):
            failed = response.get("Entries", [{}])[0]
            raise PublishError(
                f"EventBridge refused the event: {failed.get('ErrorCode')}: "
                f"{failed.get('ErrorMessage')}"
            )
