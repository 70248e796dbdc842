"""The machinery of planted faults: a unit of work that wraps a real one, a backend that
hands it out, and :func:`plant`, which registers one fault with Parity.

Each fault wraps the memory backend's unit of work (storage faults) or the app (a
protocol fault), because that is where such bugs live in a real migration:

- ``lost-update``      — reads a cached card and writes without the version condition
- ``expired-key``      — honours an idempotency key after its TTL (expires_at pushed on)
- ``outbox-gap``       — skips a number in an aggregate's outbox sequence
- ``pagination-skip``  — drops the first row of every page after the first
- ``wrong-status``     — answers 200 instead of 201 for a new transaction
- ``rounding``         — stores balances through float dollars (a truncating round trip)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from parity import AppBinding, Store, register_fault
from reference_app.backends.registry import create_backend
from reference_app.bootstrap import create_app
from reference_app.domain.model import (
    Card,
    CardRequest,
    CardRequestStatus,
    IdempotencyRecord,
    OutboxEvent,
    Transaction,
    TransactionType,
    User,
)
from reference_app.service_layer.unit_of_work import (
    Backend,
    Change,
    Insert,
    PageQuery,
    UnitOfWork,
    Update,
)
from scenarios.binding import ReferenceBinding


class WrappedUnitOfWork(UnitOfWork):
    """Delegates everything to a real unit of work; faults override one method."""

    def __init__(self, inner: UnitOfWork, backend: FaultyBackend) -> None:
        super().__init__()
        self.inner = inner
        self.backend = backend

    def _apply(self, changes: list[Change]) -> None:
        self.inner._apply(changes)

    def get_user(self, user_id: str) -> User | None:
        return self.inner.get_user(user_id)

    def get_user_by_email(self, email: str) -> User | None:
        return self.inner.get_user_by_email(email)

    def get_card_request(self, request_id: str) -> CardRequest | None:
        return self.inner.get_card_request(request_id)

    def list_card_requests(
        self, user_id: str | None, status: CardRequestStatus | None, page: PageQuery
    ) -> list[CardRequest]:
        return self.inner.list_card_requests(user_id, status, page)

    def get_card(self, card_id: str) -> Card | None:
        return self.inner.get_card(card_id)

    def list_cards(self, user_id: str | None, page: PageQuery) -> list[Card]:
        return self.inner.list_cards(user_id, page)

    def list_transactions(
        self, card_id: str, kind: TransactionType | None, page: PageQuery
    ) -> list[Transaction]:
        return self.inner.list_transactions(card_id, kind, page)

    def get_idempotency(self, scope: str) -> IdempotencyRecord | None:
        return self.inner.get_idempotency(scope)

    def list_events(self, subject: str | None, page: PageQuery) -> list[OutboxEvent]:
        return self.inner.list_events(subject, page)

    def pending_events(self, limit: int) -> list[OutboxEvent]:
        return self.inner.pending_events(limit)


class LostUpdateUoW(WrappedUnitOfWork):
    def get_card(self, card_id: str) -> Card | None:
        cache = self.backend.state.setdefault("cards", {})
        if card_id not in cache:
            cache[card_id] = self.inner.get_card(card_id)
        card: Card | None = cache[card_id]
        return card

    def _apply(self, changes: list[Change]) -> None:
        out: list[Change] = []
        for change in changes:
            if isinstance(change, Update) and isinstance(change.entity, Card):
                stored = self.inner.get_card(change.entity.id)
                change = Update(change.entity, stored.version if stored else 0)
            out.append(change)
        self.inner._apply(out)


class ExpiredKeyUoW(WrappedUnitOfWork):
    def get_idempotency(self, scope: str) -> IdempotencyRecord | None:
        record = self.inner.get_idempotency(scope)
        if record is None:
            return None
        return dataclasses.replace(record, expires_at=record.expires_at + timedelta(days=3650))


class OutboxGapUoW(WrappedUnitOfWork):
    def _apply(self, changes: list[Change]) -> None:
        out: list[Change] = []
        for change in changes:
            if isinstance(change, Insert) and isinstance(change.entity, OutboxEvent):
                event = change.entity
                if event.sequence >= 2:
                    change = Insert(dataclasses.replace(event, sequence=event.sequence + 1))
            out.append(change)
        self.inner._apply(out)


class PaginationSkipUoW(WrappedUnitOfWork):
    def list_transactions(
        self, card_id: str, kind: TransactionType | None, page: PageQuery
    ) -> list[Transaction]:
        if page.after is None:
            return self.inner.list_transactions(card_id, kind, page)
        wider = PageQuery(page.limit + 1, page.after)
        return self.inner.list_transactions(card_id, kind, wider)[1:]


def _through_float_dollars(cents: int) -> int:
    return int(cents / 100 * 100)


class RoundingUoW(WrappedUnitOfWork):
    def get_card(self, card_id: str) -> Card | None:
        card = self.inner.get_card(card_id)
        if card is None:
            return None
        return dataclasses.replace(card, balance_cents=_through_float_dollars(card.balance_cents))


class FaultyBackend(Backend):
    """A real backend whose units of work are wrapped by one fault."""

    def __init__(self, inner: Backend, uow: type[WrappedUnitOfWork]) -> None:
        self.inner = inner
        self.uow = uow
        self.name = f"{inner.name}+fault"
        self.state: dict[str, Any] = {}

    def unit_of_work(self) -> UnitOfWork:
        return self.uow(self.inner.unit_of_work(), self)

    def reopen(self) -> FaultyBackend:
        """The restarted app opens the same store and keeps the same bug: the fault is
        part of the backend's code, so it survives the crash seam's restart (and its
        state is the store's, not the process's)."""
        fresh = FaultyBackend(self.inner.reopen(), self.uow)
        fresh.state = self.state
        return fresh

    def check_ready(self) -> None:
        self.inner.check_ready()

    def drop_namespace(self) -> None:
        self.inner.drop_namespace()

    def describe(self) -> dict[str, Any]:
        return {**self.inner.describe(), "fault": self.uow.__name__}

    def close(self) -> None:
        self.inner.close()


class WrongStatusMiddleware:
    """ASGI middleware: a new transaction answers 200 instead of 201."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope.get("method") != "POST"
            or not path.endswith("/transactions")
        ):
            await self.app(scope, receive, send)
            return

        async def patched(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] == 201:
                message = {**message, "status": 200}
            await send(message)

        await self.app(scope, receive, patched)


def plant(
    name: str,
    description: str,
    *,
    uow: type[WrappedUnitOfWork] | None = None,
    middleware: Callable[[Any], Any] | None = None,
    scenarios: tuple[str, ...] = (),
    core: bool = False,
) -> str:
    """Register ``fault:<name>``: the reference app on a memory store, with ``uow``
    wrapping its unit of work and/or ``middleware`` wrapping the app."""

    def build(binding: AppBinding, store: Store) -> Any:
        assert isinstance(binding, ReferenceBinding)
        settings = binding.settings_for(store)
        if uow is not None:
            app = create_app(settings, backend=FaultyBackend(create_backend(settings), uow))
        else:
            app = create_app(settings)
        return middleware(app) if middleware is not None else app

    register_fault(name, description, build, scenarios=scenarios, core=core)
    return name
