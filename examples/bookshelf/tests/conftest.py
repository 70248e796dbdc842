"""Fixtures: a fresh app per test on its own SQLite file (and, when
``BOOKSHELF_POSTGRES_URL`` names a server, on its own PostgreSQL schema too)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bookshelf import create_app

POSTGRES_URL = os.environ.get("BOOKSHELF_POSTGRES_URL", "")  # postgresql://user@host:port/db


def ticking_clock() -> Callable[[], datetime]:
    """One second later on every call, from 2024-01-01T00:00:00Z."""
    start, ticks = datetime(2024, 1, 1, tzinfo=UTC), count()
    return lambda: start + timedelta(seconds=next(ticks))


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """``make_client(naive=...)``: a client of a fresh app on its own SQLite file."""
    clients: list[TestClient] = []

    def make(**options: object) -> TestClient:
        url = f"sqlite:///{tmp_path}/bookshelf-{len(clients)}.db"
        client = TestClient(create_app(url, clock=ticking_clock(), **options))  # type: ignore[arg-type]
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    base = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def client(request: pytest.FixtureRequest, make_client: Callable[..., TestClient]) -> TestClient:
    """The fixed app, on SQLite and (with ``BOOKSHELF_POSTGRES_URL``) on PostgreSQL."""
    if request.param == "sqlite":
        return make_client()
    if not POSTGRES_URL:
        pytest.skip("set BOOKSHELF_POSTGRES_URL=postgresql://… to run on PostgreSQL too")
    url = request.getfixturevalue("postgres_schema_url")
    client = TestClient(create_app(url, clock=ticking_clock()))
    request.addfinalizer(lambda: client.__exit__(None, None, None))
    return client.__enter__()
