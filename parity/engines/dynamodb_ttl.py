"""``+ttl-lag``: DynamoDB TTL deletion, judged by the app's clock, lagging or early.

DynamoDB deletes an item some time after its TTL attribute (epoch seconds) is before the
service's clock: typically within days, never before. Until then the expired item is
still returned by every read. moto never deletes at all. An app is right under both only
if it decides expiry itself and never depends on *when* TTL deletes; this fault makes the
"when" vary, per item, from the run's seed:

- **lag**: a share of expired items is never deleted while the run lasts (reads keep
  returning them, as on moto);
- **early deletion**: the others are deleted as soon as their TTL attribute has passed, or
  a seeded time later (under a minute, or under a day), and the deletion lands just before
  one of the next few data requests — between an app's read of an expired record and its
  write that takes it over, too. An app whose TTL attribute is earlier than its own expiry
  (rounded down to the second, or set from the wrong timestamp) loses records it still
  considers live; one that trusts deletion meets the items that lag.

**Whose clock.** A parity-mode app runs on a manual clock that the engine cannot see, and
judging TTL by the wall clock would delete (or keep) items regardless of the time the app
is at. So the app tells it: every data request carries the app clock's current reading in
the ``X-Parity-Now`` header (RFC 3339), which the proxy takes off before forwarding. An app
that does not send it gets no TTL deletion, never a wrong one (the proxy counts such
requests and warns when it stops if it never saw the header). The reference app sends it
from its DynamoDB backend (``reference_app/backends/dynamodb/app_clock.py``).

**How.** The proxy learns each table's TTL attribute and key (``DescribeTimeToLive``,
``DescribeTable``, asked upstream once per table) and tracks every item with a TTL
attribute that a stamped request wrote (``PutItem``, ``BatchWriteItem``,
``TransactWriteItems``) or read; unstamped ones (the harness dropping a namespace in the
background) neither track nor roll the dice, so they cannot shift an example's fates.
Before forwarding a stamped data request it deletes each tracked item whose time has come
with a ``DeleteItem`` conditional on the TTL attribute still holding the value that expired
(an item rewritten since is left alone, as DynamoDB does).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)

HEADER = "x-parity-now"
#: a deleted item's lag after its TTL, in the app's seconds: at once, under a minute,
#: under a day (first roll below 1/2, below 3/4, else)
LAGS = (0.0, 60.0, 86_400.0)
#: the deletion lands before one of this many data requests after it is due
SWEEP_WINDOW = 3

_CONTROL = "DynamoDB_20120810."
_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})

#: forward(operation, body, headers) -> (status, parsed JSON body)
Forward = Callable[[str, dict[str, Any], list[tuple[str, str]]], tuple[int, dict[str, Any]]]


@dataclass
class _Table:
    ttl_attribute: str | None
    key_names: tuple[str, ...]


@dataclass
class _Item:
    table: str
    key: dict[str, Any]
    ttl: str  # the TTL attribute's N value as written
    expires: float  # the same, as epoch seconds
    lag: float | None  # seconds after expiry it is deleted; None: never (it lags)
    window: int  # stamped data requests it waits once due


def app_now(headers: list[tuple[str, str]]) -> float | None:
    """The app's clock from ``X-Parity-Now``, as epoch seconds (``None``: not sent)."""
    text = next((v for k, v in headers if k.lower() == HEADER), None)
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def without_clock(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() != HEADER]


