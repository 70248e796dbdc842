"""The crash seam on real backends, one request at a time (no harness).

A purchase with an Idempotency-Key writes 5 times: its claim (commit 1), then the
transaction, the card, the ``card.purchase`` event and the claim's completion (commit 2).
An atomic backend keeps whole commits or nothing; the split-outbox backend keeps the
card without its event when the process dies between its two transactions.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reference_app.backends.registry import create_backend
from reference_app.bootstrap import create_app
from reference_app.settings import Settings
from scenarios.migration_bugs.sql import SplitOutboxBackend

ADMIN = {"Authorization": "Bearer crash-admin"}
PURCHASE = {"type": "purchase", "amount_cents": 125}


def _settings(kind: str, tmp_path: Path) -> Settings:
    return Settings(
        backend=kind,
        database_url=f"sqlite:///{tmp_path / 'crash.db'}" if kind == "sqlite" else None,
        namespace="crash",
        parity_mode=True,
        id_seed=3,
        admin_token="crash-admin",
        secret="crash-seam-test-secret-0123456789abcdef",
    )


class Ledger:
    """A signed-up user with an active card on one app."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        body = {"name": "Crash", "email": "crash@example.com", "score": 750}
        user = client.post("/v1/users", json=body)
        assert user.status_code == 201, user.text
        self.auth = {"Authorization": f"Bearer {user.json()['access_token']}"}
        req = client.post(
            "/v1/card-requests", headers={**self.auth, "Idempotency-Key": "o"}, json={}
        )
        assert req.status_code == 201, req.text
        self.card = req.json()["card_id"]

    def purchase(self, key: str = "p") -> Any:
        path = f"/v1/cards/{self.card}/transactions"
        return self.client.post(path, headers={**self.auth, "Idempotency-Key": key}, json=PURCHASE)

    def arm(self, after_writes: int) -> None:
        resp = self.client.post("/_parity/crash/arm", json={"after_writes": after_writes})
        assert resp.status_code == 200, resp.text

    def restart(self) -> None:
        assert self.client.post("/_parity/restart").json() == {"restarted": True}

    def state(self) -> tuple[int, list[str]]:
        """The card's balance and the types of its events, read after a restart."""
        card = self.client.get(f"/v1/cards/{self.card}", headers=self.auth)
        assert card.status_code == 200, card.text
        events = self.client.get(f"/v1/events?subject={self.card}", headers=ADMIN)
        assert events.status_code == 200, events.text
        return card.json()["balance_cents"], [e["type"] for e in events.json()["items"]]


@pytest.fixture(params=["memory", "sqlite"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    with TestClient(create_app(_settings(request.param, tmp_path))) as client:
        yield Ledger(client)


ISSUED = ["ledger.card.issued"]
BOUGHT = ["ledger.card.issued", "ledger.card.purchase"]


@pytest.mark.parametrize("after_writes", [2, 3, 4, 5])
def test_a_crash_inside_a_commit_leaves_nothing_of_it(ledger: Ledger, after_writes: int) -> None:
    ledger.arm(after_writes)
    assert ledger.purchase().status_code == 500
    ledger.restart()
    assert ledger.state() == (0, ISSUED)
    # the claim (commit 1) did commit: the key is in flight until its timeout passes
    assert ledger.purchase().status_code == 409
    ledger.client.post("/_parity/clock/advance", json={"seconds": 61})
    assert ledger.purchase().status_code == 201
    assert ledger.state() == (125, BOUGHT)


def test_a_crash_after_the_last_write_keeps_everything(ledger: Ledger) -> None:
    ledger.arm(6)
    assert ledger.purchase().status_code == 500  # committed, but the answer was lost
    ledger.restart()
    assert ledger.state() == (125, BOUGHT)  # the memory store survived the restart too
    replay = ledger.purchase()
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"


def test_a_dead_app_answers_nothing_until_it_restarts(ledger: Ledger) -> None:
    ledger.arm(1)
    assert ledger.purchase().status_code == 500
    assert ledger.client.get(f"/v1/cards/{ledger.card}", headers=ledger.auth).status_code == 500
    ledger.restart()
    assert ledger.state() == (0, ISSUED)
    assert ledger.purchase().status_code == 201  # the claim died with commit 1


def test_the_crash_lands_on_the_next_request_only(ledger: Ledger) -> None:
    ledger.arm(2)
    body = {"name": "Other", "email": "other@example.com", "score": 750}
    assert ledger.client.post("/v1/users", json=body).status_code == 500  # 2 writes
    ledger.restart()
    assert ledger.purchase().status_code == 201
    assert ledger.client.post("/v1/users", json=body).status_code == 201  # never committed


def test_arming_needs_a_positive_write_count(ledger: Ledger) -> None:
    resp = ledger.client.post("/_parity/crash/arm", json={"after_writes": 0})
    assert resp.status_code == 422
    assert ledger.purchase().status_code == 201


def test_a_split_commit_keeps_the_state_change_without_its_event(tmp_path: Path) -> None:
    settings = _settings("sqlite", tmp_path)
    app = create_app(settings, backend=SplitOutboxBackend.from_settings(settings))
    with TestClient(app) as client:
        ledger = Ledger(client)
        ledger.arm(5)  # claim, transaction, card, completion: the event's transaction dies
        assert ledger.purchase().status_code == 500
        ledger.restart()
        assert type(app.state.container.backend) is SplitOutboxBackend  # reopened as itself
        assert ledger.state() == (125, ISSUED)


def test_production_backends_reopen_on_the_same_data(tmp_path: Path) -> None:
    for kind in ("memory", "sqlite"):
        backend = create_backend(_settings(kind, tmp_path))
        reopened = backend.reopen()
        assert type(reopened) is type(backend) and reopened is not backend
        assert getattr(reopened, "namespace", None) == "crash"
        reopened.close()
        backend.close()
