"""The outbox transports in lockstep, as a consumer sees them: memory, SQS FIFO, and
EventBridge → SQS, the AWS ones on a moto server.

The port is the relay's ``Transport.publish`` plus the consumer on the far side.
:class:`Channel` is that pair for one transport: ``publish`` an envelope (planned
failures first, as the relay's retries meet them), and ``consume`` what arrived the way
the app's consumers read it — at least once, so de-duplicated on the event id — grouped
by message group (the aggregate, ``subject``) in arrival order. So the scenario asks of
every transport: after publishes, failures and re-publishes (a relay that crashed after
the broker took the event sends it again), does a consumer see the same events, each
once, in the same order per aggregate — also after a consumer died holding messages it
had not acknowledged?
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections import deque
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from parity import Implementation, PortMachine, Store, precondition, register, rule
from reference_app.service_layer.ports import PublishError, Transport
from reference_app.transports.eventbridge import EventBridgeTransport
from reference_app.transports.memory import MemoryTransport
from reference_app.transports.sqs import SqsTransport
from scenarios.binding import ReferenceBinding

BINDING = ReferenceBinding(transport="memory")
#: the engine whose server answers SQS and EventBridge too
AWS = "dynamodb@moto-server"
SUBJECTS = ("card_a", "card_b", "card_c")


class Channel:
    """One transport and a de-duplicating consumer of what it delivered."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.planned: deque[bool] = deque()
        self.seen: set[str] = set()

    def fail_next(self, count: int) -> None:
        """The next ``count`` publishes fail before reaching the broker."""
        self.planned.extend([True] * count)

    def publish(self, envelope: dict[str, Any]) -> None:
        if self.planned and self.planned.popleft():
            raise PublishError("planned transport failure")
        self.transport.publish(envelope)

    def consume(self) -> dict[str, list[list[Any]]]:
        """Every new event since the last ``consume``: subject → [[sequence, id], …] in
        arrival order, each event once."""
        out: dict[str, list[list[Any]]] = {}
        for envelope in self.receive():
            if envelope["id"] in self.seen:
                continue
            self.seen.add(envelope["id"])
            out.setdefault(str(envelope["subject"]), []).append(
                [envelope["sequence"], envelope["id"]]
            )
        return out

    def crash_while_consuming(self) -> None:
        """A consumer takes what arrived and dies before acknowledging any of it: every
        message must come again. (In memory nothing is taken until ``consume``.)"""

    def receive(self) -> list[dict[str, Any]]:
        """What arrived since the last call, duplicates included."""
        if isinstance(self.transport, MemoryTransport):
            arrived = list(self.transport.deliveries)
            self.transport.deliveries.clear()
            return arrived
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to remove for an in-process transport."""


class QueueChannel(Channel):
    """A transport whose consumer reads an SQS queue (FIFO, or the bus's target)."""

    def __init__(self, transport: Transport, sqs: Any, queue_url: str) -> None:
        super().__init__(transport)
        self.sqs = sqs
        self.queue_url = queue_url

    def receive(self) -> list[dict[str, Any]]:
        arrived: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not batch:
                return arrived
            for message in batch:
                body = json.loads(message["Body"])
                # EventBridge wraps the envelope: the event's ``detail`` is the envelope
                arrived.append(body["detail"] if "detail-type" in body else body)
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)
                ],
            )

    def crash_while_consuming(self) -> None:
        # visible again at once (timeout 0), as after the consumer's visibility timeout
        self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        )

    def close(self) -> None:
        """Leave the queue empty for the next example."""
        self.receive()


@dataclass(frozen=True)
class Destinations:
    sqs: Any
    events: Any
    fifo_url: str
    bus: str
    bus_queue_url: str


#: the queues and bus made on each server (by endpoint), shared by its examples: making
#: them per example costs seconds (a bus, a rule, a policy, targets), draining them
#: between examples one call
_MADE: dict[str | None, Destinations] = {}


