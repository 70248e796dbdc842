"""Keys and item <-> entity conversion for the single-table design (see ../DYNAMODB.md).

Why plain strings for timestamps: :func:`format_ts` is fixed width, so the text order of
``{created_at}#{id}`` sort keys is exactly the (created_at, id) order every backend lists
by. Integers are DynamoDB numbers; event ``data`` and response headers are stored as JSON
text so nested values round-trip losslessly (no Decimal/float drift).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from reference_app.domain.model import (
    Card,
    CardRequest,
    CardRequestStatus,
    CardStatus,
    DeliveryStatus,
    Entity,
    IdempotencyRecord,
    IdempotencyState,
    OutboxEvent,
    Transaction,
    TransactionType,
    User,
)
from reference_app.domain.timefmt import format_ts, parse_ts

Item = dict[str, Any]  # low-level attribute-value map
Key = dict[str, Any]

_SER = TypeSerializer()
_DESER = TypeDeserializer()

SEQ_WIDTH = 12


def _seq(sequence: int) -> str:
    return f"{sequence:0{SEQ_WIDTH}d}"


def sort_part(when: datetime, entity_id: str) -> str:
    """``{ts}#{id}``: sorts like the tuple (when, id)."""
    return f"{format_ts(when)}#{entity_id}"


@dataclass(frozen=True)
class Keys:
    """Every key of one namespace. The namespace is a prefix on every partition key, so
    isolating a test costs no new table; dropping one is a Scan on the prefix
    (``cleanup.py``)."""

    namespace: str = ""

    @property
    def prefix(self) -> str:
        return f"{self.namespace}|" if self.namespace else ""

    def _k(self, pk: str, sk: str) -> Key:
        return {"pk": {"S": self.prefix + pk}, "sk": {"S": sk}}

    def pk(self, partition: str) -> str:
        return self.prefix + partition

    # main items -------------------------------------------------------------------
    def user(self, user_id: str) -> Key:
        return self._k(f"USER#{user_id}", "#USER")

    def email(self, email: str) -> Key:
        return self._k(f"EMAIL#{email}", "#EMAIL")

    def card_request(self, request_id: str) -> Key:
        return self._k(f"CREQ#{request_id}", "#CREQ")

    def card(self, card_id: str) -> Key:
        return self._k(f"CARD#{card_id}", "#CARD")

    def transaction(self, txn: Transaction) -> Key:
        return self._k(f"CARD#{txn.card_id}", "TXN#" + sort_part(txn.created_at, txn.id))

    def event(self, event: OutboxEvent) -> Key:
        return self._k(f"EVT#{event.subject}", "T#" + sort_part(event.time, event.id))

    def event_sequence(self, subject: str, sequence: int) -> Key:
        return self._k(f"EVT#{subject}", "SEQ#" + _seq(sequence))

    def idempotency(self, scope: str) -> Key:
        return self._k(f"IDEM#{scope}", "#IDEM")

    # listing pointers (write-once, point at a main item) ------------------------------
    def user_card_pointer(self, card: Card) -> Key:
        return self._k(f"USER#{card.user_id}", "CARD#" + sort_part(card.created_at, card.id))

    def all_cards_pointer(self, card: Card) -> Key:
        return self._k("CARDS", sort_part(card.created_at, card.id))

    def user_request_pointer(self, req: CardRequest) -> Key:
        return self._k(f"USER#{req.user_id}", "CREQ#" + sort_part(req.created_at, req.id))

    def all_requests_pointer(self, req: CardRequest) -> Key:
        return self._k("CREQS", sort_part(req.created_at, req.id))

    def all_events_pointer(self, event: OutboxEvent) -> Key:
        return self._k("EVENTS", sort_part(event.time, event.id))

    def pending_pointer(self, event: OutboxEvent) -> Key:
        return self._k("PENDING", f"{event.subject}#{_seq(event.sequence)}")


# --- attribute values --------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_ts(value)
    if hasattr(value, "value") and isinstance(value.value, str):  # str enums
        return value.value
    return value


def to_attrs(values: dict[str, Any]) -> Item:
    """Serialize, dropping ``None`` (absent attribute == null field)."""
    return {k: _SER.serialize(_plain(v)) for k, v in values.items() if v is not None}


