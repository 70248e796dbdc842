"""What the shared SQL code needs from a driver: reads, and one atomic write transaction.

Each backend module implements :class:`Database` over its driver (``sqlite3`` with a
small connection pool; psycopg 3 with ``psycopg_pool``), translating driver errors into
the port's :class:`BackendUnavailable` (cannot reach the store) or
:class:`CommitConflict` (a concurrent transaction won). The shared unit of work only
ever sees those two.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from reference_app.backends.sql.dialect import Dialect


class TransactionAborted(Exception):
    """The server aborted the write transaction for a reason of its own (a serialization
    failure or a deadlock, SQLSTATE class 40): nothing was written, and running the same
    statements again is the documented remedy, so the unit of work retries them."""


class Executor(Protocol):
    """Statements inside one open transaction."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return its rowcount (the condition check of a write)."""
        ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def execute_batch(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[int]:
        """Run every statement, in order; return each one's rowcount. A driver may send
        them in one round trip (psycopg's pipeline mode)."""
        ...


class Database(abc.ABC):
    dialect: Dialect

    @abc.abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One read statement outside any write transaction (sees committed data)."""

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[Executor]:
        """A write transaction: committed when the block exits, rolled back on error."""

    @abc.abstractmethod
    def migration_transaction(self, ns_ident: str) -> AbstractContextManager[Executor]:
        """A write transaction that also serialises concurrent migrators of a namespace
        and creates its container if the dialect has one (a PostgreSQL schema)."""

    @abc.abstractmethod
    def ping(self) -> None:
        """``SELECT 1``, quickly; raise ``BackendUnavailable`` when it fails."""

    @abc.abstractmethod
    def server_version(self) -> str: ...

    def reopen(self) -> Database:
        """A new handle on the same database, as a restarted process would open it."""
        raise NotImplementedError(f"{type(self).__name__} cannot be reopened")

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Give back connections (shared pools stay open for other namespaces)."""
