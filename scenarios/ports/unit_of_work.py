"""The storage port (unit of work) over every backend engine, in lockstep.

The HTTP scenarios reach storage through the API; this one calls the port directly, so a
backend difference shows up as the one storage call that differs (a conflict one backend
misses, a page another orders differently), not as an HTTP answer several layers above.

The port is the app's ``Backend``/``UnitOfWork`` pair; :class:`UnitOfWorkPort` is a thin
facade taking and returning data (a change set, a read), because a unit of work is an
object, not data, and cannot go into a trace. Every rule stages real domain entities and
commits them with the conditions the service layer uses: insert-if-absent, unique email,
update-if-version, claim-if-token.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from parity import Bundle, Implementation, PortMachine, Store, precondition, register, rule
from reference_app.backends.registry import create_backend
from reference_app.domain.model import (
    Card,
    CardRequest,
    CardRequestStatus,
    CardStatus,
    DeliveryStatus,
    IdempotencyRecord,
    IdempotencyState,
    OutboxEvent,
    Transaction,
    TransactionType,
    User,
)
from reference_app.service_layer.unit_of_work import (
    BackendUnavailable,
    Change,
    ClaimIdempotency,
    CommitConflict,
    Insert,
    PageKey,
    PageQuery,
    ReleaseIdempotency,
    Update,
    UpdateDelivery,
)
from scenarios.binding import ReferenceBinding

#: the binding without a transport: storage only
BINDING = ReferenceBinding(transport="memory")
#: every engine the reference app has a storage adapter for (memory is the reference)
ENGINES = (
    "memory",
    "sqlite",
    "postgres@local",
    "mysql@local",
    "dynamodb@moto-server",
    "firestore@emulator",
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class UnitOfWorkPort:
    """One backend's unit of work as calls taking and returning data."""

    def __init__(self, store: Store) -> None:
        self.backend = create_backend(BINDING.store_settings(store))

    def commit(self, changes: list[Change]) -> None:
        with self.backend.unit_of_work() as uow:
            uow.changes.extend(changes)
            uow.commit()

    def read(self, method: str, *args: Any) -> Any:
        with self.backend.unit_of_work() as uow:
            return getattr(uow, method)(*args)

    def close(self) -> None:
        """Delete the example's namespace (a shared server stays small), disconnect."""
        try:
            self.backend.drop_namespace()
        finally:
            self.backend.close()


def on(engine: str) -> Implementation:
    return Implementation(
        UnitOfWorkPort, engine=engine, isolation="app", prepare=BINDING.prepare_store
    )


names = st.sampled_from(["Ada", "Grace", "Edsger"])
amounts = st.integers(min_value=1, max_value=50_000)
limits = st.integers(min_value=1, max_value=10)


