"""``+serialization-failures`` and the hostile store settings (``+tz``, ``+sql-mode``,
``+collation``, ``+journal``, ``+hostile``) on the SQL engines Parity starts: each does
what it says, the same way for the same seed, and the reference app keeps parity."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.config import load_config
from parity.engines.base import Engine, EngineUnavailable
from parity.engines.registry import create_engine
from parity.lockstep.session import LockstepSession
from parity.run.backends import provision
from parity.run.scenario import hypothesis_run
from parity.suites.registry import discover_scenarios

ROOT = Path(__file__).resolve().parents[2]


def started(name: str, seed: int = 0) -> Engine:
    engine = create_engine(name)
    reason = engine.probe()
    if reason is not None:
        pytest.skip(f"{name} unavailable: {reason}")
    engine.seed = seed
    try:
        engine.start()
    except EngineUnavailable as exc:
        pytest.skip(f"{name} unavailable: {exc.reason}")
    return engine


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.stop()


def failure_pattern(url: str, schema: str, writes: int = 30) -> list[bool]:
    """Which of ``writes`` single-statement transactions failed with 40001 (no retry)."""
    import psycopg

    out = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"CREATE TABLE {schema}.t (x int)")
        for i in range(writes):
            try:
                conn.execute(f"INSERT INTO {schema}.t VALUES (%s)", (i,))
                out.append(False)
            except psycopg.errors.SerializationFailure as exc:
                assert exc.sqlstate == "40001"
                out.append(True)
        (count,) = conn.execute(f"SELECT count(*) FROM {schema}.t").fetchone() or (0,)
    assert count == out.count(False)  # a failed write wrote nothing
    return out


def test_serialization_failures_are_seeded_per_schema_and_capped(engines: list[Engine]) -> None:
    seven = started("postgres@local+serialization-failures=0.5", seed=7)
    engines.append(seven)
    url = seven.store().url
    assert url is not None
    first = failure_pattern(url, "a")
    assert failure_pattern(url, "b") == first  # each namespace meets the same stream
    assert 5 <= first.count(True) <= 25
    assert "True, True, True" not in str(first)  # never more than 2 in a row
    eight = started("postgres@local+serialization-failures=0.5", seed=8)
    engines.append(eight)
    url8 = eight.store().url
    assert url8 is not None
    assert failure_pattern(url8, "a") != first


def test_tz_sets_the_time_zone_every_new_session_sees(engines: list[Engine]) -> None:
    import psycopg

    engine = started("postgres@local+tz=America/St_Johns")
    engines.append(engine)
    url = engine.store("ns").url
    assert url is not None
    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW TimeZone").fetchone()
    assert row == ("America/St_Johns",)


def test_mysql_hostile_sets_sql_mode_and_collation(engines: list[Engine]) -> None:
    from parity.engines.mysql import _connect

    engine = started("mysql@local+hostile")
    engines.append(engine)
    url = engine.store().url
    assert url is not None
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE hostile_check")
            cur.execute(
                "SELECT @@sql_mode, @@collation_server, DEFAULT_COLLATION_NAME FROM "
                "information_schema.SCHEMATA WHERE SCHEMA_NAME = 'hostile_check'"
            )
            sql_mode, collation, database_collation = cur.fetchone()
    finally:
        conn.close()
    assert "ANSI_QUOTES" in sql_mode and "ONLY_FULL_GROUP_BY" in sql_mode
    assert collation == database_collation == "utf8mb4_unicode_ci"


def test_sqlite_journal_makes_every_database_file_wal(engines: list[Engine]) -> None:
    engine = started("sqlite+journal=wal")
    engines.append(engine)
    for store in (engine.store("shared"), engine.isolated("ex1")):
        path = store.option("path")
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        finally:
            conn.close()


@pytest.mark.parametrize(
    "name",
    [
        "postgres@local+serialization-failures=0.2+hostile",
        "mysql@local+hostile",
        "sqlite+hostile",
    ],
)
def test_the_reference_app_keeps_parity_on_a_hostile_store(name: str) -> None:
    reason = create_engine(name).probe()
    if reason is not None:
        pytest.skip(f"{name} unavailable: {reason}")
    backends = provision(["memory", name], load_config(start=ROOT), 5)
    try:
        session = LockstepSession(
            backends.factories,
            backends.reference,
            namespace_prefix="hostile",
            engines=backends.info,
            seed=0,
        )
        try:
            machine = discover_scenarios()["ledger"].bind(session)
            error = hypothesis_run(machine, 3, 10, 0)
        finally:
            session.close()
        if "serialization" in name:
            from parity.engines import postgres_faults

            url = backends.engines[name].store().url
            assert url is not None
            assert postgres_faults.injected(url) > 0
    finally:
        backends.close()
    assert error is None, error
