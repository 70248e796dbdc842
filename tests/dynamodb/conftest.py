"""Fixtures for the DynamoDB adapter tests: moto in-process and a moto server process.

Engines come from the session pool in :mod:`tests.engine_pool` (each starts once); every test
gets a fresh namespace, the same isolation the parity harness uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from parity.engines.dynamodb import DynamoDbEngine
from reference_app.backends.dynamodb import DynamoDbBackend
from reference_app.backends.dynamodb.retry import RetryPolicy
from tests.engine_pool import engine_or_skip, fresh_namespace, settings_for

MOTO_ENGINES = ["dynamodb@moto", "dynamodb@moto-server"]

pytestmark = pytest.mark.dynamodb


@pytest.fixture(params=MOTO_ENGINES)
def engine(request: pytest.FixtureRequest) -> DynamoDbEngine:
    started = engine_or_skip(request.param)
    assert isinstance(started, DynamoDbEngine)
    return started


MakeBackend = Callable[..., DynamoDbBackend]


@pytest.fixture
def make_backend(engine: DynamoDbEngine) -> Iterator[MakeBackend]:
    made: list[DynamoDbBackend] = []

    def factory(namespace: str | None = None, **kwargs: Any) -> DynamoDbBackend:
        kwargs.setdefault("retry", RetryPolicy(base_delay=0.005, max_delay=0.05))
        backend = DynamoDbBackend(settings_for(engine, namespace or fresh_namespace()), **kwargs)
        made.append(backend)
        return backend

    yield factory
    for backend in made:
        backend.close()


@pytest.fixture
def backend(make_backend: MakeBackend) -> DynamoDbBackend:
    return make_backend()
