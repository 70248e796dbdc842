"""The MySQL/MariaDB engines and backend: lifecycle, clean-up, reasons, chosen semantics."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from parity.engines import mysql as mysql_engines
from parity.engines.base import EngineUnavailable
from parity.engines.mysql import LocalMysqlEngine, UrlMysqlEngine, connect_kwargs
from parity.engines.registry import create_engine
from reference_app.backends.registry import create_backend
from reference_app.backends.sql.mapping import USERS
from reference_app.service_layer.unit_of_work import BackendUnavailable, PageQuery
from reference_app.settings import Settings
from tests.backends.test_unit_of_work_contract import insert, read, user
from tests.engine_pool import settings_for
from tests.processes import alive as _alive

pymysql = pytest.importorskip("pymysql")

from reference_app.backends.mysql import (  # noqa: E402 - needs PyMySQL
    MysqlBackend,
    close_pools,
    namespace_key,
    parse_url,
    shared_pool,
)


@pytest.fixture(scope="module")
def local() -> Iterator[LocalMysqlEngine]:
    engine = LocalMysqlEngine()
    reason = engine.probe()
    if reason is not None:
        pytest.skip(f"mysql@local unavailable: {reason}")
    engine.start()
    yield engine
    close_pools(engine.url)
    engine.stop()


def _backend(engine: Any, namespace: str) -> MysqlBackend:
    backend = create_backend(settings_for(engine, namespace))
    assert isinstance(backend, MysqlBackend)
    return backend


def test_registry_names_the_engines_and_the_alias() -> None:
    assert isinstance(create_engine("mysql@local"), LocalMysqlEngine)
    assert isinstance(create_engine("mysql"), LocalMysqlEngine)
    assert isinstance(create_engine("mysql@url"), UrlMysqlEngine)


def test_local_engine_start_then_stop_leaves_no_process_or_directory() -> None:
    engine = LocalMysqlEngine()
    if (reason := engine.probe()) is not None:
        pytest.skip(reason)
    engine.start()
    try:
        pid, tmp = engine.server_pid, engine.temp_dir
        assert pid is not None and tmp is not None and _alive(pid)
        if os.geteuid() == 0:  # never the server as root
            assert Path(f"/proc/{pid}").stat().st_uid != 0
        info = engine.info()
        assert info.name == "mysql@local" and "MariaDB" in info.version
        assert info.details["collation_server"]  # the defaults an app would inherit
        assert engine.url is not None and engine.url.startswith("mysql://root@127.0.0.1:")
        settings = settings_for(engine, "ns")
        assert settings.backend == "mysql" and settings.database_url == engine.url
    finally:
        engine.stop()
    assert not _alive(pid)
    assert not tmp.exists()
    engine.stop()  # idempotent


def test_probe_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mysql_engines, "find_binaries", lambda: None)
    reason = LocalMysqlEngine().probe()
    assert reason is not None and "mariadbd" in reason and "not found" in reason
    with pytest.raises(EngineUnavailable, match="not found"):
        LocalMysqlEngine().start()
    monkeypatch.undo()
    monkeypatch.setattr(mysql_engines.os, "geteuid", lambda: 0)
    monkeypatch.setattr(mysql_engines, "_run_as_user", lambda: None)
    monkeypatch.setattr(mysql_engines, "find_binaries", lambda: (Path("a"), Path("b")))
    reason = LocalMysqlEngine().probe()
    assert reason is not None and "root" in reason and "mysql" in reason


def test_isolated_database_is_in_the_url_and_discard_drops_it(local: LocalMysqlEngine) -> None:
    store = local.isolated("Example 1")
    database = store.option("database")
    assert database == "p_example_1" and store.url == f"{local.url}{database}"
    backend = create_backend(
        Settings(backend="mysql", database_url=store.url, namespace=store.namespace)
    )
    assert isinstance(backend, MysqlBackend) and backend.db.database == database
    shown = "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s"
    observer = _backend(local, "observer")
    assert observer.db.query(shown, (database,)) != []
    close_pools(store.url)
    local.discard(store)
    assert observer.db.query(shown, (database,)) == []


def test_a_new_namespace_needs_no_ddl_and_drop_removes_only_its_rows(
    local: LocalMysqlEngine,
) -> None:
    first = _backend(local, "ddl_a")
    tables = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s"
    before = first.db.query(tables, (first.db.database,))[0][0]
    started = time.perf_counter()
    others = [_backend(local, f"ddl_{i}") for i in range(5)]
    per_namespace = (time.perf_counter() - started) / 5
    assert first.db.query(tables, (first.db.database,))[0][0] == before
    assert per_namespace < 0.1, f"{per_namespace * 1000:.0f} ms per namespace"
    insert(first, user())
    insert(others[0], user())
    others[0].drop_namespace()
    assert read(others[0], lambda uow: uow.get_user("usr_1")) is None
    assert read(first, lambda uow: uow.get_user("usr_1")) == user()


def test_every_text_column_is_binary_no_pad_and_timestamps_keep_microseconds(
    local: LocalMysqlEngine,
) -> None:
    backend = _backend(local, "semantics")
    rows = backend.db.query(
        "SELECT column_name, collation_name, column_type FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name LIKE %s",
        (backend.db.database, "ledger\\_%"),
    )
    json_columns = {"data", "response_headers"}  # MariaDB's JSON: LONGTEXT utf8mb4_bin
    collations = {r[1] for r in rows if r[1] is not None and r[0] not in json_columns}
    assert collations == {"utf8mb4_nopad_bin"}, rows
    timestamps = {r[2] for r in rows if r[0] in {"created_at", "time", "expires_at"}}
    assert timestamps == {"datetime(6)"}
    session = backend.db.query("SELECT @@sql_mode, @@tx_isolation, @@time_zone")[0]
    assert "STRICT_ALL_TABLES" in session[0] and "ANSI_QUOTES" in session[0]
    assert session[1:] == ("READ-COMMITTED", "+00:00")


def test_emails_and_ids_compare_exactly(local: LocalMysqlEngine) -> None:
    backend = _backend(local, "exact")
    insert(backend, user())
    twin = replace(user(), id="usr_2", email=user().email.replace("a", "á", 1))
    insert(backend, twin)  # an accent makes another e-mail: no conflict
    assert read(backend, lambda uow: uow.get_user("USR_1")) is None
    assert read(backend, lambda uow: uow.get_user("usr_1 ")) is None
    stamp = datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    insert(backend, replace(user(), id="usr_3", email="t@x.io", created_at=stamp))
    got = read(backend, lambda uow: uow.get_user("usr_3"))
    assert got is not None and got.created_at == stamp


def test_a_value_too_long_is_an_error_never_a_truncation(local: LocalMysqlEngine) -> None:
    backend = _backend(local, "strict")
    insert_user = backend.queries.insert[USERS.table]
    too_long = replace(user(), email="e" * 300 + "@x.io")
    values = [backend.namespace, *USERS.encode(too_long, backend.db.dialect)]
    with pytest.raises(pymysql.err.DataError, match="too long"), backend.db.transaction() as ex:
        ex.execute(insert_user, values)


def test_namespaces_share_one_pool_and_long_names_fit(local: LocalMysqlEngine) -> None:
    one, two = _backend(local, "pool_a"), _backend(local, "pool_b")
    assert one.db._pool is two.db._pool is shared_pool(local.url or "")  # type: ignore[attr-defined]
    one.close()
    with two.unit_of_work() as uow:
        assert uow.list_cards(None, PageQuery(1)) == []
    long = "n" * 300
    assert len(namespace_key(long)) <= 191 and namespace_key(long) != namespace_key(long + "x")
    with _backend(local, long).unit_of_work() as uow:
        assert uow.list_cards(None, PageQuery(1)) == []


def test_the_migrate_command_applies_once(local: LocalMysqlEngine) -> None:
    from reference_app.backends.sql.cli import main, migrate_from_settings
    from reference_app.backends.sql.migrations import LATEST

    fresh = Settings(backend="mysql", database_url=f"{local.url}migrate_cmd", namespace="m")
    assert migrate_from_settings(fresh) == list(range(1, LATEST + 1))
    assert migrate_from_settings(fresh) == []
    assert main(["--database-url", f"{local.url}migrate_cmd"]) == 0
    close_pools(f"{local.url}migrate_cmd")


def test_parse_url_accepts_the_usual_spellings() -> None:
    p = parse_url("mysql+pymysql://me:s%40cret@db.example:3307/ledger")
    assert (p.host, p.port, p.user, p.password, p.database) == (
        "db.example", 3307, "me", "s@cret", "ledger"
    )  # fmt: skip
    assert parse_url("mariadb://127.0.0.1/").database is None
    with pytest.raises(ValueError, match="not a MySQL URL"):
        parse_url("postgresql://x/y")
    assert connect_kwargs("mysql://u@h:1/d")["database"] == "d"


def test_killing_the_server_makes_readiness_fail() -> None:
    engine = LocalMysqlEngine()
    if (reason := engine.probe()) is not None:
        pytest.skip(reason)
    engine.start()
    try:
        backend = _backend(engine, "victim")
        backend.check_ready()
        pid = engine.server_pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        started = time.monotonic()
        with pytest.raises(BackendUnavailable, match="mysql"):
            backend.check_ready()
        with pytest.raises(BackendUnavailable), backend.unit_of_work() as uow:
            uow.list_cards(None, PageQuery(1))
        assert time.monotonic() - started < 8
    finally:
        close_pools(engine.url)
        engine.stop()


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_a_run_that_is_terminated_or_killed_leaves_no_server(how: str) -> None:
    """SIGTERM: the parity CLI's handling (an interrupt, then atexit stop()). SIGKILL: no
    Python code runs at all; the watchdog sees its pipe close and cleans up."""
    if (reason := LocalMysqlEngine().probe()) is not None:
        pytest.skip(reason)
    script = textwrap.dedent(
        """
        import signal, sys, time
        from parity.engines.mysql import LocalMysqlEngine
        def interrupt(*_):
            raise KeyboardInterrupt
        signal.signal(signal.SIGTERM, interrupt)
        engine = LocalMysqlEngine()
        engine.start()
        print(engine.server_pid, engine.temp_dir, flush=True)
        try:
            time.sleep(120)
        except KeyboardInterrupt:
            sys.exit(1)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    assert proc.stdout is not None
    pid_text, tmp_text = proc.stdout.readline().split()
    pid, tmp = int(pid_text), Path(tmp_text)
    assert _alive(pid) and tmp.exists()
    proc.send_signal(signal.SIGTERM if how == "SIGTERM" else signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 20
    while (_alive(pid) or tmp.exists()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)
    assert not tmp.exists()


def test_url_engine_without_the_variable_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARITY_MYSQL_URL", raising=False)
    engine = UrlMysqlEngine()
    assert engine.probe() == "PARITY_MYSQL_URL is not set"
    with pytest.raises(EngineUnavailable) as caught:
        engine.start()
    assert caught.value.engine == "mysql@url"


def test_url_engine_with_an_unreachable_server_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    port = mysql_engines._free_port()
    monkeypatch.setenv("PARITY_MYSQL_URL", f"mysql://me:s3cret@127.0.0.1:{port}/db")
    with pytest.raises(EngineUnavailable) as caught:
        UrlMysqlEngine().start()
    reason = caught.value.reason
    assert "unreachable" in reason and f"127.0.0.1:{port}" in reason
    assert "s3cret" not in reason and "\n" not in reason


def test_url_engine_runs_on_a_server_and_drops_its_databases(
    local: LocalMysqlEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert local.url is not None
    monkeypatch.setenv("PARITY_MYSQL_URL", local.url)
    engine = UrlMysqlEngine()
    assert engine.probe() is None
    engine.start()
    assert engine.info().version == local.info().version
    isolated = engine.isolated("borrowed_example")
    database = isolated.option("database")
    observer = _backend(local, "observer2")
    shown = "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s"
    assert observer.db.query(shown, (database,)) != []
    engine.stop()  # a borrowed server is left as it was found
    assert observer.db.query(shown, (database,)) == []
