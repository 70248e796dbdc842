"""One implementation of a port: how to build it per example, on which engine.

Why a factory and not an instance: every Hypothesis example gets fresh objects (and, for
implementations backed by a store, a fresh place on the store), so examples never see
each other's state and a shrunk example replays exactly, as with HTTP scenarios.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from parity.binding import Store

Isolation = Literal["engine", "app"]


@dataclass(frozen=True)
class Implementation:
    """``build`` makes the object the scenario's calls go to.

    - ``build(store)`` when ``engine`` is set (``"sqlite"``, ``"postgres@local"``,
      ``"dynamodb@moto-server"``…): Parity starts the engine once per run and hands every
      example a store of its own; ``build()`` without an engine. ``build`` may be async.
    - ``isolation``: ``"engine"`` (default) gives each example a fresh place made by the
      engine (a file, a schema, a table prefix); ``"app"`` gives every example the engine's
      one location with ``store.namespace`` set, for objects that isolate by namespace.
    - ``prepare(store)``: once per engine start, before any example (create tables).
    - ``release(obj)``: after each example; default: ``obj.aclose()`` or ``obj.close()``
      if it has one. ``release`` may be async.
    - ``blocking_io``: calls mostly wait on a server, so Parity calls every
      implementation at once; default: whenever there is an engine.
    """

    build: Callable[..., Any]
    engine: str | None = None
    isolation: Isolation = "engine"
    prepare: Callable[[Store], Any] | None = None
    release: Callable[[Any], Any] | None = None
    blocking_io: bool | None = None

    @property
    def io_bound(self) -> bool:
        return self.engine is not None if self.blocking_io is None else self.blocking_io


def as_implementation(value: Implementation | Callable[..., Any]) -> Implementation:
    """A plain factory (``lambda: DictCache()``) is an implementation without an engine."""
    if isinstance(value, Implementation):
        return value
    if callable(value):
        return Implementation(build=value)
    raise TypeError(f"an implementation must be a factory or parity.Implementation, not {value!r}")