def from_attrs(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in item.items():
        value = _DESER.deserialize(v)
        if isinstance(value, Decimal):
            value = int(value)
        out[k] = value
    return out


def _ts(values: dict[str, Any], name: str) -> datetime | None:
    raw = values.get(name)
    return parse_ts(raw) if raw is not None else None


def _req_ts(values: dict[str, Any], name: str) -> datetime:
    return parse_ts(values[name])


def pointer_item(key: Key, target: Key, kind: str) -> Item:
    """A listing pointer: its own key plus the key of the main item it lists."""
    return {**key, "kind": {"S": kind}, "tpk": target["pk"], "tsk": target["sk"]}


def target_of(pointer: Item) -> Key:
    return {"pk": pointer["tpk"], "sk": pointer["tsk"]}


# --- entities ----------------------------------------------------------------------------


def entity_key(keys: Keys, entity: Entity) -> Key:
    if isinstance(entity, User):
        return keys.user(entity.id)
    if isinstance(entity, CardRequest):
        return keys.card_request(entity.id)
    if isinstance(entity, Card):
        return keys.card(entity.id)
    if isinstance(entity, Transaction):
        return keys.transaction(entity)
    return keys.event(entity)


def entity_item(keys: Keys, entity: Entity) -> Item:
    """The main item of ``entity``: key + ``kind`` + every field."""
    key = entity_key(keys, entity)
    fields: dict[str, Any]
    if isinstance(entity, OutboxEvent):
        fields = {
            "kind": "event",
            "id": entity.id,
            "source": entity.source,
            "type": entity.type,
            "subject": entity.subject,
            "time": entity.time,
            "sequence": entity.sequence,
            "data": json.dumps(entity.data, separators=(",", ":")),
            "status": entity.status,
            "attempts": entity.attempts,
            "next_attempt_at": entity.next_attempt_at,
            "last_error": entity.last_error,
            "published_at": entity.published_at,
        }
    else:
        fields = {"kind": type(entity).__name__.lower(), **vars(entity)}
    return {**key, **to_attrs(fields)}


def entity_from_item(item: Item) -> Entity:
    v = from_attrs(item)
    kind = v["kind"]
    if kind == "user":
        return User(
            id=v["id"],
            name=v["name"],
            email=v["email"],
            score=v["score"],
            created_at=_req_ts(v, "created_at"),
            version=v["version"],
        )
    if kind == "cardrequest":
        return CardRequest(
            id=v["id"],
            user_id=v["user_id"],
            status=CardRequestStatus(v["status"]),
            credit_limit_cents=v["credit_limit_cents"],
            card_id=v.get("card_id"),
            created_at=_req_ts(v, "created_at"),
            decided_at=_ts(v, "decided_at"),
            version=v["version"],
        )
    if kind == "card":
        return Card(
            id=v["id"],
            user_id=v["user_id"],
            request_id=v["request_id"],
            status=CardStatus(v["status"]),
            credit_limit_cents=v["credit_limit_cents"],
            balance_cents=v["balance_cents"],
            created_at=_req_ts(v, "created_at"),
            updated_at=_req_ts(v, "updated_at"),
            version=v["version"],
        )
    if kind == "transaction":
        return Transaction(
            id=v["id"],
            card_id=v["card_id"],
            user_id=v["user_id"],
            type=TransactionType(v["type"]),
            amount_cents=v["amount_cents"],
            description=v.get("description"),
            balance_after_cents=v["balance_after_cents"],
            created_at=_req_ts(v, "created_at"),
        )
    if kind == "event":
        return OutboxEvent(
            id=v["id"],
            source=v["source"],
            type=v["type"],
            subject=v["subject"],
            time=_req_ts(v, "time"),
            sequence=v["sequence"],
            data=json.loads(v["data"]),
            status=DeliveryStatus(v["status"]),
            attempts=v["attempts"],
            next_attempt_at=_ts(v, "next_attempt_at"),
            last_error=v.get("last_error"),
            published_at=_ts(v, "published_at"),
        )
    raise ValueError(f"not an entity item: kind={kind!r}")


def ttl_seconds(expires_at: datetime) -> int:
    """``expires_at`` as DynamoDB TTL's epoch seconds, rounded *up*.

    TTL may delete an item as soon as its TTL attribute is before the service's clock.
    Rounded down (``int()``), a record expiring at ``…:05.5`` would be deletable from
    ``…:05.000001`` on, while the app still replays from it: a retry within the TTL
    would run the purchase twice (``+ttl-lag`` deletes that early; moto never deletes).
    """
    return math.ceil(expires_at.timestamp())


def idempotency_item(keys: Keys, record: IdempotencyRecord) -> Item:
    """The record plus ``ttl`` (epoch seconds of ``expires_at``, rounded up) for DynamoDB
    TTL, which deletes expired records lazily (within days on AWS, never on moto): the
    service, not TTL, decides expiry."""
    fields = {
        "kind": "idempotency",
        "scope": record.scope,
        "fingerprint": record.fingerprint,
        "state": record.state,
        "token": record.token,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "locked_at": record.locked_at,
        "status_code": record.status_code,
        "response_body": record.response_body,
        "response_headers": json.dumps(record.response_headers),
        "ttl": ttl_seconds(record.expires_at),
    }
    return {**keys.idempotency(record.scope), **to_attrs(fields)}


def idempotency_from_item(item: Item) -> IdempotencyRecord:
    v = from_attrs(item)
    return IdempotencyRecord(
        scope=v["scope"],
        fingerprint=v["fingerprint"],
        state=IdempotencyState(v["state"]),
        token=v["token"],
        created_at=_req_ts(v, "created_at"),
        expires_at=_req_ts(v, "expires_at"),
        locked_at=_req_ts(v, "locked_at"),
        status_code=v.get("status_code"),
        response_body=v.get("response_body"),
        response_headers=json.loads(v.get("response_headers") or "{}"),
    )
