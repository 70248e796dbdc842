"""Migration bugs in the DynamoDB backend: see the package docstring.

Each bug is the real backend (``reference_app/backends/dynamodb``) with one porting
mistake, the way a team moving the card ledger from SQL to DynamoDB writes it: a codec
helper borrowed from elsewhere, a key built a little differently, a condition left off a
``Put``, a retry setting copied from a latency-sensitive service. Every one answers the
first request of any ordinary test correctly; the docstrings say what shows it.

The bugs are planted by subclassing: a :class:`DynamoDbUnitOfWork` whose ``_ops`` rewrite
the items (or whose reads drop a field), a :class:`~reference_app.backends.dynamodb.codec.Keys`
with one key built differently, or a client without retries. The engine faults' test
modules (``tests/engines/test_dynamodb_faults.py``, ``test_dynamodb_ttl.py``) import
their planted backends from here.

Store settings: DynamoDB has no server settings a backend could silently rely on: no
session time zone, collation or SQL mode, and of a table's options (capacity mode, TTL,
streams, encryption, point-in-time recovery) only capacity and TTL change what a request
answers — engine faults, which ``+throttle`` and ``+ttl-lag`` already inject. So no bug
of that class is planted here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config

from parity import AppBinding, Store, register_fault
from reference_app.backends.dynamodb import DynamoDbBackend
from reference_app.backends.dynamodb.codec import Item, Key, Keys
from reference_app.backends.dynamodb.retry import RetryPolicy
from reference_app.backends.dynamodb.session import shared_client
from reference_app.backends.dynamodb.unit_of_work import _NOT_EXISTS, DynamoDbUnitOfWork, _Op
from reference_app.bootstrap import create_app
from reference_app.domain.model import (
    CardRequest,
    CardRequestStatus,
    IdempotencyRecord,
    IdempotencyState,
    OutboxEvent,
    Transaction,
)
from reference_app.domain.timefmt import parse_ts
from reference_app.service_layer.unit_of_work import (
    Change,
    ClaimIdempotency,
    PageQuery,
    ReleaseIdempotency,
)
from reference_app.settings import Settings
from scenarios.binding import ReferenceBinding
from scenarios.migration_bugs.common import SplitOutbox

BASE = "dynamodb@moto-server"
THROTTLE = f"{BASE}+throttle"
STALE = f"{BASE}+stale"
TTL_LAG = f"{BASE}+ttl-lag"
#: the API's maximum page size (reference_app/openapi.yaml)
MAX_PAGE = 100
#: the attributes the codec writes as timestamps (``format_ts`` text)
TIMESTAMPS = frozenset(
    {
        "created_at",
        "updated_at",
        "decided_at",
        "time",
        "next_attempt_at",
        "published_at",
        "expires_at",
        "locked_at",
    }
)


# --- how a bug is planted ---------------------------------------------------------------


def _puts(ops: Iterator[_Op]) -> Iterator[tuple[_Op, Item | None]]:
    """Each op with the item it puts (``None`` for a Delete)."""
    for op in ops:
        put = op.item.get("Put")
        yield op, (put["Item"] if put is not None else None)


class PlantedBackend(DynamoDbBackend):
    """The real backend with a planted unit of work and/or key builder."""

    keys_class: type[Keys] = Keys

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(settings, **kwargs)
        self.store.keys = self.keys_class(settings.namespace)


def planted_backend(
    uow: type[DynamoDbUnitOfWork] = DynamoDbUnitOfWork, keys: type[Keys] = Keys
) -> type[PlantedBackend]:
    """A backend class that makes ``uow`` units of work over ``keys``."""
    return type(
        f"Planted{uow.__name__}", (PlantedBackend,), {"unit_of_work_class": uow, "keys_class": keys}
    )


def plant_builder(
    backend: Callable[[Settings], DynamoDbBackend],
) -> Callable[[AppBinding, Store], Any]:
    """How a fault builds its app: the reference app over ``backend(settings)``."""

    def build(binding: AppBinding, store: Store) -> Any:
        assert isinstance(binding, ReferenceBinding)
        settings = binding.settings_for(store)
        return create_app(settings, backend=backend(settings))

    return build


def _plant(
    name: str,
    description: str,
    *,
    uow: type[DynamoDbUnitOfWork] = DynamoDbUnitOfWork,
    keys: type[Keys] = Keys,
    scenarios: tuple[str, ...] = (),
    base: str = BASE,
    suite: str = "scenarios",
) -> None:
    backend = planted_backend(uow, keys)
    register_fault(
        name,
        description,
        plant_builder(backend.from_settings),
        scenarios=scenarios,
        base=base,
        suite=suite,
    )


# --- Time -------------------------------------------------------------------------------


def millis(text: str) -> str:
    """``format_ts`` text cut to the millisecond, as JavaScript's ``toISOString`` writes."""
    when = parse_ts(text)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class MillisecondTimesUnitOfWork(DynamoDbUnitOfWork):
    """Timestamps stored to the millisecond.

    The team's services already shared events with a Node consumer, so the codec writes
    every time attribute the way ``Date.toISOString()`` does (``…:05.123Z``): parseable,
    fixed width, sorting right. Under a still clock every time is ``.000000`` and nothing
    is lost; a ticking clock's sub-millisecond part is gone on the next read (the answer
    to a write still comes from the entity in memory, so only a read-back differs).
    """

    def _ops(self, change: Change) -> Iterator[_Op]:
        for op, item in _puts(super()._ops(change)):
            for name in TIMESTAMPS & set(item or ()):
                assert item is not None
                item[name] = {"S": millis(item[name]["S"])}
            yield op


