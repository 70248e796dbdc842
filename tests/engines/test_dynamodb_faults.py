"""``+throttle``, ``+stale``, ``+latency``: the fault proxy in front of moto-server injects
what it says, the same way for the same seed, and the reference app keeps parity under it
while a backend that does not retry is caught."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from parity.binding import Store
from parity.config import load_config
from parity.engines.base import Engine, EngineUnavailable
from parity.engines.dynamodb_faults import MAX_RUN, DynamoFaults, FaultProxy
from parity.engines.modifiers import ModifiedEngine
from parity.engines.registry import create_engine
from parity.lockstep.session import LockstepSession
from parity.run.backends import Backends, provision
from parity.run.scenario import hypothesis_run
from parity.suites.registry import discover_scenarios
from reference_app.backends.dynamodb.retry import THROTTLING_CODES
from reference_app.bootstrap import create_app
from scenarios.binding import ReferenceBinding
from scenarios.migration_bugs.dynamodb import eventual_reads_backend, no_retry_backend
from scenarios.migration_bugs.dynamodb import no_retry_client as raw_client

ROOT = Path(__file__).resolve().parents[2]
TABLE = "faults"
KEY = {"pk": {"S": "p"}, "sk": {"S": "s"}}


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    engine = create_engine("dynamodb@moto-server")
    try:
        engine.start()
    except EngineUnavailable as exc:
        pytest.skip(f"dynamodb@moto-server unavailable: {exc.reason}")
    try:
        url = engine.store().url
        assert url is not None
        client = raw_client(url)
        client.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield url
    finally:
        engine.stop()


def throttle_pattern(url: str, seed: int, calls: int = 40) -> list[str | None]:
    proxy = FaultProxy(url, DynamoFaults(throttle=0.5), seed)
    proxy.start()
    try:
        client = raw_client(proxy.url)
        client.describe_table(TableName=TABLE)  # control plane: never refused
        out: list[str | None] = []
        for _ in range(calls):
            try:
                client.get_item(TableName=TABLE, Key=KEY, ConsistentRead=True)
                out.append(None)
            except ClientError as exc:
                out.append(exc.response["Error"]["Code"])
        assert proxy.injected["throttle"] == sum(code is not None for code in out)
        return out
    finally:
        proxy.stop()


def test_throttling_is_seeded_capped_and_speaks_dynamodb(upstream: str) -> None:
    first = throttle_pattern(upstream, seed=7)
    assert throttle_pattern(upstream, seed=7) == first
    assert throttle_pattern(upstream, seed=8) != first
    refused = [code for code in first if code is not None]
    assert 5 <= len(refused) <= 35
    assert set(refused) <= THROTTLING_CODES
    longest = run = 0
    for code in first:
        run = run + 1 if code else 0
        longest = max(longest, run)
    assert longest <= MAX_RUN


def test_a_throttled_transaction_is_cancelled_for_throttling_and_writes_nothing(
    upstream: str,
) -> None:
    proxy = FaultProxy(upstream, DynamoFaults(throttle=1.0), seed=1)
    proxy.start()
    try:
        client = raw_client(proxy.url)
        key = {"pk": {"S": "tx"}, "sk": {"S": "1"}}
        item = {**key, "v": {"S": "x"}}
        with pytest.raises(ClientError) as caught:
            client.transact_write_items(
                TransactItems=[{"Put": {"TableName": TABLE, "Item": item}}] * 1
                + [{"Put": {"TableName": TABLE, "Item": {**item, "sk": {"S": "2"}}}}]
            )
        error = caught.value.response
        assert error["Error"]["Code"] == "TransactionCanceledException"
        codes = [r["Code"] for r in error["CancellationReasons"]]
        assert codes == ["ThrottlingError", "None"]
        direct = raw_client(upstream)
        assert "Item" not in direct.get_item(TableName=TABLE, Key=key, ConsistentRead=True)
    finally:
        proxy.stop()


def test_only_eventually_consistent_reads_are_stale(upstream: str) -> None:
    proxy = FaultProxy(upstream, DynamoFaults(stale=1.0), seed=3)
    proxy.start()
    try:
        client = raw_client(proxy.url)
        key = {"pk": {"S": "stale"}, "sk": {"S": "1"}}
        client.put_item(TableName=TABLE, Item={**key, "v": {"S": "old"}})
        assert client.get_item(TableName=TABLE, Key=key)["Item"]["v"]["S"] == "old"
        client.put_item(TableName=TABLE, Item={**key, "v": {"S": "new"}})
        assert client.get_item(TableName=TABLE, Key=key)["Item"]["v"]["S"] == "old"
        strong = client.get_item(TableName=TABLE, Key=key, ConsistentRead=True)
        assert strong["Item"]["v"]["S"] == "new"
        assert proxy.injected["stale"] == 1
    finally:
        proxy.stop()


def test_latency_delays_data_requests_only(upstream: str) -> None:
    proxy = FaultProxy(upstream, DynamoFaults(latency_ms=5), seed=3)
    proxy.start()
    try:
        client = raw_client(proxy.url)
        client.describe_table(TableName=TABLE)
        for _ in range(3):
            client.get_item(TableName=TABLE, Key=KEY, ConsistentRead=True)
        assert proxy.injected["latency"] == 3
    finally:
        proxy.stop()


# --- the reference app under the modified engine ------------------------------------------


class NoRetryBinding(ReferenceBinding):
    """The migration bug ``engine-no-retry-dynamodb``: the DynamoDB backend neither
    retries in the SDK nor in its own policy, so the first throttled request fails the
    API call."""

    def build_app(self, store: Store) -> Any:
        settings = self.settings_for(store)
        if store.kind != "dynamodb":
            return create_app(settings)
        return create_app(settings, backend=no_retry_backend(settings))

    def rebind(self, app: Any, store: Store) -> bool:
        return False  # every example gets a fresh non-retrying app


class EventualReadsBinding(ReferenceBinding):
    """The migration bug ``engine-eventual-reads-dynamodb``: reads without
    ``ConsistentRead``."""

    def build_app(self, store: Store) -> Any:
        settings = self.settings_for(store)
        if store.kind != "dynamodb":
            return create_app(settings)
        return create_app(settings, backend=eventual_reads_backend(settings))

    def rebind(self, app: Any, store: Store) -> bool:
        return False


def run_ledger(backends: Backends, label: str) -> BaseException | None:
    session = LockstepSession(
        backends.factories,
        backends.reference,
        namespace_prefix=label,
        engines=backends.info,
        seed=0,
        # these tests ask whether a divergence is found, not how short it shrinks
        shrink_examples=1,
    )
    try:
        return hypothesis_run(discover_scenarios()["ledger"].bind(session), 3, 10, 0)
    finally:
        session.close()


NAME = "dynamodb@moto-server+throttle=0.3+stale+latency=5"


def _provision(binding: ReferenceBinding | None = None, name: str = NAME) -> Backends:
    reason = create_engine("dynamodb@moto-server").probe()
    if reason is not None:
        pytest.skip(f"dynamodb@moto-server unavailable: {reason}")
    return provision(["memory", name], load_config(start=ROOT), 11, binding=binding)


def _proxy(backends: Backends, name: str = NAME) -> FaultProxy:
    engine: Engine = backends.engines[name]
    assert isinstance(engine, ModifiedEngine)
    assert isinstance(engine.proxy, FaultProxy)
    return engine.proxy


def test_the_reference_app_keeps_parity_under_throttling_staleness_and_latency() -> None:
    backends = _provision()
    try:
        error = run_ledger(backends, "faults_ok")
        injected = dict(_proxy(backends).injected)
    finally:
        backends.close()
    assert error is None, error
    assert injected["throttle"] > 0 and injected["latency"] > 0
    # the app reads with ConsistentRead everywhere: no read it makes can be stale
    assert injected["stale"] == 0


def test_a_backend_that_does_not_retry_is_caught_by_throttle() -> None:
    backends = _provision(NoRetryBinding())
    try:
        error = run_ledger(backends, "faults_noretry")
        injected = dict(_proxy(backends).injected)
    finally:
        backends.close()
    assert injected["throttle"] > 0
    assert error is not None
    assert "memory" in str(error) or "differ" in str(error).lower()


def test_a_backend_reading_eventually_consistently_is_caught_by_stale() -> None:
    name = "dynamodb@moto-server+stale=1"
    backends = _provision(EventualReadsBinding(), name)
    try:
        error = run_ledger(backends, "faults_eventual")
        injected = dict(_proxy(backends, name).injected)
    finally:
        backends.close()
    assert injected["stale"] > 0
    assert error is not None
