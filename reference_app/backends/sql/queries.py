"""Every statement the SQL backends run, rendered once per (dialect, namespace).

Writes carry their condition in the statement itself, so the database checks it
atomically with the write and the rowcount says whether it held:

- insert-if-absent: ``INSERT ... ON CONFLICT DO NOTHING`` (same syntax in SQLite >= 3.24
  and PostgreSQL; MySQL: a plain insert whose duplicate-key error its executor reports
  as 0 rows) against the primary keys and the unique ``users.email`` and
  ``(events.subject, events.sequence)``; 0 rows means a conflict, and no error aborts
  the PostgreSQL transaction so the reason can still be looked up;
- update-if-version: ``UPDATE ... WHERE id = ? AND version = ?``;
- idempotency claim / release: ``... WHERE scope = ? AND token = ?``;
- delivery: ``UPDATE events ... WHERE id = ? AND attempts = ? AND status = ?``.

Listings are keyset queries on ``(created_at, id)`` (events: ``(time, id)``) using row
value comparison, backed by one index per listing.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from reference_app.backends.sql.dialect import Dialect, quote_ident
from reference_app.backends.sql.mapping import EVENTS, IDEMPOTENCY, SPECS, USERS, TableSpec
from reference_app.backends.sql.migrations import SqlNames


class Queries:
    """Statements of one namespace. Where the dialect keeps the namespace in an ``ns``
    column, every statement leads with it and :attr:`ns` holds its parameter; callers
    put ``*q.ns`` where the statement's comments below say."""

    def __init__(self, dialect: Dialect, ns_ident: str, namespace: str) -> None:
        self.dialect = dialect
        self.names = SqlNames(dialect, ns_ident)
        self.ns: tuple[str, ...] = (namespace,) if dialect.namespace_column else ()
        ns_col = '"ns", ' if self.ns else ""
        ns_mark = "?, " if self.ns else ""
        self._ns_where = '"ns" = ? AND ' if self.ns else ""
        where = self._ns_where
        sql = dialect.sql
        self.insert: dict[str, str] = {}  # params: *ns, every column
        self.get: dict[str, str] = {}  # params: *ns, key
        self.exists: dict[str, str] = {}  # params: *ns, key
        self.update_versioned: dict[str, str] = {}  # params: non-key columns, *ns, key, version
        for spec in SPECS.values():
            table = self.table(spec)
            marks = ", ".join("?" for _ in spec.columns)
            key = f'"{spec.key}"'
            self.insert[spec.table] = sql(
                f"INSERT INTO {table} ({ns_col}{spec.column_list}) VALUES ({ns_mark}{marks})"
                + dialect.on_conflict_do_nothing
            )
            self.get[spec.table] = sql(
                f"SELECT {spec.column_list} FROM {table} WHERE {where}{key} = ?"
            )
            self.exists[spec.table] = sql(f"SELECT 1 FROM {table} WHERE {where}{key} = ?")
            self.update_versioned[spec.table] = sql(
                f"UPDATE {table} SET {_assignments(spec)} WHERE {where}{key} = ? AND version = ?"
            )
        # params: *ns, email
        self.user_by_email = sql(
            f"SELECT {USERS.column_list} FROM {self.table(USERS)} WHERE {where}email = ?"
        )
        # params: non-key columns, *ns, id, attempts, status
        self.update_delivery = sql(
            f"UPDATE {self.table(EVENTS)} SET {_assignments(EVENTS)} "
            f"WHERE {where}id = ? AND attempts = ? AND status = ?"
        )
        # params: non-key columns, *ns, scope, token
        self.claim_takeover = sql(
            f"UPDATE {self.table(IDEMPOTENCY)} SET {_assignments(IDEMPOTENCY)} "
            f"WHERE {where}scope = ? AND token = ?"
        )
        # params: *ns, scope, token
        self.release = sql(
            f"DELETE FROM {self.table(IDEMPOTENCY)} WHERE {where}scope = ? AND token = ?"
        )
        # params: *ns. Dropping a namespace: its rows where it is a column, else its schema.
        self.drop_namespace = (
            [sql(f'DELETE FROM {self.table(spec)} WHERE "ns" = ?') for spec in SPECS.values()]
            if self.ns
            else [f"DROP SCHEMA IF EXISTS {quote_ident(ns_ident)} CASCADE"]
        )
        # params: *ns, status, limit
        self.pending_events = sql(
            f"SELECT {EVENTS.column_list} FROM {self.table(EVENTS)} "
            f"WHERE {where}status = ? ORDER BY subject, sequence LIMIT ?"
        )

    def table(self, spec: TableSpec[Any]) -> str:
        return self.names[spec.table]

    @lru_cache(maxsize=64)  # noqa: B019 - a Queries lives as long as its namespace
    def listing(
        self, spec: TableSpec[Any], filters: tuple[str, ...], newest_first: bool, after: bool
    ) -> str:
        """Keyset page of rows matching ``filters`` (equality) strictly after a key.
        Params: *ns, filter values, (key time, key id) if ``after``, limit."""
        order = f'"{spec.order_by}"'
        where = ['"ns" = ?'] if self.ns else []
        where += [f'"{column}" = ?' for column in filters]
        if after:
            where.append(f"({order}, id) {'<' if newest_first else '>'} (?, ?)")
        direction = "DESC" if newest_first else "ASC"
        text = f"SELECT {spec.column_list} FROM {self.table(spec)}"
        if where:
            text += " WHERE " + " AND ".join(where)
        text += f" ORDER BY {order} {direction}, id {direction} LIMIT ?"
        return self.dialect.sql(text)


def _assignments(spec: TableSpec[Any]) -> str:
    return ", ".join(f"{c.quoted} = ?" for c in spec.non_key_columns)


@lru_cache(maxsize=1024)
def queries_for(dialect: Dialect, ns_ident: str, namespace: str) -> Queries:
    """Rendered statements of one namespace (cheap string work, cached per namespace)."""
    return Queries(dialect, ns_ident, namespace if dialect.namespace_column else "")
