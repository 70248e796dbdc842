"""The two speed patches the moto engines apply, checked against the engines themselves:
the keyed transaction rollback restores exactly what moto's deep copy would, and dropping
a namespace deletes its items and nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from reference_app.backends.dynamodb import DynamoDbBackend
from tests.dynamodb.conftest import MakeBackend


def _item(pk: str, sk: str, value: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, "v": {"S": value}}


def _all(backend: DynamoDbBackend) -> list[tuple[str, str, str]]:
    """The backend namespace's items (the table is shared by every test's namespace)."""
    items = backend.client.scan(TableName=backend.table, ConsistentRead=True)["Items"]
    rows = ((i["pk"]["S"], i["sk"]["S"], i.get("v", {}).get("S", "")) for i in items)
    return sorted(row for row in rows if row[0].startswith(backend.store.keys.prefix))


def test_a_cancelled_transaction_leaves_every_named_item_as_it_was(
    backend: DynamoDbBackend,
) -> None:
    prefix = backend.store.keys.prefix
    client, table = backend.client, backend.table
    client.put_item(TableName=table, Item=_item(f"{prefix}A", "1", "old-a"))
    client.put_item(TableName=table, Item=_item(f"{prefix}C", "1", "old-c"))
    before = _all(backend)
    with pytest.raises(ClientError) as info:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": _item(f"{prefix}B", "1", "new-b")}},
                {"Put": {"TableName": table, "Item": _item(f"{prefix}A", "1", "new-a")}},
                {"Put": {"TableName": table, "Item": _item(f"{prefix}A", "2", "new-a2")}},
                {
                    "Delete": {
                        "TableName": table,
                        "Key": {"pk": {"S": f"{prefix}C"}, "sk": {"S": "1"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": f"{prefix}missing"}, "sk": {"S": "1"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    assert info.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _all(backend) == before


def test_a_successful_transaction_still_applies_every_write(backend: DynamoDbBackend) -> None:
    prefix = backend.store.keys.prefix
    client, table = backend.client, backend.table
    client.put_item(TableName=table, Item=_item(f"{prefix}C", "1", "old-c"))
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": _item(f"{prefix}B", "1", "new-b")}},
            {"Delete": {"TableName": table, "Key": {"pk": {"S": f"{prefix}C"}, "sk": {"S": "1"}}}},
        ]
    )
    assert _all(backend) == [(f"{prefix}B", "1", "new-b")]


def test_dropping_a_namespace_deletes_its_items_and_no_others(make_backend: MakeBackend) -> None:
    dropped, kept = make_backend(), make_backend()
    for backend in (dropped, kept):
        for i in range(30):  # more than one BatchWriteItem (25 per call)
            backend.client.put_item(
                TableName=backend.table,
                Item=_item(f"{backend.store.keys.prefix}P{i}", "1", "x"),
            )
    kept_before = _all(kept)
    assert len(kept_before) == 30
    assert len(_all(dropped)) == 30
    dropped.drop_namespace()
    assert _all(dropped) == []
    assert _all(kept) == kept_before


def test_moto_keeps_neither_dead_items_nor_empty_partitions() -> None:
    """Memory stays flat over a long run: deleted items are not remembered by moto's
    instance tracking, and a partition whose last item is gone (or that a GetItem of a
    missing key touched) is dropped."""
    pytest.importorskip("moto")
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import Item

    from tests.engine_pool import engine_or_skip, fresh_namespace, settings_for

    engine = engine_or_skip("dynamodb@moto")  # in this process: its tables can be inspected
    backend = DynamoDbBackend(settings_for(engine, fresh_namespace()))
    prefix = backend.store.keys.prefix
    client, table = backend.client, backend.table
    for i in range(20):
        client.put_item(TableName=table, Item=_item(f"{prefix}P{i}", "1", "x"))
        client.get_item(TableName=table, Key={"pk": {"S": f"{prefix}missing{i}"}, "sk": {"S": "1"}})
    backend.drop_namespace()
    partitions = dynamodb_backends["123456789012"][backend.settings.aws_region].tables[table].items
    assert [k for k in partitions if str(k.value).startswith(prefix)] == []
    assert len(Item.instances_tracked) == 0  # type: ignore[attr-defined]
