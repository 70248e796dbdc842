"""The engine port: something that provisions one store for a parity run.

An engine is a *place a store runs*: ``postgres@local`` (a throwaway cluster),
``dynamodb@moto-server`` (a moto process), ``dynamodb@aws`` (opt-in real AWS). It knows
no app: it says where the store is (a :class:`parity.binding.Store`) and, for apps that
do not isolate examples themselves, makes and removes one isolated place per example.

Life cycle: ``probe()`` (cheap: is this usable here, and if not why) → ``start()``
(provision; raise :class:`EngineUnavailable`) → ``store(namespace)`` or
``isolated(namespace)`` per example (cheap: a key prefix, a schema, a file; never a new
server) → ``discard(store)`` for isolated ones → ``stop()``.
A missing engine is an infrastructure error (exit 2), never a skip and never a divergence.

Third-party engines subclass :class:`Engine` and register under a name through the
``parity.engines`` entry point group, ``[tool.parity.engines]`` or
:func:`parity.register_engine`.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar

from parity.binding import Store


class EngineUnavailable(Exception):
    """The engine cannot run here (binary missing, server down, no token). Exit code 2."""

    def __init__(self, engine: str, reason: str) -> None:
        super().__init__(f"{engine}: {reason}")
        self.engine = engine
        self.reason = reason


@dataclass(frozen=True)
class EngineInfo:
    """What a report says about an engine: name, store kind, version and any facts."""

    name: str
    kind: str
    version: str
    details: dict[str, Any] = field(default_factory=dict)
    unsupported: dict[str, str] = field(default_factory=dict)


class Engine(abc.ABC):
    name: ClassVar[str]
    #: the kind of store (``memory``, ``sqlite``, ``postgres``, ``dynamodb``…): apps
    #: choose their adapter by it
    kind: ClassVar[str]
    #: True when the store lives in this process (its calls are CPU-bound, not I/O-bound)
    in_process: ClassVar[bool] = False
    #: capability -> why it is missing on this engine (e.g. dynalite: "transactions").
    #: Scenarios needing a listed capability are reported "unsupported" for this engine.
    unsupported: dict[str, str]

    def __init__(self) -> None:
        self.unsupported = {}
        #: the run's seed, copied into every store (seeded ids, jitter)
        self.seed = 0

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
    def store(self, namespace: str = "") -> Store:
        """The engine's one shared location, labelled with ``namespace`` (for apps that
        isolate examples themselves). Valid after ``start``."""

    def isolated(self, namespace: str) -> Store:
        """A fresh place of its own for ``namespace`` (for apps that do not isolate).
        Engines that cannot isolate say so; the binding must then use app isolation."""
        raise EngineUnavailable(
            self.name, "cannot isolate examples itself: bind the app with isolation = 'app'"
        )

    def discard(self, store: Store) -> None:  # noqa: B027 - nothing to remove by default
        """Remove a place :meth:`isolated` made (called in the background)."""

    @abc.abstractmethod
    def info(self) -> EngineInfo:
        """Name, kind and version for reports (valid after ``start``)."""

    def _store(self, namespace: str, url: str | None, **options: Any) -> Store:
        return Store(self.name, self.kind, url, namespace, self.seed, options)

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
