"""Target factories: one fresh, isolated target per Hypothesis example per backend.

An :class:`AppTargetFactory` builds the app under test from an engine's settings for a new
namespace and calls it in-process (or, with ``transport="http"``, serves one app per run
under uvicorn). A :class:`UrlTargetFactory` points at a server someone else runs: no
per-example isolation is possible there, scenarios isolate by creating fresh users.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from parity.engines.base import Engine
from parity.targets.asgi import AsgiTarget
from parity.targets.base import Target
from parity.targets.http import HttpTarget, serve
from reference_app.service_layer.unit_of_work import Backend

AppFactory = Callable[[Any], Any]  # Settings -> ASGI app
#: backends whose storage lives in this process: calls are CPU-bound, not I/O-bound
IN_PROCESS_BACKENDS = frozenset({"memory", "sqlite"})
_log = logging.getLogger("parity.targets")


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
        #: released apps that can be rebound to a new namespace (``app.state.parity_rebind``)
        self._warm: list[Any] = []
        self._lock = threading.Lock()
        #: one thread drops released namespaces, in order, off the examples' path
        self._dropper: ThreadPoolExecutor | None = None

    def build_app(self, namespace: str) -> Any:
        settings = self.engine.settings(namespace, **self.overrides)
        # An engine may build its app itself (planted faults wrap the backend or the app).
        custom = getattr(self.engine, "build_app", None)
        if custom is not None:
            return custom(self.app_factory, settings)
        with self._lock:
            warm = self._warm.pop() if self._warm else None
        if warm is not None:
            _rebind_of(warm)(settings)  # type: ignore[misc]
            return warm
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
        """Close an example's target and drop its namespace, so the store only ever holds
        the examples still running (see ``Backend.drop_namespace``)."""
        if self._shared is not None:
            return
        target.close()
        backend = _backend_of(target)
        if backend is not None:
            # In the background: the next example does not wait for a Scan and deletes.
            with self._lock:
                if self._dropper is None:
                    self._dropper = ThreadPoolExecutor(1, thread_name_prefix=f"drop-{self.name}")
                self._dropper.submit(self._drop, backend)
        app = getattr(target, "app", None)
        if _rebind_of(app) is not None:
            with self._lock:
                self._warm.append(app)  # the next example rebinds it instead of a new app

    def _drop(self, backend: Backend) -> None:
        try:
            backend.drop_namespace()
        except Exception as exc:  # leftover data costs speed, never correctness
            _log.warning("%s: could not drop an example's namespace: %s", self.name, exc)

    def close(self) -> None:
        """End of a session: wait for pending drops (every namespace is gone before an
        engine stops) and stop a served app. The factory stays usable for the next one."""
        with self._lock:
            dropper, self._dropper = self._dropper, None
        if dropper is not None:
            dropper.shutdown(wait=True)
        if self._shared is not None:
            self._shared.target.close()
            self._shared = None
        self._stack.close()


def _rebind_of(app: Any) -> Callable[[Any], Any] | None:
    """An app's ``parity_rebind(settings)``, if it offers one: apps that can be re-pointed
    at a fresh namespace are reused across examples (see ``reference_app.bootstrap``)."""
    rebind = getattr(getattr(app, "state", None), "parity_rebind", None)
    return rebind if callable(rebind) else None


def _backend_of(target: Target) -> Backend | None:
    """The storage backend of an in-process app built by :func:`create_app` (or ``None``
    for an app without a container, e.g. someone else's ASGI app)."""
    container = getattr(getattr(getattr(target, "app", None), "state", None), "container", None)
    backend = getattr(container, "backend", None)
    return backend if isinstance(backend, Backend) else None


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
