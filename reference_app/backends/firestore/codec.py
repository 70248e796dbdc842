"""Document paths and document <-> entity conversion for the Firestore backend.

Layout of one namespace (``{prefix}`` is ``Settings.table_prefix``)::

    {prefix}/{ns}/users/{user_id}
    {prefix}/{ns}/emails/{sha256(email)}          -> {user_id}: the unique-email guard
    {prefix}/{ns}/card_requests/{request_id}
    {prefix}/{ns}/cards/{card_id}
    {prefix}/{ns}/transactions/{transaction_id}
    {prefix}/{ns}/events/{event_id}
    {prefix}/{ns}/event_sequences/{subject}:{sequence}   the gapless-sequence guard
    {prefix}/{ns}/idempotency/{scope}

The namespace is one root document (never written itself) whose subcollections hold
everything: a new namespace costs nothing, and dropping one deletes its subcollections.

Why these encodings:

- Timestamps are native Firestore timestamps (microsecond precision, like the domain's
  ``datetime``); values come back as ``DatetimeWithNanoseconds`` and are turned into
  plain UTC ``datetime`` so entities compare equal on every backend.
- Event ``data`` and stored response headers are JSON text, not maps: Firestore refuses
  arrays nested in arrays ("Cannot convert an array value in an array value"), so a map
  would make some payloads unstorable on this backend alone.
- Document ids are the entity ids when they are plain (``[A-Za-z0-9_:-]``), else a
  digest: a ``/`` in an id would address another path, and ``__x__`` ids are reserved.
  E-mails are always digested (any character may appear in one).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

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

Doc = dict[str, Any]

USERS = "users"
EMAILS = "emails"
CARD_REQUESTS = "card_requests"
CARDS = "cards"
TRANSACTIONS = "transactions"
EVENTS = "events"
EVENT_SEQUENCES = "event_sequences"
IDEMPOTENCY = "idempotency"
#: every subcollection of a namespace root (what ``drop_namespace`` deletes)
COLLECTIONS = (
    USERS,
    EMAILS,
    CARD_REQUESTS,
    CARDS,
    TRANSACTIONS,
    EVENTS,
    EVENT_SEQUENCES,
    IDEMPOTENCY,
)

_PLAIN_ID = re.compile(r"[A-Za-z0-9_:-]{1,200}")
SEQ_WIDTH = 12


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def doc_id(raw: str) -> str:
    """A safe document id for ``raw`` (itself when plain, else ``~`` + a digest)."""
    if _PLAIN_ID.fullmatch(raw) and not (raw.startswith("__") and raw.endswith("__")):
        return raw
    return "~" + _digest(raw)


def namespace_doc_id(namespace: str) -> str:
    """The root document of a namespace; the empty namespace is ``-``."""
    return doc_id(f"ns-{namespace}") if namespace else "-"


def email_doc_id(email: str) -> str:
    return _digest(email)


def sequence_doc_id(subject: str, sequence: int) -> str:
    return doc_id(f"{subject}:{sequence:0{SEQ_WIDTH}d}")


def collection_of(entity: Entity) -> str:
    if isinstance(entity, User):
        return USERS
    if isinstance(entity, CardRequest):
        return CARD_REQUESTS
    if isinstance(entity, Card):
        return CARDS
    if isinstance(entity, Transaction):
        return TRANSACTIONS
    return EVENTS


def encodable(value: str) -> bool:
    """Can ``value`` travel to Firestore at all (a lone surrogate from a URL cannot)?"""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --- values -------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if hasattr(value, "value") and isinstance(value.value, str):  # str enums
        return value.value
    return value


def _ts(value: Any) -> datetime | None:
    """A stored timestamp as a plain UTC ``datetime`` (not ``DatetimeWithNanoseconds``)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise TypeError(f"not a timestamp: {value!r}")
    value = value.astimezone(UTC)
    return datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        tzinfo=UTC,
    )


def _req_ts(doc: Doc, name: str) -> datetime:
    value = _ts(doc[name])
    assert value is not None
    return value


# --- entities -----------------------------------------------------------------------------


def entity_doc(entity: Entity) -> Doc:
    """Every field of ``entity`` (``None`` stays an explicit null: a full replace)."""
    if isinstance(entity, OutboxEvent):
        fields: Doc = {
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
        fields = dict(vars(entity))
    return {k: _plain(v) for k, v in fields.items()}


def entity_from_doc(collection: str, doc: Doc) -> Entity:
    if collection == USERS:
        return User(
            id=doc["id"],
            name=doc["name"],
            email=doc["email"],
            score=doc["score"],
            created_at=_req_ts(doc, "created_at"),
            version=doc["version"],
        )
    if collection == CARD_REQUESTS:
        return CardRequest(
            id=doc["id"],
            user_id=doc["user_id"],
            status=CardRequestStatus(doc["status"]),
            credit_limit_cents=doc["credit_limit_cents"],
            card_id=doc.get("card_id"),
            created_at=_req_ts(doc, "created_at"),
            decided_at=_ts(doc.get("decided_at")),
            version=doc["version"],
        )
    if collection == CARDS:
        return Card(
            id=doc["id"],
            user_id=doc["user_id"],
            request_id=doc["request_id"],
            status=CardStatus(doc["status"]),
            credit_limit_cents=doc["credit_limit_cents"],
            balance_cents=doc["balance_cents"],
            created_at=_req_ts(doc, "created_at"),
            updated_at=_req_ts(doc, "updated_at"),
            version=doc["version"],
        )
    if collection == TRANSACTIONS:
        return Transaction(
            id=doc["id"],
            card_id=doc["card_id"],
            user_id=doc["user_id"],
            type=TransactionType(doc["type"]),
            amount_cents=doc["amount_cents"],
            description=doc.get("description"),
            balance_after_cents=doc["balance_after_cents"],
            created_at=_req_ts(doc, "created_at"),
        )
    if collection == EVENTS:
        return OutboxEvent(
            id=doc["id"],
            source=doc["source"],
            type=doc["type"],
            subject=doc["subject"],
            time=_req_ts(doc, "time"),
            sequence=doc["sequence"],
            data=json.loads(doc["data"]),
            status=DeliveryStatus(doc["status"]),
            attempts=doc["attempts"],
            next_attempt_at=_ts(doc.get("next_attempt_at")),
            last_error=doc.get("last_error"),
            published_at=_ts(doc.get("published_at")),
        )
    raise ValueError(f"not an entity collection: {collection!r}")


def idempotency_doc(record: IdempotencyRecord) -> Doc:
    """The record plus ``expire_at`` for a Firestore TTL policy, which deletes expired
    documents lazily (within about a day in production; never in the emulator): the
    service, not TTL, decides expiry, so an expired record still present is absent."""
    return {
        "scope": record.scope,
        "fingerprint": record.fingerprint,
        "state": _plain(record.state),
        "token": record.token,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "locked_at": record.locked_at,
        "status_code": record.status_code,
        "response_body": record.response_body,
        "response_headers": json.dumps(record.response_headers),
        "expire_at": record.expires_at,
    }


def idempotency_from_doc(doc: Doc) -> IdempotencyRecord:
    return IdempotencyRecord(
        scope=doc["scope"],
        fingerprint=doc["fingerprint"],
        state=IdempotencyState(doc["state"]),
        token=doc["token"],
        created_at=_req_ts(doc, "created_at"),
        expires_at=_req_ts(doc, "expires_at"),
        locked_at=_req_ts(doc, "locked_at"),
        status_code=doc.get("status_code"),
        response_body=doc.get("response_body"),
        response_headers=json.loads(doc.get("response_headers") or "{}"),
    )
