"""Fixtures for the unit-of-work contract suite: one suite, every engine.

To run the suite on another engine, append its registry name to ``CONTRACT_ENGINES``
(e.g. ``"dynamodb@moto"``, ``"dynamodb@moto-server"``): each engine comes from the
session's pool (:mod:`tests.engine_pool`), started once and shared with the API suite (a
second PostgreSQL cluster, MariaDB, moto server and Firestore JVM cost ~25 s of a loaded
run), and every test gets a fresh namespace on it. An engine that cannot run here
is skipped with its reason, unless ``PARITY_REQUIRE_ENGINES=1`` (CI) turns that into a
failure: a missing engine must never pass silently there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest

from parity.engines.base import Engine
from reference_app.backends.registry import create_backend
from reference_app.service_layer.unit_of_work import Backend
from tests.engine_pool import engine_or_skip, settings_for

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


@pytest.fixture(scope="session", params=CONTRACT_ENGINES)
def engine(request: pytest.FixtureRequest) -> Engine:
    """A started engine, shared by every test of the session that runs on it."""
    try:
        return engine_or_skip(request.param)
    except pytest.skip.Exception as skipped:
        if os.environ.get("PARITY_REQUIRE_ENGINES") == "1":
            pytest.fail(str(skipped))
        raise


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
