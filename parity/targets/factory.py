"""Target factories: one fresh, isolated target per Hypothesis example per backend.

An :class:`AppTargetFactory` asks its engine for a store for a new namespace, has the app
binding build the app on it and calls it in-process (or, with ``transport="http"``,
serves one app per run under uvicorn). A :class:`UrlTargetFactory` points at a server
someone else runs: isolation there is a reset URL (``[tool.parity.urls]``), if any.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from parity.binding import AppBinding, Store
from parity.engines.base import Engine
from parity.targets.asgi import AsgiTarget
from parity.targets.base import Target
from parity.targets.http import HttpTarget, serve

_log = logging.getLogger("parity.targets")


class TargetFactory(Protocol):
    name: str

    def new_target(self, namespace: str) -> Target: ...

    def store_of(self, target: Target) -> Store: ...

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
        binding: AppBinding,
        transport: str = "asgi",
        build: Callable[[Store], Any] | None = None,
    ) -> None:
        self.name = name
        self.engine = engine
        self.binding = binding
        self.transport = transport
        #: builds an app for a store; default the binding's (planted faults wrap it)
        self._build = build or binding.build_app
        self._stack = contextlib.ExitStack()
        self._shared: _Shared | None = None
        self._shared_store: Store | None = None
        #: released apps that the binding can rebind to a new namespace
        self._warm: list[Any] = []
        self._lock = threading.Lock()
        #: the store each live target's app runs on (to drop it when released)
        self._stores: dict[int, Store] = {}
        #: one thread drops released namespaces, in order, off the examples' path
        self._dropper: ThreadPoolExecutor | None = None
        #: warm reuse only when the binding implements rebind (a custom builder's apps,
        #: e.g. a planted fault's, are never rebound)
        self._rebinds = build is None and type(binding).rebind is not AppBinding.rebind

    def new_store(self, namespace: str) -> Store:
        if self.binding.isolation == "app":
            return self.engine.store(namespace)
        return self.engine.isolated(namespace)

    def build_app(self, store: Store) -> Any:
        with self._lock:
            warm = self._warm.pop() if self._warm else None
        if warm is not None and self.binding.rebind(warm, store):
            return warm
        return self._build(store)

    def new_target(self, namespace: str) -> Target:
        if self.transport == "http":
            if self._shared is None:
                store = self.new_store(namespace)
                url = self._stack.enter_context(serve(self.build_app(store)))
                self._shared = _Shared(HttpTarget(url, self.name))
                self._shared_store = store
            return self._shared.get()
        store = self.new_store(namespace)
        target = AsgiTarget(
            self.build_app(store), self.name, blocking_io=not self.engine.in_process
        )
        with self._lock:
            self._stores[id(target)] = store
        return target

    def store_of(self, target: Target) -> Store:
        """The store ``target``'s app runs on (for hooks such as ``auth_headers``)."""
        with self._lock:
            store = self._stores.get(id(target))
        if store is None and self._shared is not None:
            store = self._shared_store
        if store is None:
            raise KeyError(f"{self.name}: not a live target of this factory")
        return store

    def release(self, target: Target) -> None:
        """Close an example's target and drop its namespace, so the store only ever holds
        the examples still running."""
        if self._shared is not None:
            return
        target.close()
        app = getattr(target, "app", None)
        with self._lock:
            store = self._stores.pop(id(target), None)
            if store is None:
                return
            if self._dropper is None:
                self._dropper = ThreadPoolExecutor(1, thread_name_prefix=f"drop-{self.name}")
            # In the background: the next example does not wait for a Scan and deletes.
            self._dropper.submit(self._drop, app, store)

    def _drop(self, app: Any, store: Store) -> None:
        try:
            if self.binding.isolation == "app":
                self.binding.drop_namespace(app, store)
            else:
                self.engine.discard(store)
        except Exception as exc:  # leftover data costs speed, never correctness
            _log.warning("%s: could not drop an example's namespace: %s", self.name, exc)
        if self._rebinds and app is not None:
            with self._lock:  # only now: the drop may still have needed the app's wiring
                self._warm.append(app)

    def flush(self) -> None:
        """Wait until every released namespace is dropped (and its app is warm again)."""
        with self._lock:
            dropper = self._dropper
        if dropper is not None:
            dropper.submit(lambda: None).result()

    def close(self) -> None:
        """End of a session: wait for pending drops (every namespace is gone before an
        engine stops) and stop a served app. The factory stays usable for the next one."""
        with self._lock:
            dropper, self._dropper = self._dropper, None
            self._warm.clear()
        if dropper is not None:
            dropper.shutdown(wait=True)
        if self._shared is not None:
            self._shared.target.close()
            self._shared = None
        self._stack.close()


class UrlTargetFactory:
    """A server someone else runs. ``reset`` (``"POST /_test/reset"``) is sent before
    every example so examples do not see each other's data; without it the server is
    shared by every example (stateful scenarios refuse such a backend)."""

    def __init__(self, name: str, base_url: str, reset: str | None = None) -> None:
        self.name = name
        self.reset = reset
        self._target = HttpTarget(base_url, name)
        self._store = Store(name, "url", base_url)

    @property
    def isolates(self) -> bool:
        return self.reset is not None

    def new_target(self, namespace: str) -> Target:
        if self.reset is not None:
            method, path = self.reset.split()
            response = self._target.request(method, path)
            if response.status >= 300:
                raise RuntimeError(
                    f"{self.name}: reset {self.reset} answered {response.status}: "
                    f"{response.text[:200]}"
                )
        return self._target

    def store_of(self, target: Target) -> Store:
        return self._store

    def release(self, target: Target) -> None:
        return None

    def close(self) -> None:
        self._target.close()
