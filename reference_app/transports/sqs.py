"""SQS FIFO transport: per-aggregate ordering and broker-side de-duplication.

Why FIFO with ``MessageGroupId = subject``: SQS FIFO delivers a group's messages in send
order, which is exactly the outbox's per-aggregate sequence order, while different
aggregates still flow in parallel. ``MessageDeduplicationId = event id`` makes a relay
retry within SQS's 5-minute window a no-op at the broker; consumers still dedupe on the
event id beyond that window (delivery is at-least-once).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from reference_app.service_layer.ports import PublishError
from reference_app.settings import Settings


class SqsTransport:
    name = "sqs"

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self.queue_url = queue_url

    @classmethod
    def from_settings(cls, settings: Settings) -> SqsTransport:
        from reference_app.backends.dynamodb.session import shared_client

        if not settings.queue_url:
            raise ValueError("the sqs transport needs queue_url (REFERENCE_APP_QUEUE_URL)")
        return cls(shared_client("sqs", settings), settings.queue_url)

    def publish(self, envelope: dict[str, Any]) -> None:
        """Send the CloudEvents JSON; any refusal becomes :class:`PublishError`."""
        try:
            self._client.send_message(
                QueueUrl=self.queue_url,
                MessageBody=json.dumps(envelope, sort_keys=True, separators=(",", ":")),
                MessageGroupId=str(envelope["subject"]),
                MessageDeduplicationId=str(envelope["id"]),
                MessageAttributes={
                    "ce_type": {"DataType": "String", "StringValue": str(envelope["type"])},
                },
            )
        except (BotoCoreError, ClientError) as exc:
            raise PublishError(f"SQS send_message failed: {exc}") from exc
