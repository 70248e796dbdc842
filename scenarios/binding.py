"""The reference app's binding to Parity: how a store becomes a card-ledger app.

Written with Parity's public API only, the way any team binds its own app. It uses
every hook, because the reference app can do each of them cheaply:

- app isolation — the app keeps examples apart itself (a key prefix on DynamoDB, a
  schema on PostgreSQL, an ``ns`` column on SQLite), so no example creates a table;
- ``prepare_store`` — the DynamoDB table (and, with ``REFERENCE_APP_TRANSPORT=sqs`` or
  ``eventbridge``, the queue and bus) once per engine, with the app's own provisioning;
- ``drop_namespace`` / ``rebind`` — an example's data is deleted after it, and its app is
  re-pointed at the next namespace instead of being built again;
- ``auth_headers`` — the contract suite signs a user up in every namespace;
- controls — parity mode serves the manual clock, seeded ids and pause points.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from parity import AppBinding, BindingError, Store
from reference_app.bootstrap import create_app
from reference_app.settings import TRANSPORTS, Settings

#: one JWT/cursor secret for every backend, so tokens and cursors are comparable
SECRET = "parity-shared-secret-do-not-use-in-production"
#: the admin bearer token of every parity-mode app (scenarios use it for admin routes)
ADMIN = "parity-admin"
#: the contract suite's user: top tier, so a card is approved at once
CONTRACT_USER = {"name": "Contract Runner", "email": "contract@parity.example", "score": 750}
#: store kinds the reference app has an adapter for
KINDS = ("memory", "sqlite", "postgres", "mysql", "dynamodb", "firestore")


class ReferenceBinding(AppBinding):
    name = "reference_app"
    isolation = "app"
    controls = frozenset({"clock", "ids", "pause", "outbox", "transport"})

    def __init__(self, transport: str | None = None) -> None:
        #: the outbox transport on AWS-shaped stores (``REFERENCE_APP_TRANSPORT``)
        self.transport = transport or os.environ.get("REFERENCE_APP_TRANSPORT", "memory")
        if self.transport not in TRANSPORTS:
            raise BindingError(
                f"REFERENCE_APP_TRANSPORT={self.transport!r}: choose one of {TRANSPORTS}"
            )
        #: (engine, endpoint) -> the queue and bus prepare_store made there
        self._destinations: dict[tuple[str, str | None], Any] = {}
        self._lock = threading.Lock()

    # Store -> Settings -----------------------------------------------------------------

    def settings_for(self, store: Store, **overrides: Any) -> Settings:
        """The app's settings for a store, in parity mode (identical on every backend
        but for where the data lives)."""
        parity = {
            "parity_mode": True,
            "id_seed": store.seed,
            "admin_token": ADMIN,
            "secret": SECRET,
        }
        return self.store_settings(store, **{**parity, **overrides})

    def store_settings(self, store: Store, **overrides: Any) -> Settings:
        """The app's settings for where ``store`` is, and nothing else (production
        defaults for clock, ids and secrets): the tests of the app itself use these."""
        if store.kind not in KINDS:
            raise BindingError(
                f"{store.engine}: the reference app has no adapter for a {store.kind!r} "
                f"store (it runs on {', '.join(KINDS)})"
            )
        values: dict[str, Any] = {"backend": store.kind, "namespace": store.namespace}
        if store.kind in ("sqlite", "postgres", "mysql"):
            values["database_url"] = store.url
        if store.kind == "firestore":
            values.update(
                firestore_project=store.option("project"),
                firestore_emulator_host=store.option("emulator_host"),
            )
        if store.kind == "dynamodb":
            values.update(
                endpoint_url=store.url,
                aws_region=store.option("region", "us-east-1"),
                table_prefix=store.option("table_prefix", "ledger"),
            )
            made = self._destinations.get((store.engine, store.url))
            if made is not None:
                values.update(
                    transport=self.transport,
                    queue_url=made.queue_url,
                    event_bus_name=made.event_bus_name,
                )
        values.update(overrides)
        return Settings(**values)

    # hooks ---------------------------------------------------------------------------

    def build_app(self, store: Store) -> Any:
        return create_app(self.settings_for(store))

    def prepare_store(self, store: Store) -> None:
        if store.kind != "dynamodb":
            return  # SQL namespaces migrate themselves when first opened
        from reference_app.backends.dynamodb.tables import ensure_tables_for

        ensure_tables_for(self.settings_for(store))
        if self.transport != "memory":
            from reference_app.transports.provisioning import ensure_destinations

            made = ensure_destinations(self.settings_for(store))
            with self._lock:
                self._destinations[(store.engine, store.url)] = made

    def release_store(self, store: Store) -> None:
        if store.kind == "postgres":
            from reference_app.backends.postgres import close_pools

            close_pools(store.url)
        if store.kind == "mysql":
            from reference_app.backends.mysql import close_pools as close_mysql_pools

            close_mysql_pools(store.url)
        with self._lock:
            made = self._destinations.pop((store.engine, store.url), None)
        if made is not None:
            from reference_app.transports.provisioning import delete_destinations

            delete_destinations(self.settings_for(store))

    def drop_namespace(self, app: Any, store: Store) -> None:
        while not hasattr(app, "state") and hasattr(app, "app"):
            app = app.app  # a middleware around the app (a planted fault)
        container = getattr(getattr(app, "state", None), "container", None)
        if container is not None:
            container.backend.drop_namespace()

    def rebind(self, app: Any, store: Store) -> bool:
        app.state.parity_rebind(self.settings_for(store))
        return True

    def auth_headers(self, call: Any, store: Store, role: str) -> dict[str, str]:
        if role == "admin":
            return {"Authorization": f"Bearer {ADMIN}"}
        response = call("POST", "/v1/users", json=CONTRACT_USER)
        body = response.json()
        if response.status != 201 or not isinstance(body, dict) or "access_token" not in body:
            raise BindingError(
                f"{store.engine}: contract sign-up answered {response.status}: "
                f"{response.text[:200]}"
            )
        return {"Authorization": f"Bearer {body['access_token']}"}

    def destinations(self, store: Store) -> Any:
        """The queue and bus ``prepare_store`` made for ``store`` (tests read them)."""
        return self._destinations.get((store.engine, store.url))


binding = ReferenceBinding()
