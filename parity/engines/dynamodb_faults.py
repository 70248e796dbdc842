"""A fault-injecting HTTP proxy in front of a DynamoDB endpoint (``+throttle``,
``+stale``, ``+latency``, ``+ttl-lag``).

Why a proxy and not a botocore event hook: the app under test builds its own clients (in
any language); a proxy on 127.0.0.1 that the store's URL points at needs nothing from
the app, and the app's real SDK parses every injected reply. The proxy forwards each
request unchanged (its ``Host`` header too, so a signature still matches) and decides,
with :class:`parity.engines.dice.Dice` from the run's seed, whether to

- **throttle** a data-plane request: answer ``ProvisionedThroughputExceededException``,
  ``ThrottlingException`` or ``RequestLimitExceeded`` (``TransactWriteItems``: a
  ``TransactionCanceledException`` whose reasons say ``ThrottlingError``) *without*
  forwarding it, as DynamoDB refuses before applying. At most :data:`MAX_RUN` refusals
  in a row, so a client that retries (with backoff) always gets through, and one that
  does not fails visibly;
- answer an **eventually consistent read** (``GetItem``/``Query``/``Scan``/
  ``BatchGetItem`` without ``ConsistentRead``) with the answer the same read got before
  the latest write: a replica that has not caught up. Strongly consistent reads are
  never stale;
- **delay** a data-plane request by a seeded amount up to the configured maximum;
- **delete expired items** by their TTL attribute against the app's clock, some at once
  and some late or never (:mod:`parity.engines.dynamodb_ttl`).

Control-plane calls (``CreateTable``, ``DescribeTable``…) are never touched. Only plain
``http://`` endpoints can be proxied (emulators; not real AWS).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from parity.engines.background import BackgroundServer
from parity.engines.dice import Dice
from parity.engines.dynamodb_ttl import TtlSweeper, control_target, without_clock

#: requests that read or write items (everything else is left alone)
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
#: reads DynamoDB may answer from a replica that lags (``ConsistentRead`` absent or false)
EVENTUAL_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem"})
#: injected refusals in a row, at most: a client with more attempts than this gets through
MAX_RUN = 3
_THROTTLES = (
    ("com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", "throughput"),
    ("com.amazon.coral.availability#ThrottlingException", "rate of requests"),
    ("com.amazonaws.dynamodb.v20120810#RequestLimitExceeded", "account request limit"),
)
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
)


@dataclass(frozen=True)
class DynamoFaults:
    """What the proxy injects: shares of requests (0..1) and a latency ceiling."""

    throttle: float = 0.0
    stale: float = 0.0
    latency_ms: float = 0.0
    #: share of expired items TTL deletes (the rest lag: still returned)
    ttl_lag: float = 0.0

    def any(self) -> bool:
        return bool(self.throttle or self.stale or self.latency_ms or self.ttl_lag)


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class FaultProxy:
    """A threaded HTTP proxy to ``upstream`` injecting ``faults`` (see module docstring)."""

    def __init__(self, upstream: str, faults: DynamoFaults, seed: int) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"only a plain http:// endpoint can be proxied, not {upstream!r}")
        self.upstream = (parts.hostname, parts.port or 80)
        self.faults = faults
        self.dice = Dice(seed)
        #: what was injected, by kind (tests and reports read it)
        self.injected: dict[str, int] = {"throttle": 0, "stale": 0, "latency": 0}
        self._lock = threading.Lock()
        self._run = 0  # refusals in a row
        self._writes = 0  # successful writes so far: a read older than the last is stale
        self._seen: dict[str, tuple[int, Reply]] = {}
        self._local = threading.local()
        self._served: BackgroundServer | None = None
        #: ``+ttl-lag``'s deletions (its rolls use this proxy's dice, so they start over
        #: with each example like every other decision)
        self.ttl = (
            TtlSweeper(
                faults.ttl_lag,
                lambda stream: self.dice.roll(stream),
                self._upstream,
                self.injected,
            )
            if faults.ttl_lag
            else None
        )

    @property
    def url(self) -> str:
        assert self._served is not None, "proxy not started"
        port = self._served.port
        return f"http://127.0.0.1:{port}"

    def route(self, url: str) -> str:
        """Where a store whose endpoint is ``url`` (the upstream) should point: here."""
        return self.url

    def start(self) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: without TCP_NODELAY, Nagle's
            # algorithm and the client's delayed ACK hold the body back ~40 ms
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP]
                reply = proxy.handle(self.path, headers, body)
                self.send_response(reply.status)
                for key, value in reply.headers:
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: a run makes thousands of requests

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._served = BackgroundServer(server, "parity-dynamodb-faults")

    def new_example(self) -> None:
        """Start the decisions over for the next example (called when the engine hands
        out a namespace's store), so an example's replay meets the same faults as long
        as its requests come in the same order."""
        with self._lock:
            self.dice = Dice(self.dice.seed)
            self._run = 0
            self._seen.clear()
        if self.ttl is not None:
            self.ttl.new_example()

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop()
            self._served = None
            if self.ttl is not None:
                self.ttl.stopped()

    # --- deciding -------------------------------------------------------------------------

    def handle(self, path: str, headers: list[tuple[str, str]], body: bytes) -> Reply:
        target = next((v for k, v in headers if k.lower() == "x-amz-target"), "")
        operation = target.rpartition(".")[2]
        data = operation in READS or operation in WRITES
        now = self.ttl.before(headers) if self.ttl is not None and data else None
        headers = without_clock(headers)  # the app's time is for the proxy alone
        if not data:
            reply = self._forward(path, headers, body)
            if self.ttl is not None and reply.status == 200:
                self.ttl.control(operation, _json(body))
            return reply
        reply = self._handle_data(operation, path, headers, body)
        if now is not None and self.ttl is not None and reply.status == 200:
            self.ttl.after(operation, _json(body), _json(reply.body), headers, now)
        return reply

    def _handle_data(
        self, operation: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> Reply:
        if self.faults.latency_ms:
            delay = self.dice.roll("latency") * self.faults.latency_ms / 1000
            with self._lock:
                self.injected["latency"] += 1
            time.sleep(delay)
        refusal = self._maybe_throttle(operation, body)
        if refusal is not None:
            return refusal
        if operation in EVENTUAL_READS and self.faults.stale:
            return self._eventual_read(operation, path, headers, body)
        reply = self._forward(path, headers, body)
        if operation in WRITES and reply.status == 200:
            with self._lock:
                self._writes += 1
        return reply

    def _maybe_throttle(self, operation: str, body: bytes) -> Reply | None:
        if not self.faults.throttle:
            return None
        roll = self.dice.roll("throttle")
        with self._lock:
            if roll >= self.faults.throttle or self._run >= MAX_RUN:
                self._run = 0
                return None
            self._run += 1
            self.injected["throttle"] += 1
        return throttled(operation, body, self.dice.roll("throttle-kind"))

    def _eventual_read(
        self, operation: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> Reply:
        key = read_key(operation, body)
        if key is None:  # a strongly consistent read
            return self._forward(path, headers, body)
        with self._lock:
            seen = self._seen.get(key)
            writes = self._writes
        if seen is not None and seen[0] < writes and self.dice.roll("stale") < self.faults.stale:
            with self._lock:
                self.injected["stale"] += 1
            return seen[1]
        reply = self._forward(path, headers, body)
        if reply.status == 200:
            with self._lock:
                self._seen[key] = (writes, reply)
        return reply

    # --- forwarding -----------------------------------------------------------------------

    def _upstream(
        self, operation: str, request: dict[str, Any], headers: list[tuple[str, str]]
    ) -> tuple[int, dict[str, Any]]:
        """The proxy's own request upstream (the TTL sweeper's describes and deletes), with
        the app's request's credentials: emulators do not check the signature."""
        own = [(k, v) for k, v in headers if k.lower() != "x-amz-target"]
        own.append(("X-Amz-Target", control_target(operation)))
        reply = self._forward("/", own, json.dumps(request).encode())
        return reply.status, _json(reply.body)

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(*self.upstream, timeout=60)
            self._local.conn = conn
        return conn

    def _forward(self, path: str, headers: list[tuple[str, str]], body: bytes) -> Reply:
        for attempt in (1, 2):  # a kept-alive upstream connection may have been closed
            conn = self._connection()
            try:
                conn.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
                for key, value in headers:
                    conn.putheader(key, value)
                conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
                response = conn.getresponse()
                data = response.read()
                return Reply(response.status, list(response.getheaders()), data)
            except (ConnectionError, http.client.HTTPException):
                with contextlib.suppress(Exception):
                    conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def read_key(operation: str, body: bytes) -> str | None:
    """What identifies an eventually consistent read (``None`` for a consistent one)."""
    try:
        request: dict[str, Any] = json.loads(body or b"{}")
    except ValueError:
        return None
    if operation == "BatchGetItem":
        tables = request.get("RequestItems") or {}
        if any(spec.get("ConsistentRead") for spec in tables.values()):
            return None
    elif request.pop("ConsistentRead", False):
        return None
    return operation + json.dumps(request, sort_keys=True)


def throttled(operation: str, body: bytes, roll: float) -> Reply:
    """DynamoDB's refusal of ``operation`` for capacity (nothing was applied)."""
    if operation == "TransactWriteItems":
        try:
            count = len(json.loads(body or b"{}").get("TransactItems") or [])
        except ValueError:
            count = 1
        reasons = [{"Code": "ThrottlingError", "Message": "Throughput exceeds the limit"}]
        reasons += [{"Code": "None"}] * max(0, count - 1)
        error: dict[str, Any] = {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "message": "Transaction cancelled, please refer cancellation reasons for specific "
            "reasons [ThrottlingError" + ", None" * max(0, count - 1) + "]",
            "CancellationReasons": reasons,
        }
    else:
        kind, what = _THROTTLES[int(roll * len(_THROTTLES))]
        error = {"__type": kind, "message": f"parity +throttle: {what} exceeded"}
    headers = [
        ("Content-Type", "application/x-amz-json-1.0"),
        ("x-amzn-RequestId", "parity-throttle"),
    ]
    return Reply(400, headers, json.dumps(error).encode())
