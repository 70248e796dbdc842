"""``create_app(database_url)``: the Bookshelf API on SQLite or PostgreSQL.

Routes (``bookshelf.api``): ``/shelves`` and ``/books`` (create, get, patch, delete),
``GET /shelves`` and ``GET /books`` with filters (``shelf_id``, ``author``, ``status``,
``q`` = part of the title), ``sort`` (``title`` or ``year``) and ``limit``/``offset``.

The first version of this app passed its tests on SQLite and misbehaved on PostgreSQL.
Each fix that Parity's SQLite-vs-PostgreSQL runs led to has a name in :data:`FIXES`;
``create_app(url, naive=True)`` (or ``naive={"order", …}``) switches fixes off again, so
the divergence each one removed can be reproduced: see the README.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.orm import sessionmaker

from bookshelf.api import FIXES, Settings, build_router
from bookshelf.models import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    database_url: str,
    *,
    naive: bool | Collection[str] = False,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """The app on ``database_url`` (a SQLAlchemy URL); tables are created at start-up.

    ``naive=True`` switches every fix off, ``naive={"order", "ids"}`` those named;
    ``clock`` stamps ``created_at`` and ``updated_at``."""
    dropped = FIXES if naive is True else frozenset(naive or ())
    if unknown := dropped - FIXES:
        raise ValueError(f"unknown fixes {sorted(unknown)}; known: {sorted(FIXES)}")
    fixes = FIXES - dropped
    is_sqlite = database_url.startswith("sqlite")
    engine = create_engine(
        database_url, connect_args={"check_same_thread": False} if is_sqlite else {}
    )
    if is_sqlite and "foreign_keys" in fixes:
        event.listen(engine, "connect", enforce_foreign_keys)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        create_tables(engine, fixes)
        yield
        engine.dispose()

    app = FastAPI(title="Bookshelf", lifespan=lifespan)
    app.state.settings = Settings(sessionmaker(engine), fixes, clock)
    app.include_router(build_router(fixes))
    return app


def enforce_foreign_keys(dbapi_connection: object, _record: object) -> None:
    """Fix "foreign_keys": SQLite ignores FOREIGN KEY clauses unless asked per connection."""
    dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[attr-defined]


def create_tables(engine: Engine, fixes: frozenset[str]) -> None:
    metadata = Base.metadata
    if "ids" not in fixes:  # the first version's tables: a plain INTEGER PRIMARY KEY
        metadata = MetaData()
        for table in Base.metadata.sorted_tables:
            table.to_metadata(metadata).dialect_options["sqlite"]["autoincrement"] = False
    metadata.create_all(engine)
