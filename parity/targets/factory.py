"""Target factories: one fresh, isolated target per Hypothesis example per backend.

An :class:`AppTargetFactory` builds the app under test from an engine's settings for a new
namespace and calls it in-process (or, with ``transport="http"``, serves one app per run
under uvicorn). A :class:`UrlTargetFactory` points at a server someone else runs: no
per-example isolation is possible there, scenarios isolate by creating fresh users.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, Protocol

from parity.engines.base import Engine
from parity.targets.asgi import AsgiTarget
from parity.targets.base import Target
from parity.targets.http import HttpTarget, serve

AppFactory = Callable[[Any], Any]  # Settings -> ASGI app
#: backends whose storage lives in this process: calls are CPU-bound, not I/O-bound
IN_PROCESS_BACKENDS = frozenset({"memory", "sqlite"})


class TargetFactory(Protocol):
    name: str

    def new_target(self, namespace: str) -> Target: ...

    def release(self, target: Target) -> None: ...

    def close(self) -> None: ...


class _Shared:
    """A target shared by every example (URL and served-HTTP modes): release is a no-op."""

    def __init__(self, target: Target) -> None:
        self.target = target

    def get(self) -> Target:
        return self.target


class AppTargetFactory:
    def __init__(
        self,
        name: str,
        engine: Engine,
        app_factory: AppFactory,
        overrides: dict[str, Any],
        transport: str = "asgi",
    ) -> None:
        self.name = name
        self.engine = engine
        self.app_factory = app_factory
        self.overrides = overrides
        self.transport = transport
        self._stack = contextlib.ExitStack()
        self._shared: _Shared | None = None

    def build_app(self, namespace: str) -> Any:
        settings = self.engine.settings(namespace, **self.overrides)
        # An engine may build its app itself (planted faults wrap the backend or the app).
        custom = getattr(self.engine, "build_app", None)
        if custom is not None:
            return custom(self.app_factory, settings)
        return self.app_factory(settings)

    def new_target(self, namespace: str) -> Target:
        if self.transport == "http":
            if self._shared is None:
                url = self._stack.enter_context(serve(self.build_app(namespace)))
                self._shared = _Shared(HttpTarget(url, self.name))
            return self._shared.get()
        in_process_storage = self.engine.backend in IN_PROCESS_BACKENDS
        return AsgiTarget(self.build_app(namespace), self.name, blocking_io=not in_process_storage)

    def release(self, target: Target) -> None:
        if self._shared is None:
            target.close()

    def close(self) -> None:
        if self._shared is not None:
            self._shared.target.close()
        self._stack.close()


class UrlTargetFactory:
    def __init__(self, name: str, base_url: str) -> None:
        self.name = name
        self._target = HttpTarget(base_url, name)

    def new_target(self, namespace: str) -> Target:
        return self._target

    def release(self, target: Target) -> None:
        return None

    def close(self) -> None:
        self._target.close()
