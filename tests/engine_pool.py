"""Session-wide engine pool for tests: each engine starts once, on first use.

A test that needs an engine this machine lacks is skipped with the engine's own reason
(``probe()``), never passed.
"""

from __future__ import annotations

import atexit
import uuid

import pytest

from parity.engines.base import Engine, EngineUnavailable
from parity.engines.registry import create_engine
from reference_app.settings import Settings
from scenarios.binding import binding

_started: dict[str, Engine] = {}
_failed: dict[str, str] = {}


def engine_or_skip(name: str) -> Engine:
    if name in _failed:
        pytest.skip(f"{name} unavailable: {_failed[name]}")
    if name not in _started:
        try:
            engine = create_engine(name)
            engine.start()
            binding.prepare_store(engine.store())  # the reference app's tables
        except EngineUnavailable as exc:
            _failed[name] = exc.reason
            pytest.skip(f"{name} unavailable: {exc.reason}")
        _started[name] = engine
        atexit.register(engine.stop)
    return _started[name]


def settings_for(engine: Engine, namespace: str, **overrides: object) -> Settings:
    """The reference app's settings on ``engine`` for ``namespace``, through its binding
    (production defaults for clock, ids and secrets unless ``overrides`` say otherwise)."""
    return binding.store_settings(engine.store(namespace), **overrides)


def fresh_namespace() -> str:
    return "t" + uuid.uuid4().hex[:12]


def stop_all() -> None:
    for engine in _started.values():
        binding.release_store(engine.store())
        engine.stop()
    _started.clear()
