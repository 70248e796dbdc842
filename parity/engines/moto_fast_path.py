"""A fast path for DynamoDB's data-plane requests in Parity's moto servers.

Why: measured on the 2-core CI machine (moto 5.2, one ``GetItem``, server CPU per request),
moto's generic request path costs several times what DynamoDB's own work does. In a
cProfile of 300 ``Query`` calls: backend lookup by host (``list_of_moto_modules`` lists
moto's package directory on every request) 22 %, ``setup_class`` (form and query-string
parsing of a JSON body, ``inspect.getmembers`` of the handler class) 20 %, Flask 15 %, the
model-driven response serialiser 9 %, a 52-character random request id 5 %; the query
itself 11 %.

What it does: a request whose ``X-Amz-Target`` names one of :data:`OPERATIONS` goes
straight to moto's own ``DynamoHandler`` method for it (moto's models, conditions,
expressions and exceptions, unchanged), under the engine's DynamoDB lock. Its body is
parsed with ``json.loads`` and its result written with ``json.dumps`` (the result is
already DynamoDB's wire JSON: moto itself answered with ``json.dumps`` before 5.1). Errors
are answered exactly as moto's ``call_action`` answers them.

Everything else takes moto's ordinary path: other operations and services (SQS,
EventBridge, table management), gzip bodies, any request or result holding a binary
attribute (``B``/``BS``: moto's serialiser base64-encodes those), and any result
``json.dumps`` cannot write. ``tests/dynamodb/test_moto_fast_path.py`` checks the two paths
answer the same to the requests the reference app makes.
"""

from __future__ import annotations

import binascii
import io
import json
import re
import secrets
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from http import HTTPStatus
from types import SimpleNamespace
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

TARGET_PREFIX = "DynamoDB_20120810."
#: data-plane operations (their answers hold items, keys and counts, never dates)
OPERATIONS = {
    "GetItem": "get_item",
    "PutItem": "put_item",
    "DeleteItem": "delete_item",
    "UpdateItem": "update_item",
    "Query": "query",
    "Scan": "scan",
    "BatchGetItem": "batch_get_item",
    "BatchWriteItem": "batch_write_item",
    "TransactGetItems": "transact_get_items",
    "TransactWriteItems": "transact_write_items",
}
#: a binary attribute value anywhere in a request body
_BINARY = re.compile(rb'"BS?"\s*:')
_CONTENT_TYPE = "application/x-amz-json-1.0"


def _answer(status: int, headers: dict[str, Any], body: str | bytes) -> tuple[int, dict, bytes]:
    """moto's ``amz_crc32`` and ``amzn_request_id`` headers on every answer."""
    payload = body.encode() if isinstance(body, str) else body
    headers = {k: v for k, v in headers.items() if k != "status"}
    headers.setdefault("Content-Type", _CONTENT_TYPE)
    headers["x-amzn-requestid"] = secrets.token_hex(26)
    headers["x-amz-crc32"] = str(binascii.crc32(payload))
    return status, headers, payload


class DynamoDbFastPath:
    """WSGI middleware in front of moto's app: see the module docstring."""

    def __init__(self, app: WsgiApp, lock: AbstractContextManager[Any]) -> None:
        from moto.dynamodb.responses import DynamoHandler

        self.app = app
        self.lock = lock
        self.handler_class = DynamoHandler
        #: only what this moto version implements (a later moto may rename a method)
        self.methods = {
            op: name
            for op, name in OPERATIONS.items()
            if callable(getattr(DynamoHandler, name, None))
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        method = (
            self.methods.get(target[len(TARGET_PREFIX) :])
            if target.startswith(TARGET_PREFIX)
            else None
        )
        if method is None or environ.get("HTTP_CONTENT_ENCODING"):
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read()
        if _BINARY.search(body):
            environ["wsgi.input"] = io.BytesIO(body)
            return self.app(environ, start_response)
        status, headers, payload = self.handle(environ, method, body)
        start_response(f"{status} {HTTPStatus(status).phrase}", list(headers.items()))
        return [payload]

    def handle(self, environ: dict[str, Any], method: str, body: bytes) -> tuple[int, dict, bytes]:
        """Run moto's handler method for one request; (status, headers, body)."""
        from moto.core.exceptions import ServiceException
        from moto.core.responses import ActionResult
        from werkzeug.datastructures import EnvironHeaders
        from werkzeug.exceptions import HTTPException

        handler = self.handler_class()
        handler.headers = EnvironHeaders(environ)
        handler.querystring = {}
        handler.uri_match = {}
        handler.method = environ["REQUEST_METHOD"]
        handler.response_headers = {"server": "amazon.com"}
        full_url = f"http://{environ.get('HTTP_HOST', '')}{environ.get('PATH_INFO', '/')}"
        handler.region = handler.get_region_from_url(
            SimpleNamespace(headers=handler.headers), full_url
        )
        handler.current_account = handler.get_current_account()
        try:
            handler.params = json.loads(body or b"{}")
        except ValueError:
            handler.params = None
        if not isinstance(handler.params, dict):
            error = self._serialization_error()
            return _answer(400, {"Content-Type": "application/json"}, error)
        handler.body = handler.params
        try:
            with self.lock:
                result = getattr(handler, method)()
        except ServiceException as exc:
            status, headers, text = handler.serialized(ActionResult(exc))
            return _answer(status, {**handler.response_headers, **headers}, text)
        except HTTPException as exc:  # moto's DynamoDB errors (JsonRESTError)
            headers = dict(exc.get_headers() or [])
            return _answer(
                int(exc.code or 500), {**handler.response_headers, **headers}, exc.description or ""
            )
        if not isinstance(result, ActionResult):  # an older-style answer: moto's own shaping
            status, headers, text = handler._transform_response(handler.response_headers, result)
            return _answer(status, headers, text)
        try:
            text = json.dumps(result.result)
        except (TypeError, ValueError):  # bytes (a binary attribute) or a date: moto's way
            status, headers, text = handler.serialized(result)
            return _answer(status, {**handler.response_headers, **headers}, text)
        return _answer(200, handler.response_headers, text)

    @staticmethod
    def _serialization_error() -> str:
        return json.dumps(
            {
                "__type": "com.amazon.coral.service#SerializationException",
                "message": "Start of structure or map found where not expected.",
            }
        )


def with_fast_path(app: WsgiApp, lock: AbstractContextManager[Any]) -> WsgiApp:
    """``app`` (moto's WSGI app) with DynamoDB's data plane answered directly."""
    return DynamoDbFastPath(app, lock)
