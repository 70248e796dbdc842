"""Engines for port implementations, and one target factory per implementation.

The engines a run's port implementations need start once (the first scenario that
needs one starts it) and stop when the ports suite ends; each example then gets a store
of its own from them, as an app does in an HTTP scenario.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from typing import Any

from parity.binding import Store
from parity.engines.base import Engine
from parity.engines.capabilities import probe_capabilities
from parity.engines.registry import canonical, create_engine
from parity.ports.implementation import Implementation
from parity.ports.target import ErrorMap, PortTarget, awaited

_log = logging.getLogger("parity.ports")


class EnginePool:
    """Started engines by name, and the ``prepare`` hooks already run on each."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.engines: dict[str, Engine] = {}
        #: engine -> its capability matrix row, probed once at start
        self.capabilities: dict[str, dict[str, dict[str, str]]] = {}
        self._prepared: set[tuple[str, int]] = set()

    def engine(self, name: str) -> Engine:
        name = canonical(name)
        if name not in self.engines:
            engine = create_engine(name)
            engine.seed = self.seed
            engine.start()  # EngineUnavailable: the caller's infrastructure error
            self.capabilities[name] = probe_capabilities(engine)
            self.engines[name] = engine
        return self.engines[name]

    def prepare(self, implementation: Implementation) -> None:
        """Run ``implementation.prepare`` once per engine (tables, queues)."""
        if implementation.prepare is None or implementation.engine is None:
            return
        key = (canonical(implementation.engine), id(implementation.prepare))
        if key not in self._prepared:
            engine = self.engine(implementation.engine)
            _run_maybe_async(implementation.prepare, engine.store(""))
            self._prepared.add(key)

    def info(self, name: str) -> dict[str, Any]:
        info = self.engines[canonical(name)].info()
        return {
            "name": info.name,
            "kind": info.kind,
            "version": info.version,
            "details": info.details,
            "unsupported": {**info.unsupported, **self.engines[canonical(name)].unsupported},
            "capabilities": self.capabilities.get(canonical(name), {}),
        }

    def close(self) -> None:
        for engine in self.engines.values():
            with contextlib.suppress(Exception):  # teardown must not hide the verdict
                engine.stop()
        self.engines.clear()


def _run_maybe_async(func: Any, *args: Any) -> Any:
    value = func(*args)
    if inspect.isawaitable(value):
        with asyncio.Runner() as runner:
            return runner.run(awaited(value))
    return value


class PortTargetFactory:
    """Builds a fresh object of one implementation per example (the session's
    ``TargetFactory``); ``release`` lets it go and removes its store."""

    isolates = True

    def __init__(
        self, name: str, implementation: Implementation, pool: EnginePool, errors: ErrorMap
    ) -> None:
        self.name = name
        self.implementation = implementation
        self.pool = pool
        self.errors = errors
        self._stores: dict[int, Store] = {}
        self.engine: Engine | None = None
        if implementation.engine is not None:
            self.engine = pool.engine(implementation.engine)
            pool.prepare(implementation)

    def _store(self, namespace: str) -> Store | None:
        if self.engine is None:
            return None
        if self.implementation.isolation == "app":
            return self.engine.store(namespace)
        return self.engine.isolated(namespace)

    def new_target(self, namespace: str) -> PortTarget:
        store = self._store(namespace)
        runner = asyncio.Runner()
        try:
            build = self.implementation.build
            obj = build(store) if store is not None else build()
            if inspect.isawaitable(obj):
                obj = runner.run(awaited(obj))
        except BaseException:
            runner.close()
            if store is not None and self.implementation.isolation == "engine":
                self._discard(store)
            raise
        target = PortTarget(self.name, obj, runner, self.errors, self.implementation.io_bound)
        if store is not None:
            self._stores[id(target)] = store
        return target

    def store_of(self, target: Any) -> Store:
        store = self._stores.get(id(target))
        if store is None:
            return Store(self.name, "object")
        return store

    def release(self, target: Any) -> None:
        store = self._stores.pop(id(target), None)
        try:
            release = self.implementation.release
            if release is not None:
                target.resolve(release(target.obj))
            else:
                closer = getattr(target.obj, "aclose", None) or getattr(target.obj, "close", None)
                if callable(closer):
                    target.resolve(closer())
        except Exception:  # a failing clean-up is logged; the verdict stands
            _log.exception("%s: releasing the example's object failed", self.name)
        finally:
            target.close()
            if store is not None and self.implementation.isolation == "engine":
                self._discard(store)

    def _discard(self, store: Store) -> None:
        if self.engine is not None:
            with contextlib.suppress(Exception):
                self.engine.discard(store)

    def close(self) -> None:
        """Nothing per factory: the pool stops the engines when the suite ends."""