def prepare_aws(store: Store) -> None:
    """Once per server: the FIFO queue, and the bus whose rule forwards to a queue."""
    from reference_app.backends.dynamodb.session import shared_client
    from reference_app.transports.provisioning import (
        ensure_bus_to_queue,
        ensure_fifo_queue,
        names,
    )

    settings = BINDING.store_settings(store, table_prefix="parity-ports")
    sqs, events = shared_client("sqs", settings), shared_client("events", settings)
    n = names(settings.table_prefix)
    bus_queue_url, _ = ensure_bus_to_queue(
        events, sqs, n["bus"], n["bus_queue"], n["rule"], settings.event_source
    )
    fifo_url = ensure_fifo_queue(sqs, n["fifo"])
    _MADE[store.url] = Destinations(sqs, events, fifo_url, n["bus"], bus_queue_url)


def destinations(store: Store) -> Destinations:
    """What :func:`prepare_aws` made on ``store``'s server."""
    return _MADE[store.url]


def sqs_fifo(store: Store) -> Channel:
    made = destinations(store)
    return QueueChannel(SqsTransport(made.sqs, made.fifo_url), made.sqs, made.fifo_url)


def eventbridge_sqs(store: Store) -> Channel:
    made = destinations(store)
    transport = EventBridgeTransport(made.events, made.bus)
    return QueueChannel(transport, made.sqs, made.bus_queue_url)


def on_aws(build: Any) -> Implementation:
    return Implementation(build, engine=AWS, isolation="app", prepare=prepare_aws)


#: event ids unique in this process: a FIFO queue shared by examples remembers every
#: deduplication id for five minutes, so an id must never come back in a later example
_EVENT_IDS = itertools.count(1)


@register
class TransportParity(PortMachine):
    """Publish, fail, re-publish, consume: the same events, once each, in order per
    aggregate, on every transport."""

    scenario = "outbox-transports"
    port_name = "transport"
    implementations = {
        "memory": lambda: Channel(MemoryTransport()),
        "sqs-fifo": on_aws(sqs_fifo),
        "eventbridge-sqs": on_aws(eventbridge_sqs),
    }
    errors = {PublishError: "publish-failed"}

    def __init__(self) -> None:
        super().__init__()
        self.sequences: dict[str, int] = {}
        self.published: list[dict[str, Any]] = []
        #: the event whose publish failed: the relay's next publish is this one again
        self.retry: dict[str, Any] | None = None

    def envelope(self, subject: str) -> dict[str, Any]:
        sequence = self.sequences.get(subject, 0) + 1
        self.sequences[subject] = sequence
        return {
            "specversion": "1.0",
            "id": f"evt_{next(_EVENT_IDS):026d}",
            "source": "urn:reference-app:ledger",
            "type": "card.changed",
            "subject": subject,
            "time": "2026-01-01T00:00:00.000000Z",
            "datacontenttype": "application/json",
            "sequence": sequence,
            "data": {"sequence": sequence},
        }

    @rule(subject=st.sampled_from(SUBJECTS))
    def publish(self, subject: str) -> None:
        """The relay publishes the next event (or retries the one that failed)."""
        envelope = self.retry or self.envelope(subject)
        try:
            self.port.publish(envelope)
        except PublishError:
            self.retry = envelope
            return
        self.retry = None
        self.published.append(envelope)

    @rule(count=st.integers(1, 2))
    def fail_next(self, count: int) -> None:
        self.port.fail_next(count)

    @precondition(lambda self: bool(self.published))
    @rule(data=st.data())
    def republish(self, data: st.DataObject) -> None:
        """A relay that crashed after the broker took an event sends it again."""
        envelope = data.draw(st.sampled_from(self.published[-3:]))
        with contextlib.suppress(PublishError):
            self.port.publish(envelope)

    @rule()
    def crash_while_consuming(self) -> None:
        self.port.crash_while_consuming()

    @rule()
    def consume(self) -> None:
        self.port.consume()
