"""An in-process client of the reference app on each engine, with small helpers.

Each test gets its own app on a fresh namespace of a shared engine, in parity mode (manual
clock, pause points) so time and interleavings are in the test's hands.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reference_app.adapters.clock import ManualClock
from reference_app.adapters.pause import PauseController
from reference_app.bootstrap import Container, create_app
from reference_app.transports.memory import MemoryTransport
from tests.conftest import API_ENGINES
from tests.engine_pool import engine_or_skip, fresh_namespace, settings_for

ADMIN = "test-admin-token"
_emails = itertools.count()


class Ledger:
    """A TestClient plus the container behind it and shortcuts for common set-ups."""

    def __init__(self, client: TestClient, container: Container, engine: str) -> None:
        self.client = client
        self.container = container
        self.engine = engine
        self._keys = itertools.count()

    @property
    def clock(self) -> ManualClock:
        assert isinstance(self.container.clock, ManualClock)
        return self.container.clock

    @property
    def pause(self) -> PauseController:
        assert isinstance(self.container.pause, PauseController)
        return self.container.pause

    @property
    def transport(self) -> MemoryTransport:
        assert isinstance(self.container.transport, MemoryTransport)
        return self.container.transport

    def key(self) -> str:
        return f"key-{next(self._keys)}"

    @staticmethod
    def auth(token: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", **headers}

    def admin(self, **headers: str) -> dict[str, str]:
        return self.auth(ADMIN, **headers)

    def sign_up(self, score: int = 750, name: str = "Ada") -> dict[str, Any]:
        email = f"user{next(_emails)}@example.com"
        r = self.client.post("/v1/users", json={"name": name, "email": email, "score": score})
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    def request_card(self, token: str, key: str | None = None) -> dict[str, Any]:
        r = self.client.post(
            "/v1/card-requests", headers=self.auth(token, **{"Idempotency-Key": key or self.key()})
        )
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    def user_with_card(self, score: int = 750) -> tuple[str, str]:
        """(token, card_id) of a fresh user whose card was approved at once."""
        user = self.sign_up(score)
        req = self.request_card(user["access_token"])
        if req["card_id"] is None:
            r = self.client.post(f"/v1/card-requests/{req['id']}/approve", headers=self.admin())
            assert r.status_code == 200, r.text
            req = r.json()
        return user["access_token"], req["card_id"]

    def post_txn(
        self,
        token: str,
        card_id: str,
        kind: str,
        amount: int,
        key: str | None = None,
        **headers: str,
    ) -> Any:
        return self.client.post(
            f"/v1/cards/{card_id}/transactions",
            json={"type": kind, "amount_cents": amount},
            headers=self.auth(token, **{"Idempotency-Key": key or self.key()}, **headers),
        )

    def card(self, token: str, card_id: str) -> dict[str, Any]:
        r = self.client.get(f"/v1/cards/{card_id}", headers=self.auth(token))
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def events(self, subject: str | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 100}
            if subject:
                params["subject"] = subject
            if cursor:
                params["cursor"] = cursor
            r = self.client.get("/v1/events", params=params, headers=self.admin())
            assert r.status_code == 200, r.text
            items += r.json()["items"]
            cursor = r.json()["next_cursor"]
            if not cursor:
                return items


def make_ledger(engine_name: str, **overrides: Any) -> Iterator[Ledger]:
    engine_name, _, auth = engine_name.partition("+")
    if auth == "cognito":  # tokens from a Cognito pool on the moto server
        overrides.update(auth="cognito", endpoint_url=engine_or_skip(COGNITO_HOST).store().url)
    engine = engine_or_skip(engine_name)
    settings = settings_for(
        engine,
        fresh_namespace(),
        parity_mode=True,
        admin_token=ADMIN,
        secret="test-secret",
        **overrides,
    )
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Ledger(
            client, app.state.container, engine_name if not auth else f"{engine_name}+{auth}"
        )


#: The Firestore emulator runs the whole API suite too: measured on 2 busy cores, its 86
#: tests take ~50 s plus ~10-30 s for the emulator's JVM to start (once per session).
FIRESTORE_API_ENGINES = ["firestore@emulator"]


#: One run with the Cognito verifier (``--auth cognito``), on the cheapest backend: the
#: verifier is what differs, so one backend is enough. Its pool lives on this engine.
COGNITO_API_RUNS = ["memory+cognito"]
COGNITO_HOST = "dynamodb@moto"


@pytest.fixture(params=[*API_ENGINES, *FIRESTORE_API_ENGINES, *COGNITO_API_RUNS])
def ledger(request: pytest.FixtureRequest) -> Iterator[Ledger]:
    yield from make_ledger(request.param)