def iso_z(when: datetime) -> str:
    """``when.isoformat()`` with a ``Z``: no fraction at all when it is ``.000000``."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


class IsoSortKeys(Keys):
    """A transaction's sort key built with ``isoformat()``: variable-width text.

    ``TXN#{created_at.isoformat()}#{id}`` reads well and round-trips, but ``isoformat``
    leaves the fraction out of a whole second: ``…:05Z`` sorts *after* ``…:05.000001Z``
    (``Z`` > ``.``), so a transaction made on a whole second is listed as newer than the
    ones later in that second. A still clock makes every time a whole second (all the
    same width); a ticking one mixes them.
    """

    def transaction(self, txn: Transaction) -> Key:
        return self._k(f"CARD#{txn.card_id}", f"TXN#{iso_z(txn.created_at)}#{txn.id}")


class IsoSortKeyUnitOfWork(DynamoDbUnitOfWork):
    """The transactions listing's cursor key built the same way as :class:`IsoSortKeys`."""

    def _query(self, partition: str, *, after: str | None, **options: Any) -> list[Item]:
        if after is not None and after.startswith("TXN#"):
            when, _, entity_id = after.removeprefix("TXN#").partition("#")
            after = f"TXN#{iso_z(parse_ts(when))}#{entity_id}"
        return super()._query(partition, after=after, **options)


# --- Data -------------------------------------------------------------------------------


class CasefoldEmailKeys(Keys):
    """The e-mail uniqueness guard keyed by ``casefold()``.

    DynamoDB keys compare byte for byte, and the team wanted the unique-e-mail guard "as
    case-insensitive as the old database's collation", so the key is the address's
    ``str.casefold()``: the service has already lower-cased it, and for ASCII the two are
    the same. ``casefold`` also folds ``ß`` to ``ss``: ``straße@…`` and ``STRASSE@…``,
    two accounts for the app (``str.lower``), collide on the guard (409).
    """

    def email(self, email: str) -> Key:
        return super().email(email.casefold())


class NfcEmailKeys(Keys):
    """The e-mail uniqueness guard keyed by the address's NFC form.

    A reviewer noticed two sign-ups whose e-mails "look the same" (a precomposed ``é``
    and ``e`` + combining accent) and the port normalised the guard key to NFC. The app
    itself never normalises (its rule is ``str.lower``): the NFD twin of an address is
    its own account everywhere else, here a 409.
    """

    def email(self, email: str) -> Key:
        return super().email(unicodedata.normalize("NFC", email))


