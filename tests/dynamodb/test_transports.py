"""SQS FIFO and EventBridge → SQS transports against moto, provisioned by the app's code."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from parity.engines.dynamodb import DynamoDbEngine
from reference_app.backends.dynamodb.session import make_client
from reference_app.domain.model import OutboxEvent
from reference_app.service_layer.ports import PublishError
from reference_app.settings import Settings
from reference_app.transports.eventbridge import EventBridgeTransport
from reference_app.transports.provisioning import Destinations, ensure_destinations
from reference_app.transports.registry import create_transport
from reference_app.transports.sqs import SqsTransport
from tests.dynamodb.factories import T0
from tests.engine_pool import engine_or_skip

pytestmark = pytest.mark.dynamodb


@pytest.fixture
def aws() -> tuple[Settings, Destinations]:
    engine = engine_or_skip("dynamodb@moto")
    assert isinstance(engine, DynamoDbEngine)
    settings = Settings(
        backend="dynamodb",
        endpoint_url=engine.endpoint_url,
        table_prefix=f"tr-{uuid.uuid4().hex[:8]}",
    )
    return settings, ensure_destinations(settings)


def envelope(eid: str, subject: str, sequence: int) -> dict[str, Any]:
    return OutboxEvent(
        eid, "urn:reference-app:ledger", "card.purchased", subject, T0, sequence, {"n": sequence}
    ).envelope()


def drain(sqs: Any, queue_url: str, expect: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for _ in range(20):
        got = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["MessageGroupId"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        for message in got:
            messages.append(message)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if len(messages) >= expect and not got:
            break
    return messages


def test_sqs_fifo_keeps_order_per_subject_and_dedupes_by_event_id(
    aws: tuple[Settings, Destinations],
) -> None:
    settings, dest = aws
    transport = create_transport(
        Settings(**{**vars(settings), "transport": "sqs", "queue_url": dest.queue_url})
    )
    assert isinstance(transport, SqsTransport) and transport.name == "sqs"
    sent = []
    for sequence in range(1, 6):
        for subject in ("crd_a", "crd_b"):
            sent.append(envelope(f"evt_{subject}_{sequence}", subject, sequence))
    for env in sent:
        transport.publish(env)
    transport.publish(sent[0])  # a relay retry: same event id, deduplicated by SQS
    messages = drain(make_client("sqs", settings), dest.queue_url, len(sent))
    bodies = [json.loads(m["Body"]) for m in messages]
    assert sorted(b["id"] for b in bodies) == sorted(e["id"] for e in sent)  # no duplicate
    for subject in ("crd_a", "crd_b"):
        group = [m for m in messages if m["Attributes"]["MessageGroupId"] == subject]
        assert [json.loads(m["Body"])["sequence"] for m in group] == [1, 2, 3, 4, 5]
    assert bodies[0] == next(e for e in sent if e["id"] == bodies[0]["id"])  # the CloudEvent


def test_sqs_errors_become_publish_errors(aws: tuple[Settings, Destinations]) -> None:
    settings, dest = aws
    missing = dest.queue_url.rsplit("/", 1)[0] + "/no-such-queue.fifo"
    transport = SqsTransport(make_client("sqs", settings), missing)
    with pytest.raises(PublishError):
        transport.publish(envelope("evt_1", "crd_a", 1))


def test_eventbridge_rule_delivers_to_sqs(aws: tuple[Settings, Destinations]) -> None:
    settings, dest = aws
    transport = create_transport(
        Settings(
            **{**vars(settings), "transport": "eventbridge", "event_bus_name": dest.event_bus_name}
        )
    )
    assert isinstance(transport, EventBridgeTransport)
    sent = envelope("evt_eb_1", "crd_a", 1)
    transport.publish(sent)
    messages = drain(make_client("sqs", settings), dest.bus_target_queue_url, 1)
    assert len(messages) == 1
    forwarded = json.loads(messages[0]["Body"])
    assert forwarded["detail"] == sent
    assert forwarded["source"] == sent["source"] and forwarded["detail-type"] == sent["type"]


class RefusingEvents:
    def put_events(self, **kwargs: Any) -> dict[str, Any]:
        return {
            "FailedEntryCount": 1,
            "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}],
        }


def test_eventbridge_failed_entries_become_publish_errors() -> None:
    transport = EventBridgeTransport(RefusingEvents(), "bus")
    with pytest.raises(PublishError, match="ThrottlingException"):
        transport.publish(envelope("evt_1", "crd_a", 1))


def test_registry_needs_destinations() -> None:
    with pytest.raises(ValueError, match="queue_url"):
        create_transport(Settings(transport="sqs"))
    with pytest.raises(ValueError, match="event_bus_name"):
        create_transport(Settings(transport="eventbridge"))
