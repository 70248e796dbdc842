"""The capability matrix: what each engine can do, probed once at start, with evidence.

Scenarios declare what they rely on (``requires = {"transactions"}``); an engine found
lacking a capability lists it in ``engine.unsupported`` with the evidence, and every
scenario needing it is reported *unsupported* on that engine instead of failing for a
reason that is the emulator's, not the app's. The report shows the whole matrix — engine
by capability, each cell ``ok``, ``unsupported`` or ``not probed``, with what was seen.

Why a race probe: an emulator can implement ``TransactWriteItems`` and still not isolate
it. Stock ``moto_server`` checks a transaction's conditions and writes without a lock and
rolls a cancelled one back by restoring a copy of the table taken before it, erasing what
other transactions committed meanwhile: of 40 concurrent conditional transactions, the
committed ones' updates go missing; every race scenario would then diverge on moto's
account. Probing it
first names the cause once, before the scenarios do.

DynamoDB engines reuse their own probe (:meth:`DynamoDbEngine.detect_capabilities`:
conditional writes, transactions, cancellation reasons, TTL) and get three more here:
isolation under a race, strongly consistent reads and SQS FIFO queues on the endpoint.
Other kinds are listed ``not probed`` (their stores are the app's, not an emulator's).
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from parity.engines.base import Engine

#: capability -> what its probe checks (the matrix's column legend)
CAPABILITIES: dict[str, str] = {
    "conditional_writes": "PutItem with attribute_not_exists on an existing item is refused",
    "transactions": "TransactWriteItems is all-or-nothing when a condition fails",
    "cancellation_reasons": "a cancelled transaction names the item whose condition failed",
    "isolated_transactions": "40 concurrent conditional TransactWriteItems (half cancelled) "
    "lose no committed update",
    "consistent_reads": "GetItem with ConsistentRead sees a write just acknowledged",
    "ttl": "UpdateTimeToLive enables TTL (DescribeTimeToLive says so)",
    "fifo_queues": "an SQS FIFO queue keeps a message group's order and drops a duplicate id",
}
OK = "ok"
UNSUPPORTED = "unsupported"
NOT_PROBED = "not probed"
#: how many transactions race in the isolation probe, and how many rounds at most
RACERS = 40
ROUNDS = 4
#: items written to the race table first: moto copies the whole table at the start of a
#: transaction and restores that copy when it is cancelled, so a fuller table widens the
#: window in which a cancellation overwrites another racer's commit. On an empty table
#: stock moto showed a loss in about 1 round of 12; with 200 items in 4 of 6.
BALLAST = 200


@dataclass(frozen=True)
class Finding:
    status: str  # OK, UNSUPPORTED or NOT_PROBED
    evidence: str

    def to_dict(self) -> dict[str, str]:
        return {"status": self.status, "evidence": self.evidence}


def probe_capabilities(engine: Engine) -> dict[str, dict[str, str]]:
    """Probe a started engine; record what it lacks in ``engine.unsupported`` and return
    its matrix row (capability -> ``{"status", "evidence"}``)."""
    if getattr(engine, "kind", "") == "dynamodb" and hasattr(engine, "detect_capabilities"):
        row = _dynamodb_row(engine)
    else:
        why = f"no capability probe for {engine.kind} engines (the app's own store)"
        row = dict.fromkeys(CAPABILITIES, Finding(NOT_PROBED, why))
    for capability, finding in row.items():
        if finding.status == UNSUPPORTED:
            engine.unsupported.setdefault(capability, finding.evidence)
    return {capability: finding.to_dict() for capability, finding in row.items()}


def _dynamodb_row(engine: Any) -> dict[str, Finding]:
    label = engine.server_label()
    if not getattr(engine, "emulated", True):
        why = f"{label}: real AWS defines these capabilities (no probe tables, no cost)"
        return dict.fromkeys(CAPABILITIES, Finding(NOT_PROBED, why))
    if not engine.capabilities:  # engines that skip it at start (Parity's own moto, a URL)
        try:
            engine.detect_capabilities()
        except Exception as exc:  # no probe table: say so, let the scenarios show the rest
            why = f"{label}: the probe could not run ({type(exc).__name__}: {exc})"
            return dict.fromkeys(CAPABILITIES, Finding(NOT_PROBED, why))
    row: dict[str, Finding] = {}
    for capability in ("conditional_writes", "transactions", "cancellation_reasons", "ttl"):
        if engine.capabilities.get(capability) == OK:
            row[capability] = Finding(OK, f"{label}: {CAPABILITIES[capability]}")
        elif capability in engine.unsupported:
            row[capability] = Finding(UNSUPPORTED, engine.unsupported[capability])
        else:
            row[capability] = Finding(NOT_PROBED, f"{label}: transactions failed first")
    extra: dict[str, Callable[[Any, str], Finding]] = {
        "isolated_transactions": _isolated_transactions,
        "consistent_reads": _consistent_reads,
        "fifo_queues": _fifo_queues,
    }
    for capability, probe in extra.items():
        if capability == "isolated_transactions" and row["transactions"].status != OK:
            row[capability] = Finding(NOT_PROBED, f"{label}: no transactions to race")
            continue
        try:
            row[capability] = probe(engine, label)
        except Exception as exc:  # an emulator's odd answer is evidence, not a crash
            row[capability] = Finding(UNSUPPORTED, f"{label}: {type(exc).__name__}: {exc}")
    return {capability: row[capability] for capability in CAPABILITIES}


def _client(engine: Any, service: str, connections: int = 10) -> Any:
    """Like ``engine.client`` but with a connection pool as wide as the race."""
    import boto3
    from botocore.config import Config

    kwargs: dict[str, Any] = {"region_name": engine.region}
    if engine.endpoint_url:
        kwargs["endpoint_url"] = engine.endpoint_url
    if engine.emulated:
        kwargs.update(aws_access_key_id="testing", aws_secret_access_key="testing")
    config = Config(
        retries={"mode": "standard", "max_attempts": 1},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=connections,
    )
    session: Any = boto3.session.Session()
    return session.client(service, config=config, **kwargs)


@contextlib.contextmanager
def _probe_table(engine: Any, client: Any, what: str) -> Any:
    table = f"{engine.table_prefix}-{what}-{uuid.uuid4().hex[:6]}"
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        with contextlib.suppress(Exception):
            client.get_waiter("table_exists").wait(
                TableName=table, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50}
            )
        yield table
    finally:
        with contextlib.suppress(Exception):
            client.delete_table(TableName=table)


def _isolated_transactions(engine: Any, label: str) -> Finding:
    """40 threads released together, each a transaction that increments one shared
    counter and writes its own receipt if absent; half the receipts exist already, so
    half the transactions are cancelled (and roll back) while the others commit. Isolated:
    the counter equals the commits and every committed receipt is there. Up to
    :data:`ROUNDS` rounds (a race may hide in one), stopping at the first anomaly."""
    client = _client(engine, "dynamodb", connections=RACERS)
    tally = ""
    for _ in range(ROUNDS):
        with _probe_table(engine, client, "race-probe") as table:
            committed, counter, receipts, odd = _race_round(client, table)
        tally = (
            f"{committed} of {RACERS} committed ({RACERS // 2} expected), the counter "
            f"they increment reads {counter}, {receipts} of their receipts exist"
        )
        if odd:
            tally += f", other answers: {', '.join(odd)}"
        if not (committed == counter == receipts == RACERS // 2):
            return Finding(
                UNSUPPORTED,
                f"{label}: conditional TransactWriteItems not isolated under a {RACERS}-way "
                f"race: {tally}{_anomaly(committed, counter, receipts)}",
            )
    return Finding(OK, f"{label}: {ROUNDS} round(s) of a {RACERS}-way race: {tally}")


def _anomaly(committed: int, counter: int, receipts: int) -> str:
    """Name what the numbers show: commits that vanished, or cancelled writes that stayed."""
    said = []
    lost = committed - min(counter, receipts)
    if lost > 0:
        said.append(f"{lost} committed updates lost")
    if counter > committed:
        said.append(f"{counter - committed} cancelled updates applied")
    return f" ({', '.join(said)})" if said else ""


def _race_round(client: Any, table: str) -> tuple[int, int, int, list[str]]:
    """(commits, counter, committed receipts present, unexpected error codes)."""
    from botocore.exceptions import ClientError

    for start in range(0, BALLAST, 25):  # BatchWriteItem takes 25 at most
        batch = [
            {"PutRequest": {"Item": {"pk": {"S": f"ballast-{i}"}, "pad": {"S": "x" * 64}}}}
            for i in range(start, min(BALLAST, start + 25))
        ]
        client.batch_write_item(RequestItems={table: batch})
    counter_key = {"pk": {"S": "counter"}}
    client.put_item(TableName=table, Item={**counter_key, "n": {"N": "0"}})
    for i in range(1, RACERS, 2):  # odd racers' receipts exist: they are cancelled
        client.put_item(TableName=table, Item={"pk": {"S": f"receipt-{i}"}})
    barrier = threading.Barrier(RACERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def racer(i: int) -> None:
        items = [
            {
                "Update": {
                    "TableName": table,
                    "Key": counter_key,
                    "UpdateExpression": "SET n = n + :one",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
            {
                "Put": {
                    "TableName": table,
                    "Item": {"pk": {"S": f"receipt-{i}"}, "by": {"N": str(i)}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=30)
        try:
            client.transact_write_items(TransactItems=items)
            outcome = "committed"
        except ClientError as exc:
            outcome = str(exc.response.get("Error", {}).get("Code", "error"))
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    got = client.get_item(TableName=table, Key=counter_key, ConsistentRead=True)
    counter = int(got.get("Item", {}).get("n", {}).get("N", "0"))
    receipts = sum(
        1
        for i in range(0, RACERS, 2)
        if "Item"
        in client.get_item(TableName=table, Key={"pk": {"S": f"receipt-{i}"}}, ConsistentRead=True)
    )
    odd = sorted({o for o in outcomes if o not in ("committed", "TransactionCanceledException")})
    return outcomes.count("committed"), counter, receipts, odd


def _consistent_reads(engine: Any, label: str) -> Finding:
    from botocore.exceptions import ClientError

    client = _client(engine, "dynamodb")
    with _probe_table(engine, client, "read-probe") as table:
        for n in range(5):
            key = {"pk": {"S": f"k{n}"}}
            client.put_item(TableName=table, Item={**key, "n": {"N": str(n)}})
            try:
                got = client.get_item(TableName=table, Key=key, ConsistentRead=True)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                return Finding(UNSUPPORTED, f"{label}: ConsistentRead answered {code}")
            if got.get("Item", {}).get("n") != {"N": str(n)}:
                return Finding(UNSUPPORTED, f"{label}: a consistent read missed write {n}")
    return Finding(OK, f"{label}: 5 of 5 consistent reads saw the write just made")


def _fifo_queues(engine: Any, label: str) -> Finding:
    from botocore.exceptions import BotoCoreError, ClientError

    client = _client(engine, "sqs")
    name = f"{engine.table_prefix}-fifo-probe-{uuid.uuid4().hex[:6]}.fifo"
    try:
        url = client.create_queue(
            QueueName=name,
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
        )["QueueUrl"]
    except (ClientError, BotoCoreError) as exc:
        return Finding(UNSUPPORTED, f"{label}: no SQS FIFO queue here ({type(exc).__name__})")
    try:
        for body, dedup in (("1", "a"), ("2", "b"), ("1-again", "a"), ("3", "c")):
            client.send_message(
                QueueUrl=url, MessageBody=body, MessageGroupId="g", MessageDeduplicationId=dedup
            )
        seen: list[str] = []
        for _ in range(4):
            got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            for message in got.get("Messages", []):
                seen.append(message["Body"])
                client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if len(seen) >= 3:
                break
    finally:
        with contextlib.suppress(Exception):
            client.delete_queue(QueueUrl=url)
    if seen == ["1", "2", "3"]:
        return Finding(OK, f"{label}: one group delivered 1, 2, 3 in order; the duplicate dropped")
    return Finding(UNSUPPORTED, f"{label}: sent 1, 2, 1 (duplicate id), 3; received {seen}")