@register
class UnitOfWorkParity(PortMachine):
    """Users, cards, transactions, outbox events and idempotency records."""

    scenario = "unit-of-work"
    implementations = {engine: on(engine) for engine in ENGINES}
    errors = {CommitConflict: "conflict", BackendUnavailable: "unavailable"}

    users = Bundle("users")
    cards = Bundle("cards")

    def __init__(self) -> None:
        super().__init__()
        self.ticks = 0
        self.sequences: dict[str, int] = {}
        self.events: list[OutboxEvent] = []
        self.claims: dict[str, str] = {}  # scope -> the token holding it

    def now(self) -> datetime:
        self.ticks += 1
        return T0 + timedelta(seconds=self.ticks)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{self.ticks:026d}"

    def commit(self, *changes: Change) -> bool:
        """Commit; False when a condition failed (on every backend alike)."""
        try:
            self.port.commit(list(changes))
        except CommitConflict:
            return False
        return True

    # writes ------------------------------------------------------------------------------

    @rule(target=users, name=names, email=st.integers(0, 3), score=st.integers(300, 850))
    def add_user(self, name: str, email: int, score: int) -> str:
        user = User(self.new_id("usr"), name, f"u{email}@example.com", score, self.now())
        self.commit(Insert(user))  # a taken email is a conflict everywhere
        return user.id

    @rule(target=cards, user_id=users, limit=st.integers(1_000, 100_000))
    def open_card(self, user_id: str, limit: int) -> str:
        now = self.now()
        card_id, request_id = self.new_id("card"), self.new_id("creq")
        request = CardRequest(
            request_id, user_id, CardRequestStatus.APPROVED, limit, card_id, now, now
        )
        card = Card(card_id, user_id, request_id, CardStatus.ACTIVE, limit, 0, now, now)
        self.commit(Insert(request), Insert(card), self.event(card_id, "card.opened", {}))
        return card_id

    @rule(card_id=cards, amount=amounts, stale=st.booleans(), kind=st.sampled_from(TransactionType))
    def post_transaction(
        self, card_id: str, amount: int, stale: bool, kind: TransactionType
    ) -> None:
        card = self.port.read("get_card", card_id)
        if card is None:
            return
        now = self.now()
        delta = -amount if kind == TransactionType.PAYMENT else amount
        balance = card.balance_cents + delta
        changed = Card(
            card.id,
            card.user_id,
            card.request_id,
            card.status,
            card.credit_limit_cents,
            balance,
            card.created_at,
            now,
            card.version + 1,
        )
        txn = Transaction(
            self.new_id("txn"), card.id, card.user_id, kind, amount, None, balance, now
        )
        expected = card.version - 1 if stale else card.version
        self.commit(
            Update(changed, expected),
            Insert(txn),
            self.event(card.id, f"transaction.{kind.value}", {"amount_cents": amount}),
        )

    @rule(user_id=users)
    def insert_existing_user(self, user_id: str) -> None:
        user = self.port.read("get_user", user_id)
        if user is not None:
            self.commit(Insert(user))  # insert-if-absent: a conflict everywhere

    @rule(scope=st.sampled_from(["k1", "k2", "k3"]), takeover=st.booleans())
    def claim_key(self, scope: str, takeover: bool) -> None:
        now = self.now()
        token = self.new_id("tok")
        record = IdempotencyRecord(
            scope, "fp", IdempotencyState.IN_FLIGHT, token, now, now + timedelta(hours=1), now
        )
        replaces = self.claims.get(scope) if takeover else None
        if self.commit(ClaimIdempotency(record, replaces)):
            self.claims[scope] = token

    @rule(scope=st.sampled_from(["k1", "k2", "k3"]))
    def release_key(self, scope: str) -> None:
        token = self.claims.pop(scope, "tok_unknown")
        self.commit(ReleaseIdempotency(scope, token))

    @precondition(lambda self: bool(self.events))
    @rule(data=st.data(), delivered=st.booleans())
    def record_delivery(self, data: st.DataObject, delivered: bool) -> None:
        event = data.draw(st.sampled_from(self.events))
        now = self.now()
        if delivered:
            after = replace(event, status=DeliveryStatus.SENT, published_at=now)
        else:
            after = replace(
                event,
                attempts=event.attempts + 1,
                next_attempt_at=now + timedelta(seconds=30),
                last_error="planned",
            )
        if self.commit(UpdateDelivery(after, event)):
            self.events[self.events.index(event)] = after

    def event(self, subject: str, kind: str, data: dict[str, Any]) -> Insert:
        sequence = self.sequences.get(subject, 0) + 1
        self.sequences[subject] = sequence
        event = OutboxEvent(
            self.new_id("evt"), "/parity", kind, subject, self.now(), sequence, data
        )
        self.events.append(event)
        return Insert(event)

    # reads -------------------------------------------------------------------------------

    @rule(user_id=users)
    def get_user(self, user_id: str) -> None:
        user = self.port.read("get_user", user_id)
        if user is not None:
            self.port.read("get_user_by_email", user.email)

    @rule(card_id=cards)
    def get_card(self, card_id: str) -> None:
        self.port.read("get_card", card_id)

    @rule(user_id=st.none() | users, limit=limits)
    def list_cards(self, user_id: str | None, limit: int) -> None:
        self.read_pages("list_cards", user_id, limit)

    @rule(card_id=cards, kind=st.none() | st.sampled_from(TransactionType), limit=limits)
    def list_transactions(self, card_id: str, kind: TransactionType | None, limit: int) -> None:
        self.read_pages("list_transactions", card_id, kind, limit)

    @rule(user_id=st.none() | users, limit=limits)
    def list_card_requests(self, user_id: str | None, limit: int) -> None:
        self.read_pages("list_card_requests", user_id, None, limit)

    @rule(subject=st.none() | cards, limit=limits)
    def list_events(self, subject: str | None, limit: int) -> None:
        self.read_pages("list_events", subject, limit)

    @rule(limit=limits)
    def pending_events(self, limit: int) -> None:
        self.port.read("pending_events", limit)

    @rule(scope=st.sampled_from(["k1", "k2", "k3"]))
    def get_idempotency(self, scope: str) -> None:
        self.port.read("get_idempotency", scope)

    def read_pages(self, method: str, *args: Any) -> None:
        """Follow pages of ``limit`` to the end; each page is one compared call."""
        *filters, limit = args
        after: PageKey | None = None
        for _ in range(20):
            page = self.port.read(method, *filters, PageQuery(limit, after))
            if len(page) < limit:
                return
            last = page[-1]
            after = PageKey(getattr(last, "created_at", None) or last.time, last.id)