class EmptyStringsDroppedUnitOfWork(DynamoDbUnitOfWork):
    """Empty strings stored as absent attributes.

    Until 2020 DynamoDB refused an empty string attribute value, and the port's codec
    (written from an old blog post) drops them like ``None``. Ordinary tests never send
    an empty description; one that does reads it back as ``null``.
    """

    def _ops(self, change: Change) -> Iterator[_Op]:
        for op, item in _puts(super()._ops(change)):
            for name in [n for n, v in (item or {}).items() if v == {"S": ""}]:
                assert item is not None
                del item[name]
            yield op


# --- Volume -----------------------------------------------------------------------------


class UnpaddedSequenceKeys(Keys):
    """The pending-events pointer's sort key holds the sequence without zero padding.

    ``PENDING / {subject}#{sequence}``: the relay reads the partition in sort-key order,
    which is the per-aggregate publishing order as long as sequences have one digit.
    From ten pending events of one aggregate on, ``#10`` sorts before ``#2`` and the relay
    publishes out of order.
    """

    def pending_pointer(self, event: OutboxEvent) -> Key:
        return self._k("PENDING", f"{event.subject}#{event.sequence}")


class CappedQueryUnitOfWork(DynamoDbUnitOfWork):
    """Every Query-backed listing capped at the API's maximum page size.

    "Never return more than a page" looked like a safe guard in the repository; but the
    service asks for ``limit + 1`` rows to learn whether a next page exists. At the
    maximum page size (100) with more rows behind it, the probe row is eaten: the page is
    full and says it is the last.
    """

    def _query(self, partition: str, *, limit: int, **options: Any) -> list[Item]:
        return super()._query(partition, limit=min(limit, MAX_PAGE), **options)


# --- Rare paths -------------------------------------------------------------------------


class TakeoverAsInsertUnitOfWork(DynamoDbUnitOfWork):
    """An abandoned in-flight claim is taken over with the first claim's condition.

    The port wrote one ``claim`` Put, ``attribute_not_exists(pk)``, for "the key is
    free" — right for a new key, and for an expired one DynamoDB TTL has deleted. An
    abandoned claim (its request died, 60 s passed) is still there, so the takeover is
    cancelled as a lost race and the retry answers 409 for ever; only the idempotency
    scenario's abandon-and-take-over path reaches it.
    """

    def _ops(self, change: Change) -> Iterator[_Op]:
        for op in super()._ops(change):
            if (
                isinstance(change, ClaimIdempotency)
                and change.replaces_token is not None
                and change.record.state == IdempotencyState.IN_FLIGHT
            ):
                put = dict(op.item["Put"])
                for name in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
                    put.pop(name, None)
                put["ConditionExpression"] = _NOT_EXISTS
                op = replace(op, item={"Put": put})
            yield op


class ClaimWithoutConditionUnitOfWork(DynamoDbUnitOfWork):
    """A new key's first claim put without ``attribute_not_exists(pk)``.

    The service has just read the key and found nothing, so the port's claim is a plain
    ``Put`` ("we checked"). Sequentially that is right; two requests with the same new key
    racing between that read and the write both claim it, both run the purchase, and the
    card is charged twice. Only a same-key race between read and claim shows it.
    """

    def _ops(self, change: Change) -> Iterator[_Op]:
        for op in super()._ops(change):
            if isinstance(change, ClaimIdempotency) and change.replaces_token is None:
                put = dict(op.item["Put"])
                put.pop("ConditionExpression", None)
                put.pop("ReturnValuesOnConditionCheckFailure", None)
                op = replace(op, item={"Put": put})
            yield op


class UnconditionalReleaseUnitOfWork(DynamoDbUnitOfWork):
    """A claim released with an unconditional ``DeleteItem``.

    "Releasing our own key" needs no condition — until the claim was taken over after its
    in-flight timeout: the abandoned request, woken, finds its claim gone, answers 409,
    and its release deletes the *new* owner's completed record. The next retry of that
    key runs the purchase a second time instead of replaying it.
    """

    def _ops(self, change: Change) -> Iterator[_Op]:
        for op in super()._ops(change):
            if isinstance(change, ReleaseIdempotency):
                delete = {"TableName": self._s.table, "Key": self._s.keys.idempotency(change.scope)}
                op = replace(op, item={"Delete": delete})
            yield op


