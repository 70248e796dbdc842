"""The few things SQLite and PostgreSQL do differently, each named once.

- **placeholders**: queries are written with ``?``; PostgreSQL (psycopg) wants ``%s``.
- **types**: timestamps are ``TIMESTAMPTZ`` in PostgreSQL and fixed-width RFC 3339 text
  in SQLite (``timefmt.format_ts``: text order is time order, microseconds exact); JSON
  is ``JSON`` (text-preserving, so key order survives like in the memory backend) or
  ``TEXT``; ids use the ``"C"`` collation in PostgreSQL so ``ORDER BY id`` is code-point
  order, as in Python and in SQLite's ``BINARY`` collation.
- **namespaces**: PostgreSQL puts each namespace in its own schema (tables
  schema-qualified in every statement, so one shared pool serves every namespace with no
  ``search_path`` switching). SQLite keeps one set of tables per file with a leading
  ``ns`` column in every key and index (a key prefix): a new namespace costs no DDL at
  all. Per-namespace tables were measured first and rejected: every ``CREATE TABLE``
  makes every pooled connection re-parse the whole (growing) schema, so creating the
  600th namespace in a file took 70 ms and rising, while the harness makes one per
  Hypothesis example.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reference_app.domain.timefmt import format_ts, parse_ts

_SAFE_NAMESPACE = re.compile(r"[a-z0-9_]{1,40}")
_SAFE_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,19}")


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier (same syntax in both engines)."""
    return '"' + name.replace('"', '""') + '"'


def namespace_ident(table_prefix: str, namespace: str) -> str:
    """The identifier stem of one namespace: ``ledger`` or ``ledger_<namespace>``.

    Simple lower-case namespaces are used as they are (readable in ``psql``); anything
    else (capitals, dashes, very long names) becomes a slug plus a hash, so distinct
    namespaces always give distinct identifiers that fit PostgreSQL's 63-byte limit.
    """
    if not _SAFE_PREFIX.fullmatch(table_prefix):
        raise ValueError(f"table prefix {table_prefix!r} must be a short SQL identifier")
    if not namespace:
        return table_prefix.lower()
    if _SAFE_NAMESPACE.fullmatch(namespace):
        return f"{table_prefix.lower()}_{namespace}"
    slug = re.sub(r"[^a-z0-9_]+", "_", namespace.lower())[:24]
    digest = hashlib.sha256(namespace.encode()).hexdigest()[:12]
    return f"{table_prefix.lower()}_{slug}_{digest}"


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True, eq=False)  # identity hash: used as a cache key
class Dialect:
    name: str
    placeholder: str
    types: dict[str, str]
    #: True: tables live in a schema named after the namespace; False: one set of tables
    #: whose rows carry the namespace in a leading ``ns`` key column.
    schema_per_namespace: bool
    encode_ts: Callable[[datetime], Any]
    decode_ts: Callable[[Any], datetime]
    encode_json: Callable[[Any], Any]
    decode_json: Callable[[Any], Any]

    def sql(self, text: str) -> str:
        """Translate a ``?``-placeholder query into this dialect's placeholder style."""
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    @property
    def namespace_column(self) -> bool:
        return not self.schema_per_namespace

    def table(self, ns_ident: str, name: str) -> str:
        """``ns_ident``: the schema (PostgreSQL) or the table-name prefix (SQLite)."""
        if self.schema_per_namespace:
            return f"{quote_ident(ns_ident)}.{quote_ident(name)}"
        return quote_ident(f"{ns_ident}_{name}")

    def index(self, ns_ident: str, name: str) -> str:
        """Index names: per schema in PostgreSQL, database-wide in SQLite."""
        if self.schema_per_namespace:
            return quote_ident(name)
        return quote_ident(f"{ns_ident}_{name}")


def _pg_ts(value: Any) -> datetime:
    # psycopg returns timestamptz in the session time zone: normalise to UTC so that
    # values compare and print exactly like the memory backend's.
    result: datetime = value.astimezone(UTC)
    return result


def _pg_json_param(value: Any) -> Any:
    from psycopg.types.json import Json  # lazy: SQLite users need no psycopg

    return Json(value, dumps=_json_text)


SQLITE = Dialect(
    name="sqlite",
    placeholder="?",
    types={
        "ID": "TEXT",
        "TEXT": "TEXT",
        "TS": "TEXT",
        "JSON": "TEXT",
        "BIGINT": "INTEGER",
        "INT": "INTEGER",
        "NS_COL": '"ns" TEXT NOT NULL,',  # the namespace: a leading key column
        "NS_KEY": '"ns", ',
    },
    schema_per_namespace=False,
    encode_ts=format_ts,
    decode_ts=parse_ts,
    encode_json=_json_text,
    decode_json=json.loads,
)

POSTGRES = Dialect(
    name="postgres",
    placeholder="%s",
    types={
        "ID": 'TEXT COLLATE "C"',
        "TEXT": "TEXT",
        "TS": "TIMESTAMPTZ",
        "JSON": "JSON",
        "BIGINT": "BIGINT",
        "INT": "INTEGER",
        "NS_COL": "",  # the namespace is the schema
        "NS_KEY": "",
    },
    schema_per_namespace=True,
    encode_ts=lambda value: value,
    decode_ts=_pg_ts,
    encode_json=_pg_json_param,
    decode_json=lambda value: value,  # psycopg already parsed the json column
)
