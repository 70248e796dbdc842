"""Deleting one namespace's items from the shared table.

Why a Scan: every partition key of a namespace starts with its prefix, but DynamoDB can
only look keys up by exact partition, so finding "everything under ``p_17|``" means reading
the table. The harness drops each example's namespace as soon as the example ends, so the
table only ever holds the examples still running and the Scan stays small. (Without the
drop, moto — which deep-copies a whole table per transaction for its rollback — got
slower with every example: 20 s per concurrency example after a few hundred.)
"""

from __future__ import annotations

from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError

from reference_app.backends.dynamodb.retry import call_with_retry
from reference_app.backends.dynamodb.unit_of_work import Store
from reference_app.service_layer.unit_of_work import BackendUnavailable

BATCH_WRITE_MAX = 25


def namespace_keys(store: Store) -> list[dict[str, Any]]:
    """Every (pk, sk) of the store's namespace, read consistently."""
    prefix = store.keys.prefix
    if not prefix:
        raise ValueError("refusing to drop a table's un-namespaced items")
    keys: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": store.table,
        "ProjectionExpression": "pk, sk",
        "FilterExpression": "begins_with(pk, :prefix)",
        "ExpressionAttributeValues": {":prefix": {"S": prefix}},
        "ConsistentRead": True,
    }
    while True:
        page = call_with_retry(store.retry, partial(store.client.scan, **request))
        keys += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return keys
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def drop_namespace(store: Store) -> int:
    """Delete every item of the store's namespace; return how many were deleted."""
    try:
        keys = namespace_keys(store)
        for start in range(0, len(keys), BATCH_WRITE_MAX):
            pending = [{"DeleteRequest": {"Key": k}} for k in keys[start : start + BATCH_WRITE_MAX]]
            attempt = 0
            while pending:
                response = call_with_retry(
                    store.retry,
                    partial(store.client.batch_write_item, RequestItems={store.table: pending}),
                )
                pending = response.get("UnprocessedItems", {}).get(store.table, [])
                if pending:
                    store.retry.backoff(attempt)
                    attempt += 1
    except BotoCoreError as exc:
        raise BackendUnavailable(f"DynamoDB unreachable: {exc}") from exc
    return len(keys)
