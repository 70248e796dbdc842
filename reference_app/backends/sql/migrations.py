"""Versioned schema migrations, applied per namespace on start-up or by a command.

Migrations are the ``NNNN_name.sql`` files next to this module, written once for both
dialects with ``{placeholders}`` for table names and types. Each namespace has its own
``schema_version`` table; :func:`migrate` applies, in one transaction, every migration
newer than the recorded version, so start-up on an up-to-date namespace changes nothing
and two processes starting at once cannot both apply a migration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from reference_app.backends.sql.database import Database, Executor
from reference_app.backends.sql.dialect import Dialect

_FILE = re.compile(r"(\d{4})_(\w+)\.sql")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self, names: SqlNames) -> list[str]:
        text = "\n".join(
            line for line in self.sql.splitlines() if not line.lstrip().startswith("--")
        )
        rendered = text.format_map(names)
        return [s.strip() for s in rendered.split(";") if s.strip()]


class SqlNames(dict[str, str]):
    """``{users}`` -> the namespace's table, ``{ix_x}`` -> an index name, ``{TS}`` -> a
    column type: the placeholder vocabulary of migrations and queries."""

    def __init__(self, dialect: Dialect, ns_ident: str) -> None:
        super().__init__(dialect.types)
        self.dialect = dialect
        self.ns_ident = ns_ident

    def __missing__(self, key: str) -> str:
        if key.startswith("ix_"):
            value = self.dialect.index(self.ns_ident, key)
        else:
            value = self.dialect.table(self.ns_ident, key)
        self[key] = value
        return value


def _load() -> tuple[Migration, ...]:
    found = []
    for entry in resources.files(__package__).iterdir():
        match = _FILE.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, got {versions}")
    return tuple(found)


MIGRATIONS: tuple[Migration, ...] = _load()
LATEST = MIGRATIONS[-1].version


def current_version(ex: Executor, names: SqlNames) -> int:
    rows = ex.query(f"SELECT MAX(version) FROM {names['schema_version']}")
    return int(rows[0][0] or 0) if rows else 0


def migrate(db: Database, ns_ident: str) -> list[int]:
    """Bring the namespace ``ns_ident`` up to :data:`LATEST`; return versions applied."""
    names = SqlNames(db.dialect, ns_ident)
    applied: list[int] = []
    with db.migration_transaction(ns_ident) as ex:
        ex.execute(
            f"CREATE TABLE IF NOT EXISTS {names['schema_version']} ("
            f"version {names['INT']} PRIMARY KEY, name {names['TEXT']} NOT NULL, "
            f"applied_at {names['TS']} NOT NULL)"
        )
        version = current_version(ex, names)
        for migration in MIGRATIONS:
            if migration.version <= version:
                continue
            for statement in migration.statements(names):
                ex.execute(statement)
            ex.execute(
                db.dialect.sql(
                    f"INSERT INTO {names['schema_version']} (version, name, applied_at) "
                    "VALUES (?, ?, ?)"
                ),
                (migration.version, migration.name, db.dialect.encode_ts(datetime.now(UTC))),
            )
            applied.append(migration.version)
    return applied
