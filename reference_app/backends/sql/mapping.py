"""Row <-> entity mapping, derived from the domain dataclasses themselves.

Column names are the dataclass field names and the codec of each column follows from its
type hint (timestamps, enums, JSON dicts, plain values), so adding a field to the model
and a column in a migration is the whole change: no hand-written per-entity mapping to
forget a field in.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, Generic, TypeVar

from reference_app.backends.sql.dialect import Dialect, quote_ident
from reference_app.domain.model import (
    Card,
    CardRequest,
    IdempotencyRecord,
    OutboxEvent,
    Transaction,
    User,
)

E = TypeVar("E")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "plain" | "ts" | "json" | "enum"
    enum_type: type[enum.Enum] | None = None

    @property
    def quoted(self) -> str:
        return quote_ident(self.name)

    def encode(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if self.kind == "ts":
            return dialect.encode_ts(value)
        if self.kind == "json":
            return dialect.encode_json(value)
        if self.kind == "enum":
            return value.value
        return value

    def decode(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if self.kind == "ts":
            return dialect.decode_ts(value)
        if self.kind == "json":
            return dialect.decode_json(value)
        if self.kind == "enum":
            assert self.enum_type is not None
            return self.enum_type(value)
        return value


def _column(name: str, hint: Any) -> Column:
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        hint = next(a for a in args if a is not type(None))  # Optional[X] -> X
    origin = typing.get_origin(hint) or hint
    if origin is datetime:
        return Column(name, "ts")
    if origin is dict:
        return Column(name, "json")
    if isinstance(origin, type) and issubclass(origin, enum.Enum):
        return Column(name, "enum", origin)
    return Column(name, "plain")


@dataclass(frozen=True)
class TableSpec(Generic[E]):
    """One entity type's table: its columns, key, and keyset-ordering column."""

    table: str
    entity: type[E]
    key: str = "id"
    order_by: str = "created_at"

    @cached_property
    def columns(self) -> tuple[Column, ...]:
        hints = typing.get_type_hints(self.entity)
        return tuple(_column(f.name, hints[f.name]) for f in dataclasses.fields(self.entity))  # type: ignore[arg-type]

    @cached_property
    def non_key_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.name != self.key)

    @cached_property
    def column_list(self) -> str:
        return ", ".join(c.quoted for c in self.columns)

    def encode(self, entity: E, dialect: Dialect) -> list[Any]:
        """Values for every column, in column order."""
        return [c.encode(getattr(entity, c.name), dialect) for c in self.columns]

    def encode_non_key(self, entity: E, dialect: Dialect) -> list[Any]:
        return [c.encode(getattr(entity, c.name), dialect) for c in self.non_key_columns]

    def decode(self, row: tuple[Any, ...] | Any, dialect: Dialect) -> E:
        values = {c.name: c.decode(v, dialect) for c, v in zip(self.columns, row, strict=True)}
        return self.entity(**values)


USERS: TableSpec[User] = TableSpec("users", User)
CARD_REQUESTS: TableSpec[CardRequest] = TableSpec("card_requests", CardRequest)
CARDS: TableSpec[Card] = TableSpec("cards", Card)
TRANSACTIONS: TableSpec[Transaction] = TableSpec("transactions", Transaction)
EVENTS: TableSpec[OutboxEvent] = TableSpec("events", OutboxEvent, order_by="time")
IDEMPOTENCY: TableSpec[IdempotencyRecord] = TableSpec(
    "idempotency", IdempotencyRecord, key="scope", order_by="created_at"
)

SPECS: dict[type, TableSpec[Any]] = {
    User: USERS,
    CardRequest: CARD_REQUESTS,
    Card: CARDS,
    Transaction: TRANSACTIONS,
    OutboxEvent: EVENTS,
    IdempotencyRecord: IDEMPOTENCY,
}


def spec_for(entity: object) -> TableSpec[Any]:
    return SPECS[type(entity)]