# --- Engine behaviour -------------------------------------------------------------------


def no_retry_client(url: str) -> Any:
    """A DynamoDB client that never retries: every refused request reaches its caller."""
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    return boto3.session.Session().client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


def no_retry_backend(settings: Settings) -> DynamoDbBackend:
    """Throttling not retried: the SDK's retries off and the backend's policy one attempt.

    The team copied ``max_attempts: 1`` from a latency-sensitive service ("fail fast,
    the caller retries") into the SDK config and its own retry policy. No emulator ever
    throttles, so every test passes; the first ``ProvisionedThroughputExceeded`` a real
    table sends fails the API call (``+throttle`` sends them).
    """
    assert settings.endpoint_url is not None
    client = no_retry_client(settings.endpoint_url)
    return DynamoDbBackend(settings, client=client, retry=RetryPolicy(max_attempts=1))


class EventuallyConsistentClient:
    """Reads without ``ConsistentRead``, the SDK's default, as a backend ported from SQL
    would if nobody asked for strong reads: moto is always strongly consistent, a real
    table (and ``+stale``) answers a read soon after a write from before it."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_item(self, **request: Any) -> Any:
        request.pop("ConsistentRead", None)
        return self._client.get_item(**request)

    def query(self, **request: Any) -> Any:
        request.pop("ConsistentRead", None)
        return self._client.query(**request)


def eventual_reads_backend(settings: Settings) -> DynamoDbBackend:
    """The real backend reading through :class:`EventuallyConsistentClient`."""
    client = EventuallyConsistentClient(shared_client("dynamodb", settings))
    return DynamoDbBackend(settings, client=client)


class TrustsTtlUnitOfWork(DynamoDbUnitOfWork):
    """Expiry left to DynamoDB TTL: a record read back never looks expired.

    "TTL deletes expired keys" — within days on AWS, never on moto — so an expired key
    TTL has not deleted yet is replayed where the reference runs the request again.
    """

    def get_idempotency(self, scope: str) -> IdempotencyRecord | None:
        record = super().get_idempotency(scope)
        never = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)
        return replace(record, expires_at=never) if record is not None else None


class LeaseTtlUnitOfWork(DynamoDbUnitOfWork):
    """The TTL attribute written from the in-flight lease (claim + 60 s), not the expiry.

    TTL deletes a completed record early, and a retry within the day runs the purchase
    twice. moto never deletes, so only ``+ttl-lag`` shows it.
    """

    def _ops(self, change: Change) -> Iterator[_Op]:
        for op in super()._ops(change):
            if isinstance(change, ClaimIdempotency) and "Put" in op.item:
                lease_end = int(change.record.locked_at.timestamp()) + 60
                op.item["Put"]["Item"]["ttl"] = {"N": str(lease_end)}
            yield op


# --- Crash windows ----------------------------------------------------------------------


class SplitOutboxUnitOfWork(SplitOutbox, DynamoDbUnitOfWork):
    """The state change and its outbox events in two ``TransactWriteItems``.

    "Publish after saving": the state transaction first, then the events (a hundred-item
    transaction limit was the worry). Both succeed on every request of every test; a
    process dying between the two calls leaves a card whose balance moved without its
    event. The crash seam counts each change of a transaction as a write before it is
    sent, so a crash armed after the state changes lands between the two requests.
    """


# --- Contract ---------------------------------------------------------------------------


class CardRequestWithoutCardUnitOfWork(DynamoDbUnitOfWork):
    """A card request decoded without its ``card_id``.

    The request item was designed before approvals linked a card, and the port's
    decoder still builds a request from that first attribute list. Every answer to a
    write comes from the entity in memory, so creating and approving requests looks
    right; only reading an approved request back (the contract suite's seeded ones)
    shows ``card_id: null``.
    """

    def get_card_request(self, request_id: str) -> CardRequest | None:
        request = super().get_card_request(request_id)
        return replace(request, card_id=None) if request is not None else None

    def list_card_requests(
        self, user_id: str | None, status: CardRequestStatus | None, page: PageQuery
    ) -> list[CardRequest]:
        return [replace(r, card_id=None) for r in super().list_card_requests(user_id, status, page)]


# --- the registry -----------------------------------------------------------------------

TEXTURE = ("texture",)
_plant(
    "time-milliseconds-dynamodb",
    "Time: timestamps kept to the millisecond (toISOString)",
    uow=MillisecondTimesUnitOfWork,
    scenarios=TEXTURE,
)
_plant(
    "time-iso-sort-key-dynamodb",
    "Time: transaction sort keys as variable-width isoformat() text",
    uow=IsoSortKeyUnitOfWork,
    keys=IsoSortKeys,
    scenarios=TEXTURE,
)
_plant(
    "data-email-casefold-dynamodb",
    "Data: e-mail guard key casefolded (ß = ss)",
    keys=CasefoldEmailKeys,
    scenarios=TEXTURE,
)
_plant(
    "data-email-nfc-dynamodb",
    "Data: e-mail guard key normalised to NFC",
    keys=NfcEmailKeys,
    scenarios=TEXTURE,
)
_plant(
    "data-empty-string-dropped-dynamodb",
    "Data: empty strings stored as absent attributes",
    uow=EmptyStringsDroppedUnitOfWork,
    scenarios=TEXTURE,
)
_plant(
    "volume-unpadded-sequence-dynamodb",
    "Volume: pending pointer sequence without zero padding (10 sorts before 9)",
    keys=UnpaddedSequenceKeys,
    scenarios=("volume",),
)
_plant(
    "volume-query-capped-dynamodb",
    "Volume: Query listings capped at 100 rows, eating the limit + 1 probe",
    uow=CappedQueryUnitOfWork,
    scenarios=("volume",),
)
_plant(
    "rare-takeover-as-insert-dynamodb",
    "Rare paths: abandoned claim taken over with attribute_not_exists",
    uow=TakeoverAsInsertUnitOfWork,
    scenarios=("idempotency",),
)
_plant(
    "rare-claim-without-condition-dynamodb",
    "Rare paths: a new key's idempotency claim put without attribute_not_exists",
    uow=ClaimWithoutConditionUnitOfWork,
    scenarios=("idempotency", "concurrency"),
)
_plant(
    "rare-release-unconditional-dynamodb",
    "Rare paths: idempotency release without its token condition",
    uow=UnconditionalReleaseUnitOfWork,
    scenarios=("idempotency",),
)
register_fault(
    "engine-no-retry-dynamodb",
    "Engine faults: throttling not retried (SDK and backend at one attempt)",
    plant_builder(no_retry_backend),
    scenarios=("ledger",),
    base=THROTTLE,
)
register_fault(
    "engine-eventual-reads-dynamodb",
    "Engine faults: reads without ConsistentRead",
    plant_builder(eventual_reads_backend),
    scenarios=("ledger",),
    base=STALE,
)
_plant(
    "engine-trusts-ttl-dynamodb",
    "Engine faults: idempotency expiry left to DynamoDB TTL",
    uow=TrustsTtlUnitOfWork,
    scenarios=("idempotency",),
    base=TTL_LAG,
)
_plant(
    "engine-lease-ttl-dynamodb",
    "Engine faults: TTL attribute from the in-flight lease, not the expiry",
    uow=LeaseTtlUnitOfWork,
    scenarios=("idempotency",),
    base=TTL_LAG,
)
_plant(
    "crash-split-outbox-dynamodb",
    "Crash windows: state change and outbox events in two TransactWriteItems",
    uow=SplitOutboxUnitOfWork,
    scenarios=("crash",),
)
_plant(
    "contract-request-card-dropped-dynamodb",
    "Contract: card requests decoded without their card_id",
    uow=CardRequestWithoutCardUnitOfWork,
    suite="contract",
)
