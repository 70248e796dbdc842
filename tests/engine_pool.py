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

_started: dict[str, Engine] = {}
_failed: dict[str, str] = {}


def engine_or_skip(name: str) -> Engine:
    if name in _failed:
        pytest.skip(f"{name} unavailable: {_failed[name]}")
    if name not in _started:
        try:
            engine = create_engine(name)
            engine.start()
        except EngineUnavailable as exc:
            _failed[name] = exc.reason
            pytest.skip(f"{name} unavailable: {exc.reason}")
        _started[name] = engine
        atexit.register(engine.stop)
    return _started[name]


def fresh_namespace() -> str:
    return "t" + uuid.uuid4().hex[:12]


def stop_all() -> None:
    for engine in _started.values():
        engine.stop()
    _started.clear()
