"""Serve a backend's app (the project's binding on an engine, planted faults included)
under a real uvicorn server on loopback: what a user of an emitted reproduction runs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from parity.config import load_binding, load_config
from parity.engines.registry import create_engine
from parity.run.backends import ensure_registered
from parity.selftest.registry import fault_builder
from parity.targets.http import serve

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def served(engine_name: str, seed: int = 1, namespace: str = "emitted") -> Iterator[str]:
    """A fresh app of ``engine_name`` (e.g. ``memory``, ``fault:wrong-status``) on a free
    loopback port; yields its base URL."""
    config = load_config(ROOT / "pyproject.toml")
    ensure_registered(engine_name, config)
    binding = load_binding(config.app)
    engine = create_engine(engine_name)
    engine.seed = seed
    engine.start()
    try:
        store = engine.store(namespace)
        build = fault_builder(engine, binding) or binding.build_app
        with serve(build(store)) as url:
            yield url
    finally:
        engine.stop()
