"""Planted faults of the reference app's ports, caught by the port scenarios.

- ``sqs-dedup-by-subject`` — the SQS FIFO transport sends ``MessageDeduplicationId`` =
  the message group (the aggregate) instead of the event id: a tempting "one id per
  group" mistake. The broker then drops every later event of an aggregate for five
  minutes as a duplicate of its first; one event per aggregate, the happy path, passes.
  ``outbox-transports`` catches it on a moto server (memory as the reference).
"""

from __future__ import annotations

from typing import Any

from parity import Store, register_fault
from reference_app.transports.sqs import SqsTransport
from scenarios.ports.transports import Channel, QueueChannel, destinations, on_aws


class DedupByGroupClient:
    """An SQS client whose ``send_message`` de-duplicates on the message group."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def send_message(self, **kwargs: Any) -> Any:
        return self.inner.send_message(
            **{**kwargs, "MessageDeduplicationId": kwargs["MessageGroupId"]}
        )


def sqs_dedup_by_subject(store: Store) -> Channel:
    made = destinations(store)
    transport = SqsTransport(DedupByGroupClient(made.sqs), made.fifo_url)
    return QueueChannel(transport, made.sqs, made.fifo_url)


register_fault(
    "sqs-dedup-by-subject",
    "SQS FIFO deduplication id = the aggregate, not the event",
    on_aws(sqs_dedup_by_subject),
    scenarios=("outbox-transports",),
)
