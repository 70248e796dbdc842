"""The PostgreSQL engines: lifecycle, clean-up, and clear reasons when unavailable."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.engines import postgres as pg_engines
from parity.engines.base import EngineUnavailable
from parity.engines.postgres import (
    DockerPostgresEngine,
    LocalPostgresEngine,
    UrlPostgresEngine,
    docker_ping,
    redact,
)
from parity.engines.registry import create_engine
from reference_app.backends.postgres import PostgresBackend, shared_pool
from reference_app.backends.registry import create_backend
from reference_app.service_layer.unit_of_work import BackendUnavailable, PageQuery
from tests.engine_pool import settings_for
from tests.processes import alive as _alive


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture(scope="module")
def local() -> Iterator[LocalPostgresEngine]:
    engine = LocalPostgresEngine()
    reason = engine.probe()
    if reason is not None:
        pytest.skip(f"postgres@local unavailable: {reason}")
    engine.start()
    yield engine
    engine.stop()


def test_registry_names_the_three_engines() -> None:
    assert isinstance(create_engine("postgres@local"), LocalPostgresEngine)
    assert isinstance(create_engine("postgres"), LocalPostgresEngine)
    assert isinstance(create_engine("postgres@docker"), DockerPostgresEngine)
    assert isinstance(create_engine("postgres@url"), UrlPostgresEngine)


def test_local_engine_start_then_stop_leaves_no_process_or_directory() -> None:
    engine = LocalPostgresEngine()
    if (reason := engine.probe()) is not None:
        pytest.skip(reason)
    engine.start()
    try:
        pid, tmp = engine.server_pid(), engine._tmp
        assert pid is not None and tmp is not None and _alive(pid)
        info = engine.info()
        assert info.name == "postgres@local" and info.version[:2].isdigit()
        settings = settings_for(engine, "ns")
        assert settings.backend == "postgres" and settings.namespace == "ns"
        assert settings.database_url is not None and "127.0.0.1" in settings.database_url
    finally:
        engine.stop()
    assert not _alive(pid)
    assert not tmp.exists()
    assert [p for p in _processes_mentioning(str(tmp)) if _alive(p)] == []
    engine.stop()  # idempotent


def test_local_engine_cleans_up_when_start_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = LocalPostgresEngine()
    if (reason := engine.probe()) is not None:
        pytest.skip(reason)
    seen: dict[str, object] = {}

    def broken_wait(log: Path) -> None:
        seen["tmp"], seen["pid"] = engine._tmp, engine._proc.pid if engine._proc else None
        time.sleep(0.3)  # let the server get going: clean-up must stop it whatever its state
        seen["server"] = engine.server_pid()
        raise EngineUnavailable(engine.name, "simulated failure")

    monkeypatch.setattr(engine, "_wait_ready", broken_wait)
    with pytest.raises(EngineUnavailable, match="simulated failure"):
        engine.start()
    assert isinstance(seen["tmp"], Path) and not seen["tmp"].exists()
    assert isinstance(seen["pid"], int) and not _alive(seen["pid"])
    assert seen["server"] is None or not _alive(seen["server"])  # type: ignore[arg-type]
    assert [p for p in _processes_mentioning(str(seen["tmp"])) if _alive(p)] == []
    assert engine.url is None


def test_local_engine_probe_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg_engines, "find_binaries", lambda: None)
    reason = LocalPostgresEngine().probe()
    assert reason is not None and "initdb" in reason and "not found" in reason
    with pytest.raises(EngineUnavailable, match="not found"):
        LocalPostgresEngine().start()
    monkeypatch.undo()
    monkeypatch.setattr(pg_engines.os, "geteuid", lambda: 0)
    monkeypatch.setattr(pg_engines, "_run_as_user", lambda: None)
    reason = LocalPostgresEngine().probe()
    assert reason is not None and "root" in reason and "non-root" in reason


def test_killing_the_server_makes_readiness_fail() -> None:
    engine = LocalPostgresEngine()
    if (reason := engine.probe()) is not None:
        pytest.skip(reason)
    engine.start()
    try:
        backend = create_backend(settings_for(engine, "victim"))
        backend.check_ready()
        pid = engine.server_pid()
        assert pid is not None
        os.kill(pid, signal.SIGQUIT)  # immediate shutdown, as a crash would look
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        started = time.monotonic()
        with pytest.raises(BackendUnavailable, match="postgres"):
            backend.check_ready()
        assert time.monotonic() - started < 8
        with pytest.raises(BackendUnavailable), backend.unit_of_work() as uow:
            uow.list_cards(None, PageQuery(1))
    finally:
        engine.stop()


def test_namespaces_share_one_pool_and_close_does_not_kill_it(
    local: LocalPostgresEngine,
) -> None:
    one = create_backend(settings_for(local, "pool_a"))
    two = create_backend(settings_for(local, "pool_b"))
    assert isinstance(one, PostgresBackend) and isinstance(two, PostgresBackend)
    assert one.db._pool is two.db._pool is shared_pool(local.url or "")  # type: ignore[attr-defined]
    one.close()
    two.check_ready()
    with two.unit_of_work() as uow:
        assert uow.list_cards(None, PageQuery(1)) == []


def test_creating_a_namespace_is_cheap(local: LocalPostgresEngine) -> None:
    create_backend(settings_for(local, "warm_up"))
    started = time.perf_counter()
    for i in range(5):
        create_backend(settings_for(local, f"cheap_{i}"))
    per_namespace = (time.perf_counter() - started) / 5
    assert per_namespace < 0.5, f"{per_namespace * 1000:.0f} ms per namespace"


def test_ids_and_subjects_sort_in_code_point_order_on_any_server(
    local: LocalPostgresEngine,
) -> None:
    backend = create_backend(settings_for(local, "collation"))
    assert isinstance(backend, PostgresBackend)
    rows = backend.db.query(
        "SELECT table_name, column_name, collation_name FROM information_schema.columns "
        "WHERE table_schema = %s AND column_name IN ('id', 'subject', 'scope')",
        (backend.ns_ident,),
    )
    assert len(rows) == 7  # five ids, events.subject, idempotency.scope
    assert {r[2] for r in rows} == {"C"}, rows


def test_url_engine_without_the_variable_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARITY_POSTGRES_URL", raising=False)
    engine = UrlPostgresEngine()
    assert engine.probe() == "PARITY_POSTGRES_URL is not set"
    with pytest.raises(EngineUnavailable) as caught:
        engine.start()
    assert caught.value.reason == "PARITY_POSTGRES_URL is not set"
    assert caught.value.engine == "postgres@url"


def test_url_engine_with_an_unreachable_server_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    port = pg_engines._free_port()  # nothing listens there
    monkeypatch.setenv("PARITY_POSTGRES_URL", f"postgresql://me:s3cret@127.0.0.1:{port}/db")
    engine = UrlPostgresEngine()
    with pytest.raises(EngineUnavailable) as caught:
        engine.start()
    reason = caught.value.reason
    assert "unreachable" in reason and f"127.0.0.1:{port}" in reason
    assert "s3cret" not in reason and "\n" not in reason


def test_url_engine_runs_on_a_server_and_drops_its_schemas(
    local: LocalPostgresEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert local.url is not None
    monkeypatch.setenv("PARITY_POSTGRES_URL", local.url)
    engine = UrlPostgresEngine()
    assert engine.probe() is None
    engine.start()
    backend = create_backend(settings_for(engine, "borrowed"))
    assert isinstance(backend, PostgresBackend)
    assert engine.info().version == local.info().version
    isolated = engine.isolated("borrowed_example")  # a schema of its own, in the URL
    schema = isolated.option("schema")
    assert isolated.url and "search_path" in isolated.url
    probe = create_backend(settings_for(local, "observer"))
    assert isinstance(probe, PostgresBackend)
    present = "SELECT 1 FROM pg_namespace WHERE nspname = %s"
    assert probe.db.query(present, (schema,)) != []
    engine.stop()  # a borrowed server is left as it was found
    assert probe.db.query(present, (schema,)) == []


def test_docker_engine_probe_gives_a_reason_without_docker() -> None:
    if docker_ping() is None:
        pytest.skip("a Docker engine answers here")
    engine = DockerPostgresEngine()
    reason = engine.probe()
    assert reason is not None and "no Docker engine answers" in reason
    with pytest.raises(EngineUnavailable, match="no Docker engine answers"):
        engine.start()


def test_redact_hides_only_the_password() -> None:
    assert redact("postgresql://u:pw@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert redact("postgresql://u@h/d") == "postgresql://u@h/d"
