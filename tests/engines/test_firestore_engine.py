"""The Firestore engines: lifecycle (no JVM left behind), isolation, clean-up, and clear
reasons when unavailable. Needs gcloud's Firestore emulator and Java; skips otherwise."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.engines.base import EngineUnavailable
from parity.engines.firestore import (
    EmulatorFirestoreEngine,
    UrlFirestoreEngine,
    answers,
    host_of,
    project_for,
)
from parity.engines.registry import create_engine
from reference_app.backends.registry import create_backend
from reference_app.domain.model import User
from reference_app.service_layer.unit_of_work import Backend, PageQuery
from tests.engine_pool import settings_for
from tests.processes import alive


def _group_members(pgid: int) -> list[int]:
    """Live processes of process group ``pgid`` (gcloud, its shell script, the JVM)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorFirestoreEngine]:
    engine = EmulatorFirestoreEngine()
    reason = engine.probe()
    if reason is not None:
        pytest.skip(f"firestore@emulator unavailable: {reason}")
    engine.start()
    yield engine
    engine.stop()


def _user(n: int) -> User:
    from datetime import UTC, datetime

    return User(f"usr_{n}", "Ada", f"ada{n}@example.com", 700, datetime(2026, 1, 1, tzinfo=UTC))


def _backend(engine: EmulatorFirestoreEngine, namespace: str, isolated: bool = False) -> Backend:
    store = engine.isolated(namespace) if isolated else engine.store(namespace)
    from scenarios.binding import binding

    return create_backend(binding.store_settings(store))


def _users(backend: Backend) -> list[str]:
    with backend.unit_of_work() as uow:
        return [c.id for c in uow.list_cards(None, PageQuery(10))] + [
            u.id for u in [uow.get_user("usr_1"), uow.get_user("usr_2")] if u is not None
        ]


def test_registry_names_both_engines() -> None:
    assert isinstance(create_engine("firestore@emulator"), EmulatorFirestoreEngine)
    assert isinstance(create_engine("firestore"), EmulatorFirestoreEngine)
    assert isinstance(create_engine("firestore@url"), UrlFirestoreEngine)


def test_helpers() -> None:
    assert host_of("http://127.0.0.1:8080/") == "127.0.0.1:8080"
    assert host_of("127.0.0.1:8080") == "127.0.0.1:8080"
    assert project_for("parity-abc", "T_1/x") == "parity-abc-t-1-x"


def test_url_engine_without_a_host_says_which_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARITY_FIRESTORE_URL", raising=False)
    monkeypatch.delenv("FIRESTORE_EMULATOR_HOST", raising=False)
    reason = UrlFirestoreEngine().probe()
    assert reason is not None and "PARITY_FIRESTORE_URL" in reason
    with pytest.raises(EngineUnavailable):
        UrlFirestoreEngine().start()


def test_emulator_probe_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    reason = EmulatorFirestoreEngine().probe()
    assert reason is not None and "gcloud" in reason


def test_isolation_store_namespaces_and_projects(emulator: EmulatorFirestoreEngine) -> None:
    store = emulator.store("a")
    assert store.kind == "firestore"
    assert store.option("project") == emulator.project
    assert store.option("emulator_host") == emulator.host
    assert store.url == f"http://{emulator.host}"

    # app isolation: one project, a namespace per example
    a, b = _backend(emulator, "ns-a"), _backend(emulator, "ns-b")
    with a.unit_of_work() as uow:
        uow.add(_user(1))
        uow.commit()
    assert _users(a) == ["usr_1"] and _users(b) == []
    a.drop_namespace()
    assert _users(a) == []

    # engine isolation: a project per example, emptied by discard
    one, two = emulator.isolated("ex-1"), emulator.isolated("ex-2")
    assert one.option("project") != two.option("project") != emulator.project
    b1, b2 = _backend(emulator, "ex-1", True), _backend(emulator, "ex-2", True)
    with b1.unit_of_work() as uow:
        uow.add(_user(2))
        uow.commit()
    assert _users(b1) == ["usr_2"] and _users(b2) == []
    emulator.discard(one)
    assert _users(b1) == []


def test_url_engine_uses_a_running_emulator(
    emulator: EmulatorFirestoreEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert emulator.host is not None
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator.host)
    monkeypatch.delenv("PARITY_FIRESTORE_URL", raising=False)
    engine = UrlFirestoreEngine()
    engine.start()
    try:
        assert engine.project != emulator.project
        backend = create_backend(settings_for(engine, "shared"))
        with backend.unit_of_work() as uow:
            uow.add(_user(1))
            uow.commit()
        assert _users(backend) == ["usr_1"]
    finally:
        engine.stop()  # empties its project: the emulator is left as found
    assert engine.host is None and emulator.host == os.environ["FIRESTORE_EMULATOR_HOST"]
    assert _users(backend) == []


def test_stop_leaves_no_java_process(emulator: EmulatorFirestoreEngine) -> None:
    """Last in this module: it stops the module's emulator (the fixture's stop is then a
    no-op), so the file starts one JVM, not two."""
    pgid = emulator.pid
    assert pgid is not None
    members = _group_members(pgid)
    assert any(b"java" in _cmdline(pid) for pid in members), members
    info = emulator.info()
    assert info.kind == "firestore" and info.version != "unknown"
    assert emulator.host is not None and answers(emulator.host)
    temp = emulator.log_dir
    assert temp is not None and (temp / "emulator.log").is_file()
    emulator.stop()
    emulator.stop()  # twice is harmless
    assert _group_members(pgid) == []
    assert not temp.exists()  # its temp dir (log, gcloud config) went with it
    assert emulator.host is None
