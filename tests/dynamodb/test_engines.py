"""The DynamoDB engines: lifecycle, capability detection, probes, LocalStack files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from parity.engines.base import EngineUnavailable
from parity.engines.dynamodb import (
    AwsDynamoDbEngine,
    DynaliteEngine,
    DynamoDbEngine,
    DynamoDbLocalEngine,
    LocalStackEngine,
    MinistackEngine,
    MotoEngine,
    MotoServerEngine,
    UrlDynamoDbEngine,
)
from parity.engines.registry import create_engine
from reference_app.backends.dynamodb import tables
from reference_app.backends.registry import create_backend
from reference_app.service_layer.unit_of_work import CommitConflict, PageQuery
from scenarios.binding import ReferenceBinding
from tests.dynamodb.factories import user
from tests.engine_pool import engine_or_skip, settings_for
from tests.processes import alive

pytestmark = pytest.mark.dynamodb
ROOT = Path(__file__).resolve().parents[2]


def test_registry_names_resolve_to_the_classes() -> None:
    assert isinstance(create_engine("dynamodb@moto"), MotoEngine)
    assert isinstance(create_engine("dynamodb@moto-server"), MotoServerEngine)
    assert isinstance(create_engine("dynamodb@dynalite"), DynaliteEngine)
    assert isinstance(create_engine("dynamodb@local"), DynamoDbLocalEngine)
    assert isinstance(create_engine("dynamodb@ministack"), MinistackEngine)
    assert isinstance(create_engine("dynamodb@localstack"), LocalStackEngine)
    assert isinstance(create_engine("dynamodb@url"), UrlDynamoDbEngine)
    assert isinstance(create_engine("dynamodb@aws"), AwsDynamoDbEngine)


def test_moto_server_start_stop_leaves_no_process() -> None:
    engine = MotoServerEngine()
    engine.start()
    pid = engine.pid
    assert pid is not None and alive(pid)
    info = engine.info()
    assert info.name == "dynamodb@moto-server" and info.version
    temp = engine.log_dir
    assert temp is not None and (temp / "server.log").is_file()
    settings = settings_for(engine, "ns1")
    assert settings.endpoint_url and settings.endpoint_url.startswith("http://127.0.0.1:")
    assert settings.namespace == "ns1" and settings.table_prefix == engine.table_prefix
    create_backend(settings).check_ready()
    engine.stop()
    assert not alive(pid)
    assert not temp.exists()  # its temp dir (log, working dir) went with it
    engine.stop()  # idempotent


def test_moto_engine_with_sqs_transport_fills_the_settings() -> None:
    engine = MotoEngine()
    binding = ReferenceBinding(transport="sqs")
    try:
        binding.prepare_store(engine.store())
        settings = binding.settings_for(engine.store("ns"))
        assert settings.transport == "sqs"
        assert settings.queue_url and settings.queue_url.endswith(".fifo")
        assert settings.event_bus_name == f"{engine.table_prefix}-bus"
    finally:
        engine.stop()


def test_dynalite_reports_missing_capabilities_instead_of_crashing() -> None:
    engine = DynaliteEngine()
    reason = engine.probe()
    if reason is not None:
        assert "npm install" in reason
        pytest.skip(f"dynalite not installed here: {reason}")
    engine.start()
    try:
        assert set(engine.unsupported) == {"transactions", "ttl"}
        assert "TransactWriteItems" in engine.unsupported["transactions"]
        info = engine.info()
        assert info.unsupported == engine.unsupported and info.version != "unknown"
        backend = create_backend(settings_for(engine, "ns"))
        backend.check_ready()  # reads and provisioning work; only commits cannot
        with backend.unit_of_work() as uow:
            assert uow.list_cards(None, PageQuery(5)) == []
            uow.add(user())
            with pytest.raises(Exception) as failed:
                uow.commit()
            assert not isinstance(failed.value, CommitConflict)  # never a fake "conflict"
    finally:
        pid = engine.pid
        engine.stop()
        assert pid is None or not alive(pid)


def test_localstack_probe_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCALSTACK_AUTH_TOKEN", raising=False)
    reason = LocalStackEngine().probe()
    assert reason is not None and "LOCALSTACK_AUTH_TOKEN" in reason
    monkeypatch.setenv("LOCALSTACK_AUTH_TOKEN", "dummy")
    reason = LocalStackEngine().probe()
    if reason is not None:  # no Docker engine on this machine
        assert "Docker" in reason or "docker" in reason
        with pytest.raises(EngineUnavailable):
            LocalStackEngine().start()


def test_aws_engine_is_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARITY_ALLOW_AWS", raising=False)
    reason = AwsDynamoDbEngine().probe()
    assert reason is not None and "PARITY_ALLOW_AWS=1" in reason
    with pytest.raises(EngineUnavailable):
        AwsDynamoDbEngine().start()


def test_url_engine_uses_any_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARITY_DYNAMODB_URL", raising=False)
    assert "PARITY_DYNAMODB_URL" in (UrlDynamoDbEngine().probe() or "")
    running = engine_or_skip("dynamodb@moto-server")
    assert isinstance(running, DynamoDbEngine)
    monkeypatch.setenv("PARITY_DYNAMODB_URL", str(running.endpoint_url))
    engine = UrlDynamoDbEngine()
    create_backend(settings_for(engine, "url-ns")).check_ready()
    assert engine.info().details["endpoint"] == running.endpoint_url


def test_tables_cli_provisions_idempotently() -> None:
    running = engine_or_skip("dynamodb@moto")
    assert isinstance(running, DynamoDbEngine)
    args = ["--endpoint-url", str(running.endpoint_url), "--table-prefix", "cli-test"]
    assert tables.main(args) == 0
    assert tables.main(args) == 0
    client = running.client("dynamodb")
    assert "cli-test-ledger" in client.list_tables()["TableNames"]


def test_compose_file_takes_the_token_from_the_environment() -> None:
    compose = yaml.safe_load((ROOT / "localstack" / "docker-compose.yml").read_text())
    service = compose["services"]["localstack"]
    env = service["environment"]
    assert env["LOCALSTACK_AUTH_TOKEN"].startswith("${LOCALSTACK_AUTH_TOKEN")
    assert set(env["SERVICES"].split(",")) == {"dynamodb", "sqs", "events"}
    assert any("/etc/localstack/init/ready.d" in v for v in service["volumes"])
    scripts = sorted((ROOT / "localstack" / "init" / "ready.d").glob("*.sh"))
    assert scripts
    for script in scripts:
        assert script.stat().st_mode & stat.S_IXUSR
        text = script.read_text()
        assert "reference_app.backends.dynamodb.tables" in text
        assert "reference_app.transports.provisioning" in text


def test_parity_mode_steers_a_real_sqs_transport() -> None:
    """The harness's failure schedule works on SQS too: a planned failure is retried by the
    relay and the event reaches the FIFO queue exactly once."""
    import boto3
    from fastapi.testclient import TestClient

    from reference_app.bootstrap import create_app
    from reference_app.transports.controlled import ControlledTransport

    engine = MotoEngine()
    binding = ReferenceBinding(transport="sqs")
    try:
        binding.prepare_store(engine.store())
        settings = binding.settings_for(engine.store("steer"), secret="s", admin_token="adm")
        app = create_app(settings)
        assert isinstance(app.state.container.transport, ControlledTransport)
        client = TestClient(app)
        client.post("/v1/users", json={"name": "Q", "email": "q@example.com", "score": 1})
        assert client.post("/_parity/transport/fail", json={"pattern": [True]}).status_code == 200
        first = client.post("/_parity/outbox/relay").json()
        assert len(first["failed"]) == 1 and first["published"] == []
        client.post("/_parity/clock/advance", json={"seconds": 300})
        second = client.post("/_parity/outbox/relay").json()
        assert second["published"] == first["failed"]
        sqs = boto3.client(
            "sqs", endpoint_url=settings.endpoint_url, region_name=settings.aws_region,
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip
        got = sqs.receive_message(QueueUrl=settings.queue_url, MaxNumberOfMessages=10)
        bodies = [m["Body"] for m in got.get("Messages", [])]
        assert len(bodies) == 1 and first["failed"][0] in bodies[0]
    finally:
        engine.stop()
