"""Hostile store settings: the same store, configured the way a real server may be.

Why: every engine Parity starts runs with friendly defaults (PostgreSQL's session time
zone is UTC, MariaDB's ``sql_mode`` and collation are its defaults, SQLite keeps a rollback
journal). A backend that silently relies on them passes here and breaks on a server set
up otherwise. These functions reconfigure a server *Parity started itself* (never a
borrowed one) before the app's first connection, the way its operator would: server-wide
settings, so every new session inherits them and the app sees them only if it looks.
"""

from __future__ import annotations

import time
from typing import Any

#: what ``+hostile`` means per store kind (each a modifier with its value)
HOSTILE: dict[str, tuple[tuple[str, str], ...]] = {
    # +12:45/+13:45: not a whole hour, east of UTC, with daylight saving time
    "postgres": (("tz", "Pacific/Chatham"),),
    # strict everything, ANSI quoting, and an accent-/case-insensitive Unicode collation
    # other than MariaDB's default utf8mb4_general_ci (ß = ss here, not there)
    "mysql": (
        ("sql-mode", "ANSI_QUOTES,ONLY_FULL_GROUP_BY,STRICT_ALL_TABLES,NO_ZERO_DATE"),
        ("collation", "utf8mb4_unicode_ci"),
    ),
    "sqlite": (("journal", "wal"),),
}


def set_postgres(url: str, settings: dict[str, str], timeout: float = 10.0) -> None:
    """``ALTER SYSTEM`` + reload, then wait until a new session sees every setting."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        for name, value in settings.items():
            statement = sql.SQL("ALTER SYSTEM SET {} = {}")
            conn.execute(statement.format(sql.Identifier(name), sql.Literal(value)))
        conn.execute("SELECT pg_reload_conf()")
    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            seen = {name: _show(conn, name) for name in settings}
        if seen == settings:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"PostgreSQL did not take {settings} (a new session sees {seen})")
        time.sleep(0.05)


def _show(conn: Any, name: str) -> str:
    from psycopg import sql

    row = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
    return str(row[0]) if row else ""


def set_mysql(url: str, settings: dict[str, str]) -> None:
    """``SET GLOBAL`` each setting (new connections and new databases inherit them)."""
    from parity.engines.mysql import _connect

    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            for name, value in settings.items():
                cur.execute(f"SET GLOBAL {name} = %s", (value,))
    finally:
        conn.close()


def set_sqlite_journal(path: str, mode: str) -> None:
    """Create the database file in ``mode`` (WAL is a property of the file: it persists,
    so the app's own connections open it in WAL whatever they assume)."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        got = conn.execute(f"PRAGMA journal_mode={mode}").fetchone()
    finally:
        conn.close()
    if not got or str(got[0]).lower() != mode:
        raise RuntimeError(f"SQLite refused journal_mode={mode} for {path} (got {got})")
