"""Fixtures for the unit-of-work contract suite: one suite, every engine.

To run the suite on another engine, append its registry name to ``CONTRACT_ENGINES``
(e.g. ``"dynamodb@moto"``, ``"dynamodb@moto-server"``): each engine is started once per
session, and every test gets a fresh namespace on it. An engine that cannot run here is
skipped with its probe's reason, unless ``PARITY_REQUIRE_ENGINES=1`` (CI) turns that
into a failure: a missing engine must never pass silently there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest

from parity.engines.base import Engine, EngineUnavailable
from parity.engines.registry import create_engine
from reference_app.backends.registry import create_backend
from reference_app.service_layer.unit_of_work import Backend
from tests.engine_pool import settings_for

CONTRACT_ENGINES: list[str] = [
    "memory",
    "sqlite",
    "postgres@local",
    "mysql@local",
    "dynamodb@moto",
    "dynamodb@moto-server",
    "firestore@emulator",
]

BackendFactory = Callable[..., Backend]


def _unavailable(name: str, reason: str) -> None:
    message = f"engine {name} unavailable: {reason}"
    if os.environ.get("PARITY_REQUIRE_ENGINES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session", params=CONTRACT_ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A started engine, shared by every test of the session that runs on it."""
    name: str = request.param
    try:
        started = create_engine(name)
    except EngineUnavailable as exc:
        _unavailable(name, exc.reason)
    reason = started.probe()
    if reason is not None:
        _unavailable(name, reason)
    try:
        started.start()
    except EngineUnavailable as exc:
        _unavailable(name, exc.reason)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def make_backend(engine: Engine) -> Iterator[BackendFactory]:
    """``make_backend(namespace=None)``: a backend on ``engine`` in ``namespace`` (a fresh
    one by default). Every backend made is closed after the test."""
    made: list[Backend] = []

    def factory(namespace: str | None = None) -> Backend:
        ns = namespace if namespace is not None else f"t{uuid.uuid4().hex[:16]}"
        backend = create_backend(settings_for(engine, ns))
        made.append(backend)
        return backend

    yield factory
    for backend in made:
        backend.close()


@pytest.fixture
def backend(make_backend: BackendFactory) -> Backend:
    """A backend on a fresh, empty namespace."""
    return make_backend()
