"""The app binding: the one contract between Parity and the app under test.

Two halves meet here, and neither knows the other's internals:

- an **engine** provisions a store and describes it as a :class:`Store` — which engine,
  what kind of store, where it is (a URL or endpoint), which namespace, the run's seed —
  without knowing any app;
- an **app binding** (:class:`AppBinding`) turns a store into a running ASGI app and may
  supply hooks: prepare a store once (tables, schema, migrations), drop a namespace after
  an example, re-bind a warm app to the next namespace, mint auth headers for the
  contract suite and seed its namespaces with state, declare the control seams (manual
  clock, seeded ids, pause points) its parity mode offers.

Every hook has a default, so a plain app factory is a complete binding::

    # pyproject.toml:  [tool.parity]  app = "myapp.main:parity_app"
    def parity_app(store: parity.Store) -> FastAPI:
        return create_app(database_url=store.url)

Isolation decides who keeps examples apart. With ``isolation = "engine"`` (the default)
the engine hands every example its own place — a SQLite file, a PostgreSQL schema named
in the URL's ``search_path``, a DynamoDB table prefix — and removes it afterwards; the
app needs no namespace support at all. With ``isolation = "app"`` every example shares
the engine's one location and the app isolates by ``store.namespace`` itself (a key
prefix, a schema it picks), which is cheaper when the app can do it; then the app's
:meth:`AppBinding.drop_namespace` clears an example's data.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal

ASGIApp = Any  # Callable[[scope, receive, send], Awaitable[None]]
Isolation = Literal["engine", "app"]


class BindingError(ValueError):
    """A binding cannot be loaded or used as configured (a user mistake: exit 2)."""


@dataclass(frozen=True)
class Store:
    """What an engine provisioned for one namespace: everything an app needs to reach it.

    ``url`` is a database URL (``sqlite:///…``, ``postgresql://…``) or a service endpoint
    (``http://127.0.0.1:PORT`` for a DynamoDB emulator; ``None`` for real AWS or memory).
    ``options`` carries engine facts an app may use (``region``, ``table_prefix``, the
    base URL before isolation, credentials for emulators…); see each engine's docs.
    """

    engine: str
    kind: str
    url: str | None = None
    namespace: str = ""
    seed: int = 0
    options: Mapping[str, Any] = field(default_factory=dict)

    def with_namespace(self, namespace: str, **changes: Any) -> Store:
        return replace(self, namespace=namespace, **changes)

    def option(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)

    def describe(self) -> dict[str, Any]:
        """A JSON-able summary for traces and reports (no secrets: URLs are redacted)."""
        from parity.redact import redact_url

        return {
            "engine": self.engine,
            "kind": self.kind,
            "url": redact_url(self.url) if self.url else None,
            "namespace": self.namespace,
            "seed": self.seed,
        }


class AppBinding:
    """How Parity builds, resets and talks to one app. Subclass and override hooks.

    Only :meth:`build_app` is required. The class attributes say what the app offers:

    - ``name`` — identifies the app in traces; ``parity replay`` refuses a trace
      recorded with another app.
    - ``isolation`` — ``"engine"`` (default) or ``"app"``: see the module docstring.
    - ``controls`` — names of the control seams the app's parity mode serves (e.g.
      ``"clock"``, ``"ids"``, ``"pause"``: the pause protocol is in
      ``docs/your-app.md``). A scenario whose ``controls`` are not all offered is
      reported "unsupported" instead of failing on a missing route.
    """

    name: ClassVar[str] = ""
    isolation: ClassVar[Isolation] = "engine"
    controls: ClassVar[frozenset[str]] = frozenset()

    def build_app(self, store: Store) -> ASGIApp:
        """A fresh ASGI app on ``store`` (called per example, unless :meth:`rebind` reuses
        a released one)."""
        raise NotImplementedError(f"{type(self).__name__} must implement build_app(store)")

    def prepare_store(self, store: Store) -> None:
        """Once per engine start, before any example: create tables, run migrations.
        ``store.namespace`` is empty here. Default: nothing (the app prepares itself)."""

    def release_store(self, store: Store) -> None:
        """Once per engine stop: close pools, delete what :meth:`prepare_store` made."""

    def drop_namespace(self, app: ASGIApp, store: Store) -> None:
        """After an example (in the background): remove its data. Only called with
        ``isolation = "app"``; with engine isolation the engine removes the place."""

    def rebind(self, app: ASGIApp, store: Store) -> bool:
        """Re-point a released app at ``store`` (a new namespace) instead of building a
        new one; return ``False`` (the default) to always build. Why offer it: a web
        framework's first request per route costs milliseconds of one-off set-up."""
        return False

    def auth_headers(self, call: Callable[..., Any], store: Store, role: str) -> dict[str, str]:
        """Headers that authenticate the contract suite in a fresh namespace.

        ``call(method, path, json=None, headers=None)`` sends one request to this
        namespace's app and returns a :class:`parity.Response`; ``role`` is ``"user"``,
        or ``"admin"`` for operations the contract config marks admin-only. Default: no
        headers. Raise :class:`BindingError` with one line if set-up fails.
        """
        return {}

    def seed_contract(
        self,
        call: Callable[..., Any],
        store: Store,
        auth: Mapping[str, Mapping[str, str]],
    ) -> dict[str, list[str]]:
        """Optional: fill a fresh contract namespace with realistic state, so generated
        cases reach past "not found" into the store.

        Called once per contract namespace on every backend, after :meth:`auth_headers`;
        ``call`` is the same function, ``auth`` maps each role to the headers
        :meth:`auth_headers` returned. Create what the app's operations act on *through
        its own API* (the calls are recorded in failure traces and replayed), the same
        way on every backend. Return the values that now exist, by the name of the
        parameter that takes them (``{"card_id": [...], "If-Match": ["*"]}``: path,
        query or header parameters), ids as the app returned them: each case's
        parameters of those names are then mostly drawn from these (the first listed
        is what shrinking prefers; a negative part of a case stays as generated), and
        each backend gets its own ids through the normalisers. Default: nothing is
        made, ``{}`` (cases meet a namespace holding only the signed-up user).
        """
        return {}

    def describe(self) -> dict[str, Any]:
        """What a trace records about the binding (its name and class)."""
        cls = type(self)
        return {"name": self.name or cls.__name__, "binding": f"{cls.__module__}:{cls.__name__}"}


class FactoryBinding(AppBinding):
    """A binding made from a plain app factory: ``factory(store)`` or ``factory()``."""

    def __init__(self, factory: Callable[..., ASGIApp], spec: str = "") -> None:
        self.factory = factory
        self.spec = spec or f"{factory.__module__}:{getattr(factory, '__qualname__', factory)}"
        self._takes_store = _accepts_one_argument(factory)

    def build_app(self, store: Store) -> ASGIApp:
        return self.factory(store) if self._takes_store else self.factory()

    def describe(self) -> dict[str, Any]:
        return {"name": self.spec, "binding": self.spec}


def _accepts_one_argument(func: Callable[..., Any]) -> bool:
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return True
    positional = [
        p
        for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
    ]
    return bool(positional)


def as_binding(obj: Any, spec: str = "") -> AppBinding:
    """An :class:`AppBinding` instance or class, or a plain factory → a binding."""
    if isinstance(obj, AppBinding):
        return obj
    if isinstance(obj, type) and issubclass(obj, AppBinding):
        return obj()
    if callable(obj):
        return FactoryBinding(obj, spec)
    raise BindingError(f"app {spec!r} is neither an AppBinding nor a callable app factory")


def binding_name(binding: AppBinding) -> str:
    return str(binding.describe().get("name", ""))
