"""The engine port: something that provisions one storage backend for the app under test.

An engine is a *place a backend runs*: ``postgres@local`` (a throwaway cluster),
``dynamodb@moto-server`` (a moto process), ``dynamodb@aws`` (opt-in real AWS). The same
backend code runs on each; engines differ in what they provision and what they support.

Life cycle: ``probe()`` (cheap: is this usable here, and if not why) → ``start()``
(provision; raise :class:`EngineUnavailable`) → ``settings(namespace)`` per example (a fresh
isolated namespace, cheap: a key prefix or schema, never a new table) → ``stop()``.
A missing engine is an infrastructure error (exit 2), never a skip and never a divergence.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar

from reference_app.settings import Settings


class EngineUnavailable(Exception):
    """The engine cannot run here (binary missing, server down, no token). Exit code 2."""

    def __init__(self, engine: str, reason: str) -> None:
        super().__init__(f"{engine}: {reason}")
        self.engine = engine
        self.reason = reason


@dataclass(frozen=True)
class EngineInfo:
    """What a report says about an engine: name, backend, version and any facts."""

    name: str
    backend: str
    version: str
    details: dict[str, Any] = field(default_factory=dict)
    unsupported: dict[str, str] = field(default_factory=dict)


class Engine(abc.ABC):
    name: ClassVar[str]
    backend: ClassVar[str]
    #: capability -> why it is missing on this engine (e.g. dynalite: "transactions").
    #: Scenarios needing a listed capability are reported "unsupported" for this engine.
    unsupported: dict[str, str]

    def __init__(self) -> None:
        self.unsupported = {}

    @abc.abstractmethod
    def probe(self) -> str | None:
        """``None`` if the engine can start here; otherwise one line saying why not."""

    def start(self) -> None:
        """Provision the engine; raise :class:`EngineUnavailable` with a clear reason."""
        reason = self.probe()
        if reason is not None:
            raise EngineUnavailable(self.name, reason)

    def stop(self) -> None:  # noqa: B027 - engines with nothing to tear down keep it
        """Tear down whatever ``start`` made (processes, temp dirs, tables it created)."""

    @abc.abstractmethod
    def settings(self, namespace: str, **overrides: Any) -> Settings:
        """Settings for an app instance on a fresh, isolated ``namespace``."""

    @abc.abstractmethod
    def info(self) -> EngineInfo:
        """Name, backend and version for reports (valid after ``start``)."""

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
