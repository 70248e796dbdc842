"""Provisioning of the outbox's AWS destinations: SQS FIFO queue, EventBridge bus, a rule
forwarding the bus to an SQS queue. Create-if-absent, idempotent.

Why the rule targets a standard queue: EventBridge → FIFO targets need a per-target
``MessageGroupId`` (one group for the whole bus, which serialises everything); the FIFO
ordering guarantee is the ``sqs`` transport's job, the ``eventbridge`` path is for fan-out.
The queue policy lets ``events.amazonaws.com`` send only from this rule (real AWS
enforces it; emulators ignore it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from reference_app.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Destinations:
    queue_url: str  # FIFO queue for the sqs transport
    event_bus_name: str
    bus_target_queue_url: str  # standard queue the bus rule forwards to
    rule_name: str


def names(table_prefix: str) -> dict[str, str]:
    return {
        "fifo": f"{table_prefix}-events.fifo",
        "bus": f"{table_prefix}-bus",
        "bus_queue": f"{table_prefix}-bus-events",
        "rule": f"{table_prefix}-to-sqs",
    }


def ensure_fifo_queue(sqs: Any, name: str) -> str:
    return str(
        sqs.create_queue(
            QueueName=name,
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
        )["QueueUrl"]
    )


def ensure_bus_to_queue(
    events: Any, sqs: Any, bus: str, queue_name: str, rule: str, source: str
) -> tuple[str, str]:
    """Bus + rule (all events of ``source``) → standard queue. Returns (queue_url, arn)."""
    with contextlib.suppress(events.exceptions.ResourceAlreadyExistsException):
        events.create_event_bus(Name=bus)
    queue_url = str(sqs.create_queue(QueueName=queue_name)["QueueUrl"])
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    rule_arn = events.put_rule(
        Name=rule,
        EventBusName=bus,
        EventPattern=json.dumps({"source": [source]}),
        State="ENABLED",
    )["RuleArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "sqs", "Arn": queue_arn}])
    return queue_url, queue_arn


def ensure_destinations(settings: Settings) -> Destinations:
    """Create the FIFO queue, the bus, its rule and target queue for ``settings``."""
    from reference_app.backends.dynamodb.session import make_client

    n = names(settings.table_prefix)
    sqs = make_client("sqs", settings)
    events = make_client("events", settings)
    fifo_url = ensure_fifo_queue(sqs, n["fifo"])
    bus_queue_url, _ = ensure_bus_to_queue(
        events, sqs, n["bus"], n["bus_queue"], n["rule"], settings.event_source
    )
    return Destinations(fifo_url, n["bus"], bus_queue_url, n["rule"])


def delete_destinations(settings: Settings) -> None:
    """Remove what :func:`ensure_destinations` made (AWS engine cleanup); best effort."""
    from botocore.exceptions import ClientError

    from reference_app.backends.dynamodb.session import make_client

    n = names(settings.table_prefix)
    sqs = make_client("sqs", settings)
    events = make_client("events", settings)
    steps = [
        lambda: events.remove_targets(Rule=n["rule"], EventBusName=n["bus"], Ids=["sqs"]),
        lambda: events.delete_rule(Name=n["rule"], EventBusName=n["bus"]),
        lambda: events.delete_event_bus(Name=n["bus"]),
        lambda: sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=n["fifo"])["QueueUrl"]),
        lambda: sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=n["bus_queue"])["QueueUrl"]),
    ]
    for step in steps:
        try:
            step()
        except ClientError as exc:
            log.warning("cleanup step failed: %s", exc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Create the outbox's SQS queue and bus.")
    parser.add_argument("--endpoint-url", default=None)
    parser.add_argument("--region", default=None)
    parser.add_argument("--table-prefix", default=None)
    args = parser.parse_args(argv)
    settings = Settings.from_env(
        endpoint_url=args.endpoint_url, aws_region=args.region, table_prefix=args.table_prefix
    )
    dest = ensure_destinations(settings)
    print(f"REFERENCE_APP_QUEUE_URL={dest.queue_url}")
    print(f"REFERENCE_APP_EVENT_BUS_NAME={dest.event_bus_name}")
    print(f"# bus rule {dest.rule_name} -> {dest.bus_target_queue_url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