class TtlSweeper:
    """Tracks items with a TTL attribute and deletes the ones whose time has come."""

    def __init__(
        self,
        share: float,
        roll: Callable[[str], float],
        forward: Forward,
        injected: dict[str, int],
    ) -> None:
        self.share = share
        #: the proxy's tally: ``ttl-delete`` (items deleted), ``ttl-lag`` (expired items
        #: that were returned by a read), ``ttl-unstamped`` (requests without the app's time)
        self.injected = injected
        injected.update({"ttl-delete": 0, "ttl-lag": 0, "ttl-unstamped": 0})
        self._roll = roll
        self._forward = forward
        self._tables: dict[str, _Table] = {}
        self._items: dict[tuple[str, str], _Item] = {}
        self._lock = threading.RLock()
        self.stamped = 0

    def new_example(self) -> None:
        with self._lock:
            self._items.clear()

    # --- the proxy's hooks ----------------------------------------------------------------

    def before(self, headers: list[tuple[str, str]]) -> float | None:
        """A data request is about to be forwarded: delete what is due by its time.
        The app's time it said (``None``: it said none)."""
        now = app_now(headers)
        with self._lock:
            if now is None:
                self.injected["ttl-unstamped"] += 1
                return None
            self.stamped += 1
            for name, item in list(self._items.items()):
                if item.lag is None or now <= item.expires or now < item.expires + item.lag:
                    continue
                if item.window > 0:
                    item.window -= 1
                    continue
                del self._items[name]
                self._delete(item, headers)
        return now

    def after(
        self,
        operation: str,
        request: dict[str, Any],
        response: dict[str, Any],
        headers: list[tuple[str, str]],
        now: float,
    ) -> None:
        """A request made at the app's ``now`` succeeded: track the items with a TTL
        attribute it wrote or read, and count the expired ones a read still returned."""
        with self._lock:
            for table, item in _items_of(operation, request, response):
                expires = self._track(table, item, headers)
                if expires is not None and expires < now and operation in _READS:
                    self.injected["ttl-lag"] += 1

    def stopped(self) -> None:
        if self.injected["ttl-unstamped"] and not self.stamped:
            log.warning(
                "+ttl-lag: no data request said the app's time (%s), so no item was "
                "deleted: see docs/engine-faults.md",
                HEADER,
            )

    def control(self, operation: str, request: dict[str, Any]) -> None:
        """A control-plane request went through: forget what it may have changed."""
        if operation in ("UpdateTimeToLive", "DeleteTable", "CreateTable", "UpdateTable"):
            with self._lock:
                self._tables.pop(str(request.get("TableName", "")), None)

    # --- inside ---------------------------------------------------------------------------

    def _track(
        self, table: str, item: dict[str, Any], headers: list[tuple[str, str]]
    ) -> float | None:
        """Track ``item``; its TTL as epoch seconds (``None``: it has none)."""
        info = self._table(table, headers)
        if info is None or info.ttl_attribute is None or not info.key_names:
            return None
        value = item.get(info.ttl_attribute, {}).get("N")
        if value is None or any(name not in item for name in info.key_names):
            return None
        try:
            expires = float(value)
        except ValueError:
            return None  # not a number: DynamoDB TTL ignores it too
        key = {name: item[name] for name in info.key_names}
        name = (table, json.dumps(key, sort_keys=True))
        known = self._items.get(name)
        if known is not None and known.ttl == value:
            return expires  # the same item again (read back, or completed, same expiry)
        # Streams named by the TTL value: an item's fate does not depend on unrelated
        # items before it, so an example shrunk to fewer calls keeps the fates it met.
        lag: float | None = None
        if self._roll(f"ttl-fate@{value}") < self.share:
            when = self._roll(f"ttl-when@{value}")
            ceiling = LAGS[0 if when < 0.5 else 1 if when < 0.75 else 2]
            lag = self._roll(f"ttl-lag@{value}") * ceiling
        window = int(self._roll(f"ttl-window@{value}") * SWEEP_WINDOW)
        self._items[name] = _Item(table, key, value, expires, lag, window)
        return expires

    def _table(self, table: str, headers: list[tuple[str, str]]) -> _Table | None:
        info = self._tables.get(table)
        if info is not None:
            return info
        status, ttl = self._forward("DescribeTimeToLive", {"TableName": table}, headers)
        if status != 200:
            return None
        spec = ttl.get("TimeToLiveDescription") or {}
        attribute = spec.get("AttributeName") if spec.get("TimeToLiveStatus") == "ENABLED" else None
        status, described = self._forward("DescribeTable", {"TableName": table}, headers)
        if status != 200:
            return None
        schema = (described.get("Table") or {}).get("KeySchema") or []
        info = _Table(attribute, tuple(str(part["AttributeName"]) for part in schema))
        self._tables[table] = info
        return info

    def _delete(self, item: _Item, headers: list[tuple[str, str]]) -> None:
        info = self._tables.get(item.table)
        if info is None or info.ttl_attribute is None:
            return
        request = {
            "TableName": item.table,
            "Key": item.key,
            "ConditionExpression": "#ttl = :ttl",
            "ExpressionAttributeNames": {"#ttl": info.ttl_attribute},
            "ExpressionAttributeValues": {":ttl": {"N": item.ttl}},
        }
        status, _ = self._forward("DeleteItem", request, headers)
        if status == 200:
            self.injected["ttl-delete"] += 1


def control_target(operation: str) -> str:
    return _CONTROL + operation


def _items_of(
    operation: str, request: dict[str, Any], response: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """(table, item) for every whole item a successful request wrote or returned."""
    table = str(request.get("TableName", ""))
    out: list[tuple[str, dict[str, Any]]] = []
    if operation == "PutItem":
        out.append((table, request.get("Item") or {}))
    elif operation == "BatchWriteItem":
        for name, writes in (request.get("RequestItems") or {}).items():
            out += [(name, w["PutRequest"]["Item"]) for w in writes if "PutRequest" in w]
    elif operation == "TransactWriteItems":
        for entry in request.get("TransactItems") or []:
            if "Put" in entry:
                out.append((str(entry["Put"].get("TableName", "")), entry["Put"].get("Item") or {}))
    elif operation == "GetItem" and response.get("Item"):
        out.append((table, response["Item"]))
    elif operation in ("Query", "Scan"):
        out += [(table, item) for item in response.get("Items") or []]
    elif operation == "BatchGetItem":
        for name, items in (response.get("Responses") or {}).items():
            out += [(name, item) for item in items]
    elif operation == "TransactGetItems":
        gets = request.get("TransactItems") or []
        for entry, got in zip(gets, response.get("Responses") or [], strict=False):
            if got.get("Item"):
                out.append((str(entry.get("Get", {}).get("TableName", "")), got["Item"]))
    return out
