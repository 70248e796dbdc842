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
- ``seed_contract`` — and gives it cards with history, a blocked card, another user's
  pending, approved and rejected requests, held idempotency keys and their events;
- controls — parity mode serves the manual clock, seeded ids, pause points and a crash
  seam (kill a request after its k-th write, restart the app on the same store).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
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
#: the other user a contract namespace holds: mid tier, so its card requests wait for an admin
APPLICANT = {"name": "Pending Applicant", "email": "applicant@parity.example", "score": 600}
#: store kinds the reference app has an adapter for
KINDS = ("memory", "sqlite", "postgres", "mysql", "dynamodb", "firestore")


class ReferenceBinding(AppBinding):
    name = "reference_app"
    isolation = "app"
    controls = frozenset({"clock", "ids", "pause", "outbox", "transport", "crash"})

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

    def seed_contract(
        self, call: Any, store: Store, auth: Mapping[str, Mapping[str, str]]
    ) -> dict[str, list[str]]:
        """Realistic state for a contract namespace, through the API (see module doc).

        The contract user's own objects come first in every list (what shrinking
        prefers, and what its token may read); the applicant's follow, so ownership
        checks (404 for another's card) and admin decisions on pending requests are
        reached too. Every id comes from an answer, so each backend maps its own. Only
        writes: a read here would hide a planted read fault from the case that shows it
        (a failure trace replays the seeding first, and stops at its first divergence)."""
        seeding = _Seeding(call, store.engine, dict(auth.get("user", {})))
        own = [seeding.card_request(seeding.user, f"seed-own-{n}") for n in (1, 2)]
        me = own[0]["user_id"]
        history = own[0]["card_id"]
        keys = [f"seed-tx-{n}" for n in range(1, len(_HISTORY) + 1)]
        transactions = [
            seeding.json(
                "POST",
                f"/v1/cards/{history}/transactions",
                201,
                body,
                {**seeding.user, "Idempotency-Key": key},
            )["id"]
            for key, body in zip(keys, _HISTORY, strict=True)
        ]
        etags = [seeding.etag]
        blocked = own[1]["card_id"]
        seeding.json(
            "PATCH",
            f"/v1/cards/{blocked}",
            200,
            {"status": "blocked"},
            {**seeding.user, "If-Match": "*"},
        )
        etags.append(seeding.etag)
        applicant = seeding.json("POST", "/v1/users", 201, APPLICANT)
        theirs = {"Authorization": f"Bearer {applicant['access_token']}"}
        pending = [seeding.card_request(theirs, f"seed-theirs-{n}") for n in range(1, 5)]
        admin = {"Authorization": f"Bearer {ADMIN}"}
        approved = seeding.json(
            "POST", f"/v1/card-requests/{pending[2]['id']}/approve", 200, headers=admin
        )
        seeding.json("POST", f"/v1/card-requests/{pending[3]['id']}/reject", 200, headers=admin)
        cards = [history, blocked, approved["card_id"]]
        return {
            "user_id": [me, applicant["id"]],
            "card_id": cards,
            "transaction_id": transactions,
            "request_id": [r["id"] for r in own + pending],
            # the contract user's current versions, and "any version"
            "If-Match": ["*", *(e for e in etags if e)],
            # a held key (one, so half the cases still create): a same-body retry
            # replays, another body is refused (422)
            "Idempotency-Key": keys[:1],
            "subject": [*cards, me],
        }

    def destinations(self, store: Store) -> Any:
        """The queue and bus ``prepare_store`` made for ``store`` (tests read them)."""
        return self._destinations.get((store.engine, store.url))


#: the seeded card's history: purchases and a payment, each under a held Idempotency-Key
_HISTORY = (
    {"type": "purchase", "amount_cents": 2500, "description": "groceries"},
    {"type": "payment", "amount_cents": 1000},
    {"type": "purchase", "amount_cents": 799, "description": None},
)


class _Seeding:
    """The calls ``seed_contract`` makes, each checked: a refused seeding call is a
    binding failure (one line), never a contract run on half-made state."""

    def __init__(self, call: Any, engine: str, user: dict[str, str]) -> None:
        self.call = call
        self.engine = engine
        self.user = user
        #: the ETag of the last answer (a card's version after a change)
        self.etag = ""

    def json(
        self,
        method: str,
        path: str,
        expected: int,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        response = self.call(method, path, json=body, headers=dict(headers or self.user))
        data = response.json()
        self.etag = response.header("etag") or ""
        if response.status != expected or not isinstance(data, dict):
            raise BindingError(
                f"{self.engine}: contract seeding {method} {path} answered "
                f"{response.status}: {response.text[:200]}"
            )
        return data

    def card_request(self, headers: Mapping[str, str], key: str) -> dict[str, Any]:
        return self.json("POST", "/v1/card-requests", 201, {}, {**headers, "Idempotency-Key": key})


binding = ReferenceBinding()
