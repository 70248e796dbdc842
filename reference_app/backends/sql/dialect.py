"""The few things SQLite, PostgreSQL and MySQL/MariaDB do differently, each named once.

- **placeholders**: queries are written with ``?``; psycopg and PyMySQL want ``%s``.
- **types**: timestamps are ``TIMESTAMPTZ`` in PostgreSQL, ``DATETIME(6)`` in UTC in
  MySQL (microseconds, no session time zone) and fixed-width RFC 3339 text
  in SQLite (``timefmt.format_ts``: text order is time order, microseconds exact); JSON
  is ``JSON`` (text-preserving, so key order survives like in the memory backend) or
  ``TEXT``; ids use the ``"C"`` collation in PostgreSQL so ``ORDER BY id`` is code-point
  order, as in Python and in SQLite's ``BINARY`` collation (MySQL: a binary NO PAD
  collation on every text column, see :func:`mysql_dialect`). ``KEY_TEXT`` is text that
  sits in a unique constraint or an index (``users.email``, statuses): plain ``TEXT``
  elsewhere, but MySQL cannot index ``TEXT`` and needs a bounded ``VARCHAR`` there.
- **insert-if-absent**: ``ON CONFLICT DO NOTHING`` in SQLite and PostgreSQL; MySQL has
  no such clause (``INSERT IGNORE`` would also turn strict-mode errors into warnings, i.e.
  silent truncation), so its insert is plain and its executor reports a duplicate-key
  error as "0 rows written", which is what the clause means elsewhere.
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
from functools import lru_cache
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
    #: appended to an insert so that a unique-key clash writes nothing instead of failing
    on_conflict_do_nothing: str = " ON CONFLICT DO NOTHING"

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
        "KEY_TEXT": "TEXT",
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
        "KEY_TEXT": "TEXT",
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


# --- MySQL / MariaDB ----------------------------------------------------------------------

#: Binary, NO PAD collations: comparisons, uniqueness and ``ORDER BY`` by code point, with
#: trailing spaces significant, exactly like Python ``str`` (and SQLite/PostgreSQL "C").
#: The server defaults (``utf8mb4_general_ci``; ``utf8mb4_uca1400_ai_ci`` from MariaDB
#: 11.5; ``utf8mb4_0900_ai_ci`` in MySQL 8) are case- and accent-insensitive, and even
#: ``utf8mb4_bin`` is PAD SPACE (``'a' = 'a '``): a different e-mail uniqueness, id lookup
#: and listing order than every other backend.
MARIADB_COLLATION = "utf8mb4_nopad_bin"  # MariaDB >= 10.2
MYSQL_COLLATION = "utf8mb4_0900_bin"  # MySQL >= 8.0 (MariaDB has no 0900 collations)


def _mysql_ts(value: datetime) -> datetime:
    # DATETIME(6) holds a naive wall-clock value: store UTC, never the session time zone.
    return value.astimezone(UTC).replace(tzinfo=None)


def _mysql_ts_decode(value: Any) -> datetime:
    result: datetime = value.replace(tzinfo=UTC)
    return result


@lru_cache(maxsize=4)
def mysql_dialect(collation: str = MARIADB_COLLATION) -> Dialect:
    """The MySQL/MariaDB dialect with every text column in ``collation`` (one cached
    object per collation: queries are cached per dialect)."""
    text = f"CHARACTER SET utf8mb4 COLLATE {collation}"
    return Dialect(
        name="mysql",
        placeholder="%s",
        types={
            # VARCHAR, not TEXT, where a column is in a key: InnoDB indexes at most 3072
            # bytes (768 utf8mb4 characters) per key, so the widest key here,
            # (ns, status, created_at, id), stays under it. Ids are ~32 characters,
            # idempotency scopes 64, e-mails at most 254.
            "ID": f"VARCHAR(191) {text}",
            "KEY_TEXT": f"VARCHAR(255) {text}",
            "TEXT": f"MEDIUMTEXT {text}",  # 16 MB: never a length limit of its own
            "TS": "DATETIME(6)",
            "JSON": "JSON",  # MariaDB: LONGTEXT + json_valid(), text kept as written
            "BIGINT": "BIGINT",
            "INT": "INTEGER",
            "NS_COL": f'"ns" VARCHAR(191) {text} NOT NULL,',
            "NS_KEY": '"ns", ',
        },
        schema_per_namespace=False,
        encode_ts=_mysql_ts,
        decode_ts=_mysql_ts_decode,
        encode_json=_json_text,
        decode_json=json.loads,
        on_conflict_do_nothing="",
    )
