"""``mysql@local+serialization-failures``: seeded deadlocks, as InnoDB makes them.

A failed transaction gets error 1213 at its first write, the server has rolled it back
(nothing written, no transaction left open), at most two in a row, the same ones for the
same seed; writes outside an explicit transaction are never failed. The reference app
keeps parity under it: its SQL unit of work runs a deadlocked transaction again (before,
the MySQL backend called a deadlock a conflict and answered 409).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parity.config import load_config
from parity.engines.base import Engine, EngineUnavailable
from parity.engines.modifiers import ModifiedEngine
from parity.engines.mysql import connect_kwargs
from parity.engines.mysql_faults import ER_LOCK_DEADLOCK, MAX_RUN, DeadlockProxy
from parity.engines.registry import create_engine
from parity.lockstep.session import LockstepSession
from parity.run.backends import provision
from parity.run.scenario import hypothesis_run
from parity.suites.registry import discover_scenarios

ROOT = Path(__file__).resolve().parents[2]
NAME = "mysql@local+serialization-failures=0.5"


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    made = create_engine(NAME)
    reason = made.probe()
    if reason is not None:
        pytest.skip(f"mysql@local unavailable: {reason}")
    made.seed = 4
    try:
        made.start()
    except EngineUnavailable as exc:
        pytest.skip(f"mysql@local unavailable: {exc.reason}")
    yield made
    made.stop()


def _proxy(engine: Engine) -> DeadlockProxy:
    assert isinstance(engine, ModifiedEngine)
    assert isinstance(engine.proxy, DeadlockProxy)
    return engine.proxy


def _connect(engine: Engine) -> Any:
    import pymysql

    return pymysql.connect(**connect_kwargs(engine.store().url or ""), autocommit=True)


def _transactions(conn: Any, table: str, count: int) -> list[str]:
    """``count`` two-insert transactions; ``"ok"`` or the error number of each."""
    import pymysql

    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE IF NOT EXISTS faults")
        cur.execute(f"CREATE TABLE faults.{table} (id INT PRIMARY KEY) ENGINE=InnoDB")
    out = []
    for i in range(count):
        conn.begin()
        try:
            with conn.cursor() as cur:
                cur.execute(f"INSERT INTO faults.{table} VALUES (%s)", (i,))
                cur.execute(f"INSERT INTO faults.{table} VALUES (%s)", (1000 + i,))
            conn.commit()
            out.append("ok")
        except pymysql.err.OperationalError as exc:
            with conn.cursor() as cur:  # the server ended it: nothing is left open
                cur.execute("SELECT @@in_transaction")
                assert cur.fetchone() == (0,)
            conn.rollback()
            out.append(str(exc.args[0]))
    return out


def _rows(conn: Any, table: str) -> int:
    with conn.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM faults.{table}")
        (count,) = cur.fetchone()
    return int(count)


def test_deadlocks_roll_the_transaction_back_at_most_twice_in_a_row(engine: Engine) -> None:
    conn = _connect(engine)
    try:
        _proxy(engine).new_example()
        out = _transactions(conn, "t1", 24)
        assert set(out) == {"ok", str(ER_LOCK_DEADLOCK)}, out
        assert _rows(conn, "t1") == 2 * out.count("ok")  # a failed one wrote nothing
        assert str(ER_LOCK_DEADLOCK) * (MAX_RUN + 1) not in "".join(
            o if o != "ok" else "." for o in out
        )
        assert _proxy(engine).injected["deadlock"] >= out.count(str(ER_LOCK_DEADLOCK))
    finally:
        conn.close()


def test_the_same_seed_fails_the_same_transactions(engine: Engine) -> None:
    conn = _connect(engine)
    try:
        _proxy(engine).new_example()
        first = _transactions(conn, "t2", 12)
        _proxy(engine).new_example()  # what the engine does for the next example
        assert _transactions(conn, "t3", 12) == first
    finally:
        conn.close()


def test_writes_outside_a_transaction_are_never_failed(engine: Engine) -> None:
    conn = _connect(engine)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE IF NOT EXISTS faults")
            cur.execute("CREATE TABLE faults.t4 (id INT PRIMARY KEY) ENGINE=InnoDB")
            for i in range(20):
                cur.execute("INSERT INTO faults.t4 VALUES (%s)", (i,))  # autocommit
        assert _rows(conn, "t4") == 20
    finally:
        conn.close()


def test_the_reference_app_keeps_parity_under_deadlocks() -> None:
    reason = create_engine("mysql@local").probe()
    if reason is not None:
        pytest.skip(f"mysql@local unavailable: {reason}")
    name = "mysql@local+serialization-failures"
    backends = provision(["memory", name], load_config(start=ROOT), 1)
    try:
        errors = {}
        for scenario in ("ledger", "idempotency"):
            session = LockstepSession(
                backends.factories,
                backends.reference,
                namespace_prefix=f"deadlock_{scenario}",
                engines=backends.info,
                seed=1,
            )
            try:
                machine = discover_scenarios()[scenario].bind(session)
                errors[scenario] = hypothesis_run(machine, 10, 10, 1)
            finally:
                session.close()
        injected = dict(_proxy(backends.engines[name]).injected)
    finally:
        backends.close()
    assert errors == {"ledger": None, "idempotency": None}, errors
    assert injected["deadlock"] > 0, injected
