"""The DynamoDB fast path of Parity's moto servers answers exactly like moto's own path.

Each request is sent twice, in the same order, to moto's stock WSGI app and to the same
app behind :class:`DynamoDbFastPath`, each on a table of its own: the status and the JSON
body must be equal (table names aside). The requests are the ones the reference app's
DynamoDB backend makes, including every error it maps (failed condition with the old
item, cancelled transaction with its reasons, validation errors).
"""

from __future__ import annotations

import io
import json
import sys
import threading
import uuid
from typing import Any

import pytest

pytest.importorskip("moto")

from parity.engines.moto_fast_path import DynamoDbFastPath, with_fast_path

AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host;x-amz-date;x-amz-target, Signature=0"
)


def _stock_app() -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


def _call(app: Any, operation: str, body: dict[str, Any] | bytes) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "5000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "CONTENT_TYPE": "application/x-amz-json-1.0",
        "CONTENT_LENGTH": str(len(data)),
        "HTTP_HOST": "127.0.0.1:5000",
        "HTTP_X_AMZ_TARGET": f"DynamoDB_20120810.{operation}",
        "HTTP_AUTHORIZATION": AUTH,
        "HTTP_X_AMZ_DATE": "20260101T000000Z",
    }
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        statuses.append(status)
        return lambda _: None

    payload = b"".join(app(environ, start_response))
    return int(statuses[0].split()[0]), json.loads(payload or b"{}")


def _requests(table: str) -> list[tuple[str, dict[str, Any]]]:
    def item(pk: str, sk: str, **extra: Any) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": sk}, **extra}

    key = {"pk": {"S": "CARD#1"}, "sk": {"S": "#CARD"}}
    put_version = {
        "TableName": table,
        "Item": item("CARD#1", "#CARD", version={"N": "2"}, balance={"N": "10"}),
        "ConditionExpression": "#version = :expected",
        "ExpressionAttributeNames": {"#version": "version"},
        "ExpressionAttributeValues": {":expected": {"N": "1"}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    return [
        ("PutItem", {"TableName": table, "Item": item("CARD#1", "#CARD", version={"N": "1"})}),
        ("GetItem", {"TableName": table, "Key": key, "ConsistentRead": True}),
        ("GetItem", {"TableName": table, "Key": {**key, "pk": {"S": "nope"}}}),
        ("PutItem", put_version),
        ("PutItem", put_version),  # the version moved on: ConditionalCheckFailed
        (
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": table, "Item": item("CARD#1", f"TXN#{i:03d}")}}
                    for i in range(5)
                ]
                + [{"Put": {**put_version, "Item": item("CARD#1", "#CARD", version={"N": "3"})}}],
                "ClientRequestToken": "token-1",
            },
        ),
        (
            "TransactWriteItems",  # cancelled: the second item's condition fails
            {
                "TransactItems": [
                    {"Put": {"TableName": table, "Item": item("CARD#1", "TXN#999")}},
                    {
                        "Put": {
                            "TableName": table,
                            "Item": item("CARD#1", "#CARD"),
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                ]
            },
        ),
        (
            "Query",
            {
                "TableName": table,
                "KeyConditionExpression": "pk = :pk AND sk BETWEEN :prefix AND :after",
                "ExpressionAttributeValues": {
                    ":pk": {"S": "CARD#1"},
                    ":prefix": {"S": "TXN#"},
                    ":after": {"S": "TXN#003"},
                },
                "ScanIndexForward": False,
                "ConsistentRead": True,
                "Limit": 2,
            },
        ),
        (
            "Query",
            {
                "TableName": table,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                "FilterExpression": "#v = :v",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {
                    ":pk": {"S": "CARD#1"},
                    ":prefix": {"S": "#"},
                    ":v": {"N": "2"},
                },
            },
        ),
        (
            "BatchGetItem",
            {
                "RequestItems": {
                    table: {
                        "Keys": [key, {"pk": {"S": "CARD#1"}, "sk": {"S": "TXN#001"}}],
                        "ConsistentRead": True,
                    }
                }
            },
        ),
        (
            "Scan",
            {
                "TableName": table,
                "ProjectionExpression": "pk, sk",
                "FilterExpression": "begins_with(pk, :prefix)",
                "ExpressionAttributeValues": {":prefix": {"S": "CARD#"}},
                "ConsistentRead": True,
            },
        ),
        (
            "BatchWriteItem",
            {
                "RequestItems": {
                    table: [
                        {
                            "DeleteRequest": {
                                "Key": {"pk": {"S": "CARD#1"}, "sk": {"S": f"TXN#{i:03d}"}}
                            }
                        }
                        for i in range(3)
                    ]
                }
            },
        ),
        (
            "DeleteItem",
            {
                "TableName": table,
                "Key": key,
                "ConditionExpression": "#token = :token",
                "ExpressionAttributeNames": {"#token": "token"},
                "ExpressionAttributeValues": {":token": {"S": "not-it"}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
        ),
        ("GetItem", {"TableName": table, "Key": {"pk": {"S": "CARD#1"}}}),  # validation
        ("GetItem", {"TableName": f"{table}-missing", "Key": key}),  # no such table
        ("PutItem", {"TableName": table, "Item": item("B", "1", blob={"B": "AAEC"})}),
        ("GetItem", {"TableName": table, "Key": {"pk": {"S": "B"}, "sk": {"S": "1"}}}),
        ("Scan", {"TableName": table}),
    ]


def _create(app: Any, table: str) -> None:
    status, body = _call(
        app,
        "CreateTable",
        {
            "TableName": table,
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    assert status == 200, body


def test_the_fast_path_answers_every_request_like_moto_itself() -> None:
    stock = _stock_app()
    fast = with_fast_path(stock, threading.RLock())
    assert isinstance(fast, DynamoDbFastPath)
    name = f"fastpath-{uuid.uuid4().hex[:8]}"
    tables = {"stock": f"{name}-stock", "fast": f"{name}-fast"}
    for table in tables.values():
        _create(stock, table)
    statuses = set()
    for (operation, via_stock), (_, via_fast) in zip(
        _requests(tables["stock"]), _requests(tables["fast"]), strict=True
    ):
        stock_status, stock_body = _call(stock, operation, via_stock)
        fast_status, fast_body = _call(fast, operation, via_fast)
        normalised = json.loads(json.dumps(fast_body).replace(tables["fast"], tables["stock"]))
        assert (fast_status, normalised) == (stock_status, stock_body), operation
        statuses.add(stock_status)
    assert statuses == {200, 400}  # both answers and errors were compared


def test_a_body_that_is_not_a_json_object_is_a_serialization_error() -> None:
    fast = with_fast_path(_stock_app(), threading.RLock())
    status, body = _call(fast, "GetItem", b"[1, 2]")
    assert status == 400
    assert body["__type"].endswith("SerializationException")


def test_other_operations_and_binary_values_take_motos_own_path() -> None:
    seen: list[str] = []

    def recording_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["HTTP_X_AMZ_TARGET"])
        start_response("200 OK", [])
        return [b"{}"]

    fast = with_fast_path(recording_app, threading.RLock())
    _call(fast, "DescribeTable", {"TableName": "t"})
    _call(fast, "GetItem", {"TableName": "t", "Key": {"pk": {"B": "AAEC"}}})
    assert seen == ["DynamoDB_20120810.DescribeTable", "DynamoDB_20120810.GetItem"]
